import type { FastifyInstance } from 'fastify';
import { describe, expect } from 'vitest';
import { DEFAULT_RATE_LIMITS } from '../../src/http/rate-limits.ts';
import { asAdmin, asReader, buildTestApp } from '../helpers/app.ts';
import { dbTest as test } from '../helpers/database.ts';

const { api, authFailures } = DEFAULT_RATE_LIMITS;
const guesser = '198.51.100.7';
const neighbour = '198.51.100.8';

/** Health checks (`times` each) and HubSpot's webhook answer `address` as if it had never been limited. */
async function expectExempt(app: FastifyInstance, address: string, times = 1): Promise<void> {
  for (let n = 0; n < times; n++) {
    for (const url of ['/healthz', '/readyz'])
      expect((await app.inject({ method: 'GET', url, remoteAddress: address })).statusCode).toBe(200);
  }
  const webhook = await app.inject({
    method: 'POST',
    url: '/webhooks/hubspot',
    headers: { 'content-type': 'application/json' },
    payload: '[]',
    remoteAddress: address,
  });
  expect(webhook.statusCode).not.toBe(429);
}

describe('auth failures are throttled per address', () => {
  test(`after ${authFailures.max} 401s an address gets 429 with when to retry, its good token included`, async ({
    database,
  }) => {
    const app = await buildTestApp(database);
    const guess = (n: number) =>
      app.inject({
        method: 'GET',
        url: '/api/contacts',
        headers: { authorization: `Bearer guess-${n}` },
        remoteAddress: guesser,
      });
    for (let n = 0; n < authFailures.max; n++) expect((await guess(n)).statusCode).toBe(401);

    const refused = await guess(authFailures.max);
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toEqual({
      error: { code: 'rate_limited', message: expect.stringMatching(/retry in \d+ s/) },
    });
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(authFailures.windowMs / 1000);

    // The right token does not help the guessing address, not even over the WebSocket's query token…
    const right = await app.inject({
      method: 'GET',
      url: '/api/contacts',
      headers: asReader,
      remoteAddress: guesser,
    });
    expect(right.statusCode).toBe(429);
    const ws = await app.inject({ method: 'GET', url: '/ws?token=guess', remoteAddress: guesser });
    expect(ws.statusCode).toBe(429);
    // …while another address is untouched.
    const other = await app.inject({
      method: 'GET',
      url: '/api/contacts',
      headers: asReader,
      remoteAddress: neighbour,
    });
    expect(other.statusCode).toBe(200);

    // Health checks and HubSpot's webhooks are never limited, whatever the address did.
    await expectExempt(app, guesser);
    await app.close();
  });

  test('successful and forbidden calls do not use up the budget', async ({ database }) => {
    const app = await buildTestApp(database);
    for (let n = 0; n < authFailures.max + 5; n++) {
      const read = await app.inject({
        method: 'GET',
        url: '/api/errors',
        headers: asReader,
        remoteAddress: guesser,
      });
      expect(read.statusCode).toBe(200);
      const forbidden = await app.inject({
        method: 'GET',
        url: '/api/audit',
        headers: asReader,
        remoteAddress: guesser,
      });
      expect(forbidden.statusCode).toBe(403);
    }
    await app.close();
  });

  test('bad webhook signatures never count toward an address budget', async ({ database }) => {
    const app = await buildTestApp(database, { env: { HUBSPOT_CLIENT_SECRET: 'secret-for-the-test' } });
    for (let n = 0; n < authFailures.max + 5; n++) {
      const webhook = await app.inject({
        method: 'POST',
        url: '/webhooks/hubspot',
        headers: { 'content-type': 'application/json', 'x-hubspot-signature-v3': 'forged' },
        payload: '[]',
        remoteAddress: guesser,
      });
      expect(webhook.statusCode).toBe(401);
    }
    const read = await app.inject({
      method: 'GET',
      url: '/api/errors',
      headers: asReader,
      remoteAddress: guesser,
    });
    expect(read.statusCode).toBe(200);
    await app.close();
  });
});

describe('/api has a generous per-address limit', () => {
  test(`${api.max} calls a window pass, the next is 429 with when to retry; health and webhooks are exempt`, async ({
    database,
  }) => {
    const app = await buildTestApp(database);
    const call = (remoteAddress: string) =>
      app.inject({ method: 'GET', url: '/api/sync/status', headers: asAdmin, remoteAddress });
    for (let n = 0; n < api.max; n++) {
      const response = await call(guesser);
      if (response.statusCode !== 200) throw new Error(`call ${n} answered ${response.statusCode}`);
    }
    const over = await call(guesser);
    expect(over.statusCode).toBe(429);
    expect(over.json()).toEqual({
      error: {
        code: 'rate_limited',
        message: expect.stringMatching(
          /^too many requests from this address; retry in \d+ (second|seconds|minute)/,
        ),
      },
    });
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
    expect(over.headers['cache-control']).toBe('no-store');

    expect((await call(neighbour)).statusCode).toBe(200);
    await expectExempt(app, guesser, 20);
    await app.close();
  });

  test('behind a proxy with TRUST_PROXY on, each forwarded client has its own budget', async ({
    database,
  }) => {
    const app = await buildTestApp(database, { env: { TRUST_PROXY: 'true' } });
    const proxy = '10.0.0.2';
    for (let n = 0; n < authFailures.max; n++) {
      await app.inject({
        method: 'GET',
        url: '/api/contacts',
        headers: { authorization: 'Bearer nope', 'x-forwarded-for': guesser },
        remoteAddress: proxy,
      });
    }
    const guessing = await app.inject({
      method: 'GET',
      url: '/api/contacts',
      headers: { ...asReader, 'x-forwarded-for': guesser },
      remoteAddress: proxy,
    });
    expect(guessing.statusCode).toBe(429);
    const someoneElse = await app.inject({
      method: 'GET',
      url: '/api/contacts',
      headers: { ...asReader, 'x-forwarded-for': neighbour },
      remoteAddress: proxy,
    });
    expect(someoneElse.statusCode).toBe(200);
    await app.close();
  });
});
