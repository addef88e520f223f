import { connect } from 'node:net';
import { describe, expect } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { ADMIN_TOKEN, asAdmin, asReader, buildTestApp, READ_TOKEN } from '../helpers/app.ts';
import { dbTest as test } from '../helpers/database.ts';

const errorShape = { error: { code: expect.any(String), message: expect.any(String) } };

/** Sends raw bytes to a listening app and returns what came back before the socket closed. */
function rawRequest(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(request));
    let answer = '';
    socket.on('data', (chunk) => {
      answer += chunk;
    });
    socket.on('close', () => resolve(answer));
    socket.on('error', (error) => (answer ? resolve(answer) : reject(error)));
  });
}

function directives(policy: string | undefined): Map<string, string> {
  return new Map(
    (policy ?? '')
      .split(';')
      .map((part) => part.trim())
      .filter(Boolean)
      .map((part) => {
        const [name = '', ...values] = part.split(/\s+/);
        return [name, values.join(' ')];
      }),
  );
}

describe('security headers', () => {
  test('API answers allow nothing to load, cannot be framed or sniffed, and are never stored', async ({
    database,
  }) => {
    const app = await buildTestApp(database);
    for (const [url, headers] of [
      ['/api/contacts', asReader],
      ['/api/sync/sessions', asReader],
      ['/api/audit', asAdmin],
      ['/api/keys', asAdmin],
      ['/api/connections/hubspot', asReader],
      ['/api/errors', {}],
      ['/api/no-such-thing', asReader],
    ] as const) {
      const response = await app.inject({ method: 'GET', url, headers });
      const policy = directives(response.headers['content-security-policy'] as string);
      expect(policy.get('default-src'), url).toBe("'none'");
      expect(policy.get('frame-ancestors'), url).toBe("'none'");
      expect(response.headers['x-content-type-options'], url).toBe('nosniff');
      expect(response.headers['x-frame-options'], url).toBe('DENY');
      expect(response.headers['cache-control'], url).toBe('no-store');
    }
    const health = await app.inject({ method: 'GET', url: '/healthz' });
    expect(health.headers['x-content-type-options']).toBe('nosniff');
    expect(health.headers['cache-control']).toBeUndefined();
    await app.close();
  });

  test('the dashboard keeps its own policy: its scripts and import map run, nothing frames it', async ({
    database,
  }) => {
    const app = await buildTestApp(database);
    const page = await app.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).toBe(200);
    const policy = directives(page.headers['content-security-policy'] as string);
    expect(policy.get('default-src')).toBe("'self'");
    expect(policy.get('script-src')).toMatch(/^'self' 'sha256-[\w+/=]+'$/);
    expect(policy.get('connect-src')).toBe("'self'");
    expect(policy.get('frame-ancestors')).toBe("'none'");
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    const module = await app.inject({ method: 'GET', url: '/vendor/preact.mjs' });
    expect(module.statusCode).toBe(200);
    expect(module.headers['x-content-type-options']).toBe('nosniff');
    await app.close();
  });

  test('/docs has a policy that lets swagger-ui run, and cannot be framed either', async ({ database }) => {
    const app = await buildTestApp(database);
    const docs = await app.inject({ method: 'GET', url: '/docs/' });
    expect(docs.statusCode).toBe(200);
    const policy = directives(docs.headers['content-security-policy'] as string);
    expect(policy.get('script-src')).toContain("'self'");
    expect(policy.get('frame-ancestors')).toBe("'none'");
    expect(policy.has('upgrade-insecure-requests')).toBe(false);
    await app.close();
  });
});

describe("refusals in the API's error shape", () => {
  test('a text/plain body is 415 where the route takes JSON', async ({ database }) => {
    const app = await buildTestApp(database);
    const response = await app.inject({
      method: 'POST',
      url: '/api/contacts/sync',
      headers: { ...asAdmin, 'content-type': 'text/plain' },
      payload: '{"mode":"full"}',
    });
    expect(response.statusCode).toBe(415);
    expect(response.json()).toEqual({
      error: { code: 'unsupported_media_type', message: expect.any(String) },
    });
    // Still checked after the token: strangers learn nothing.
    const stranger = await app.inject({
      method: 'POST',
      url: '/api/contacts/sync',
      headers: { 'content-type': 'text/plain' },
      payload: 'x',
    });
    expect(stranger.statusCode).toBe(401);
    await app.close();
  });

  test('a 403 raised by any plugin says forbidden in the API shape', async ({ database }) => {
    const config = loadConfig({ READ_TOKEN, LOG_LEVEL: 'silent' });
    const app = await buildApp({
      config,
      logger: createLogger({ level: 'silent' }),
      database,
      adminToken: ADMIN_TOKEN,
    });
    // What @fastify/static (through `send`) raises for a path it refuses to serve.
    app.get('/refused', async () => {
      throw Object.assign(new Error('Forbidden'), { statusCode: 403, status: 403 });
    });
    await app.ready();
    const response = await app.inject({ method: 'GET', url: '/refused' });
    expect(response.statusCode).toBe(403);
    expect(response.json()).toEqual({ error: { code: 'forbidden', message: 'Forbidden' } });
    await app.close();
  });

  test("headers or a URL over Node's limit are 431 in the API shape", async ({ database }) => {
    const app = await buildTestApp(database);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as { port: number };
    try {
      for (const request of [
        `GET /api/contacts HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
        `GET /api/contacts?q=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      ]) {
        const answer = await rawRequest(port, request);
        expect(answer).toMatch(/^HTTP\/1\.1 431 /);
        const body = answer.slice(answer.indexOf('\r\n\r\n') + 4);
        expect(JSON.parse(body)).toEqual({
          error: { code: 'headers_too_large', message: expect.any(String) },
        });
      }
    } finally {
      await app.close();
    }
  });
});

describe("Fastify's own refusals", () => {
  test('a path parameter over maxParamLength is 414, and bad percent-encoding 400, in the API shape', async ({
    database,
  }) => {
    const app = await buildTestApp(database);
    const long = await app.inject({
      method: 'GET',
      url: `/api/contacts/${'1'.repeat(150)}`,
      headers: asReader,
    });
    expect(long.statusCode).toBe(414);
    expect(long.json()).toEqual(errorShape);
    expect(long.json().error.code).toBe('uri_too_long');
    const badUrl = await app.inject({ method: 'GET', url: '/api/contacts/%E0%A4%A', headers: asReader });
    expect(badUrl.statusCode).toBe(400);
    expect(badUrl.json()).toEqual(errorShape);
    await app.close();
  });
});
