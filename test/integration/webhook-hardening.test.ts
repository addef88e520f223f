import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { PassThrough, Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import type { FastifyInstance, InjectOptions } from 'fastify';
import pino from 'pino';
import { describe, expect } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import type { Database } from '../../src/db/client.ts';
import { MAX_WEBHOOKS_IN_FLIGHT } from '../../src/webhooks/webhooks.routes.ts';
import { ADMIN_TOKEN, asReader, buildTestApp } from '../helpers/app.ts';
import { dbTest as test } from '../helpers/database.ts';
import { webhookPipeline } from '../helpers/pipeline.ts';
import {
  delivery,
  hubspotEvent,
  PORTAL_ID,
  propertyChange,
  signedHeaders,
  WEBHOOK_PATH,
  WEBHOOK_SECRET,
} from '../helpers/webhooks.ts';

const env = { HUBSPOT_CLIENT_SECRET: WEBHOOK_SECRET, HUBSPOT_PORTAL_ID: String(PORTAL_ID) };
const URL_SIGNED = `http://localhost:80${WEBHOOK_PATH}`;
const HOUR = 3_600_000;

/** A signed delivery of an exact body text (for bodies JSON.stringify would not write). */
function rawDelivery(payload: string) {
  return { method: 'POST' as const, url: WEBHOOK_PATH, payload, headers: signedHeaders(payload, URL_SIGNED) };
}

/** The delivery with its v3 headers stripped and HubSpot's v1 header in their place: a downgrade. */
function asV1(request: ReturnType<typeof delivery>) {
  const v1 = createHash('sha256')
    .update(WEBHOOK_SECRET + request.payload)
    .digest('hex');
  return {
    ...request,
    headers: {
      'content-type': 'application/json',
      'x-hubspot-signature': v1,
      'x-hubspot-signature-version': 'v1',
    },
  };
}

async function errorLog(database: Database) {
  return database.rows<{ error_type: string; context: Record<string, unknown>; bytes: number }>(
    sql`select error_type, context, (octet_length(coalesce(context::text, '')) + octet_length(error_message)
      + octet_length(coalesce(stack_trace, '')))::int as bytes from error_logs order by timestamp`,
  );
}

async function inboxCount(database: Database) {
  const [row] = await database.rows<{ n: number }>(sql`select count(*)::int as n from webhook_inbox`);
  return row?.n ?? 0;
}

/** Resolves with the answer, or with 'no answer' when none comes within `ms`. */
async function answerWithin(app: FastifyInstance, request: InjectOptions, ms = 2_000) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'no answer'>((resolve) => {
    timer = setTimeout(() => resolve('no answer'), ms);
  });
  const answer = await Promise.race([app.inject(request).then((r) => r.statusCode), timeout]);
  clearTimeout(timer);
  return answer;
}

describe('a signed batch cannot take the service down', () => {
  test('a batch of more events than HubSpot sends is a quick 400, logged by count and size only', async ({
    database,
  }) => {
    const app = await buildTestApp(database, { env });
    // ~0.9 MiB: under the body limit, 300,000 (invalid) events.
    const payload = `[${Array(300_000).fill('{}').join(',')}]`;
    const started = performance.now();
    const response = await app.inject(rawDelivery(payload));
    expect(response.statusCode).toBe(400);
    expect(response.json().error.message).toContain('at most 100 events');
    expect(performance.now() - started).toBeLessThan(1_500);
    const [entry, ...others] = await errorLog(database);
    expect(others).toHaveLength(0);
    expect(entry).toMatchObject({
      error_type: 'webhook.batch_too_large',
      context: { events: 300_000, bytes: payload.length },
    });
    expect(entry?.bytes).toBeLessThan(2_048);

    // HubSpot's own maximum still goes through.
    const full = Array.from({ length: 100 }, (_, i) =>
      hubspotEvent({ subscriptionType: 'contact.creation', objectId: 1 + i }),
    );
    expect((await app.inject(delivery(full))).json()).toMatchObject({ accepted: 100 });
    expect((await app.inject(delivery([...full, full[0]]))).statusCode).toBe(400);
    await app.close();
  });

  test('what is kept of a batch of invalid events is a count and a few samples, never its contact data', async ({
    database,
  }) => {
    const app = await buildTestApp(database, { env });
    const secret = 'private.person@example.com';
    const invalid = Array.from({ length: 99 }, (_, i) => ({
      ...propertyChange(500 + i, Date.now(), 'email', `${secret}${'x'.repeat(8_000)}`),
      subscriptionType: 'contact.somethingNew',
    }));
    const good = propertyChange(7, Date.now(), 'firstname', 'Ada');
    const response = await app.inject(delivery([...invalid, good]));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ received: 100, accepted: 1, duplicates: 0, rejected: 99 });
    const [entry] = await errorLog(database);
    expect(entry?.error_type).toBe('webhook.invalid_event');
    expect(entry?.context).toMatchObject({ count: 99 });
    expect((entry?.context.samples as unknown[] | undefined)?.length).toBeLessThanOrEqual(5);
    expect(entry?.bytes).toBeLessThan(4_096);
    expect(JSON.stringify(entry)).not.toContain('private.person');
    await app.close();
  });

  test('the error API reads and returns bounded entries, however large the stored one is', async ({
    database,
  }) => {
    const app = await buildTestApp(database, { env });
    // As an earlier version wrote them: a whole invalid batch in the context, a huge stack.
    const events = Array.from({ length: 50_000 }, (_, i) => ({ index: i, payload: { objectId: i } }));
    await database.rows(sql`insert into error_logs (error_type, error_message, stack_trace, context)
      values ('webhook.invalid_event', ${'m'.repeat(100_000)}, ${'s'.repeat(1_000_000)},
        ${JSON.stringify({ events })}::jsonb)`);
    const response = await app.inject({ method: 'GET', url: '/api/errors?limit=500', headers: asReader });
    expect(response.statusCode).toBe(200);
    expect(response.body.length).toBeLessThan(32 * 1024);
    const [shown] = response.json().data;
    expect(shown.context).toMatchObject({ truncated: true });
    expect(shown.context.bytes).toBeGreaterThan(1_000_000);
    expect(shown.stackTrace).toMatch(/\[truncated: 1000000 characters in all\]$/);
    expect(shown.errorMessage).toMatch(/\[truncated: 100000 characters in all\]$/);

    const resolved = await app.inject({
      method: 'POST',
      url: `/api/errors/${shown.id}/resolve`,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(resolved.statusCode).toBe(200);
    expect(resolved.body.length).toBeLessThan(32 * 1024);
    await app.close();
  });
});

describe('unauthenticated webhook requests hold no memory for long', () => {
  test('a post without signature headers is refused before its body is read', async ({ database }) => {
    const app = await buildTestApp(database, { env });
    const body = new PassThrough();
    body.write('[{"eventId":');
    // The body never ends: only an answer given before reading it can come.
    const answer = await answerWithin(app, {
      method: 'POST',
      url: WEBHOOK_PATH,
      payload: body,
      headers: { 'content-type': 'application/json' },
    });
    expect(answer).toBe(401);
    body.destroy();
    await app.close();
  });

  test(`more than ${MAX_WEBHOOKS_IN_FLIGHT} webhook bodies in flight: the next is a 503`, async ({
    database,
  }) => {
    const app = await buildTestApp(database, { env });
    const stalled = Array.from({ length: MAX_WEBHOOKS_IN_FLIGHT }, () => new PassThrough());
    const answers = stalled.map((body) => {
      body.write('[');
      return app.inject({
        method: 'POST',
        url: WEBHOOK_PATH,
        payload: body,
        headers: signedHeaders('[]', URL_SIGNED),
      });
    });
    // inject dispatches on a later tick: let the stalled ones reach the server first.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const events = [hubspotEvent({ subscriptionType: 'contact.creation', objectId: 1 })];
    expect(await answerWithin(app, delivery(events))).toBe(503);
    // Once they end (badly signed), their places are free again.
    for (const body of stalled) body.end(']]');
    expect((await Promise.all(answers)).map((r) => r.statusCode)).toEqual(stalled.map(() => 401));
    expect(await answerWithin(app, delivery(events))).toBe(200);
    await app.close();
  });

  test('a request whose body stalls is cut off by the server', { timeout: 30_000 }, async ({ database }) => {
    const app = await buildTestApp(database, { env });
    expect(app.server.requestTimeout).toBeGreaterThan(0);
    expect(app.server.requestTimeout).toBeLessThanOrEqual(15_000);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    if (!address || typeof address === 'string') throw new Error('not listening');
    const started = performance.now();
    const closed = await new Promise<string>((resolve, reject) => {
      const socket = connect(address.port, '127.0.0.1', () => {
        const headers = signedHeaders('[]', URL_SIGNED);
        socket.write(
          `POST ${WEBHOOK_PATH} HTTP/1.1\r\nHost: localhost\r\ncontent-type: application/json\r\n` +
            `x-hubspot-signature-v3: ${headers['x-hubspot-signature-v3']}\r\n` +
            `x-hubspot-request-timestamp: ${headers['x-hubspot-request-timestamp']}\r\n` +
            'content-length: 100000\r\n\r\n[',
        );
      });
      let received = '';
      socket.on('data', (chunk) => {
        received += chunk.toString();
      });
      socket.on('close', () => resolve(received));
      socket.on('error', reject);
    });
    expect(closed).toMatch(/^HTTP\/1\.1 408/);
    expect(performance.now() - started).toBeLessThan(20_000);
    await app.close();
  });
});

describe('valid-looking signed input is never a 500', () => {
  test('a lone surrogate, a NUL in a key, or deep nesting keeps that event out; the rest is accepted', async ({
    database,
  }) => {
    const app = await buildTestApp(database, { env });
    const good = propertyChange(1, Date.now(), 'firstname', 'Ada');
    const event = (objectId: number, extra: string) =>
      JSON.stringify(propertyChange(objectId, Date.now(), 'lastname', 'Private-Name')).replace(
        /}$/,
        `,${extra}}`,
      );
    const deep = `${'['.repeat(30)}${']'.repeat(30)}`;
    const payload = `[${JSON.stringify(good)},${event(2, '"note":"\\ud800"')},${event(3, '"a\\u0000b":1')},${event(4, `"deep":${deep}`)}]`;
    const response = await app.inject(rawDelivery(payload));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ received: 4, accepted: 1, duplicates: 0, rejected: 3 });
    expect(await inboxCount(database)).toBe(1);
    const [entry] = await errorLog(database);
    expect(entry?.context).toMatchObject({ count: 3 });
    expect(JSON.stringify(entry)).not.toContain('Private-Name');
    await app.close();
  });

  test('a body nested absurdly deep is a 400 with a bounded error entry', async ({ database }) => {
    const app = await buildTestApp(database, { env });
    for (const depth of [10_000, 200_000]) {
      const payload = `${'['.repeat(depth)}${']'.repeat(depth)}`;
      const response = await app.inject(rawDelivery(payload));
      expect(response.statusCode).toBe(400);
    }
    const entries = await errorLog(database);
    expect(entries.map((e) => e.error_type)).toEqual(['webhook.unparseable', 'webhook.unparseable']);
    for (const entry of entries) expect(entry.bytes).toBeLessThan(1_024);
    await app.close();
  });
});

describe('a failure to store a batch', () => {
  test('is answered without logging the batch it failed on', async ({ database }) => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const app = await buildApp({
      config: loadConfig({ ...env, LOG_LEVEL: 'info' }),
      logger: pino({ level: 'info' }, sink),
      database,
      adminToken: ADMIN_TOKEN,
    });
    await app.ready();
    // Any failure of the insert: drizzle's error quotes the statement's parameters, the whole batch.
    await database.rows(sql`create function refuse_inbox() returns trigger language plpgsql as $$
      begin raise exception 'inbox refused'; end $$`);
    await database.rows(sql`create trigger refuse_inbox before insert on webhook_inbox
      for each row execute function refuse_inbox()`);
    const response = await app.inject(delivery([propertyChange(1, Date.now(), 'lastname', 'Private-Name')]));
    expect(response.statusCode).toBe(500);
    const log = lines.join('');
    expect(log).toContain('inbox refused');
    expect(log).not.toContain('Private-Name');
    await app.close();
  });
});

describe('a failure to apply a batch', () => {
  test('is logged without the contact data drizzle quotes in its error', async ({ database }) => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const pipeline = webhookPipeline(database, { logger: pino({ level: 'info' }, sink) });
    await database.rows(sql`create function refuse_contact() returns trigger language plpgsql as $$
      begin raise exception 'contact refused'; end $$`);
    await database.rows(sql`create trigger refuse_contact before insert or update on contacts
      for each row execute function refuse_contact()`);
    await pipeline.receive([propertyChange(5, Date.now(), 'lastname', 'Private-Name')]);
    await pipeline.applyAll();
    const log = lines.join('');
    expect(log).toContain('contact refused');
    expect(log).not.toContain('Private-Name');
  });
});

describe('event times', () => {
  test('WEBHOOK_SIGNATURE_VERSIONS is v3 unless set, and names only v1, v2, v3', () => {
    expect(loadConfig({}).WEBHOOK_SIGNATURE_VERSIONS).toEqual(['v3']);
    expect(loadConfig({ WEBHOOK_SIGNATURE_VERSIONS: 'v3, V1' }).WEBHOOK_SIGNATURE_VERSIONS).toEqual([
      'v3',
      'v1',
    ]);
    for (const bad of ['v4', 'v3,,v1', 'sha256'])
      expect(() => loadConfig({ WEBHOOK_SIGNATURE_VERSIONS: bad })).toThrow(
        /^invalid configuration: WEBHOOK_SIGNATURE_VERSIONS/,
      );
  });

  test('a captured v3 delivery re-sent with only its v1 header is refused unless v1 is configured', async ({
    database,
  }) => {
    const events = [hubspotEvent({ subscriptionType: 'contact.creation', objectId: 1 })];
    const app = await buildTestApp(database, { env });
    const response = await app.inject(asV1(delivery(events)));
    expect(response.statusCode).toBe(401);
    expect(response.json().error.message).toContain('WEBHOOK_SIGNATURE_VERSIONS');
    expect(await inboxCount(database)).toBe(0);
    await app.close();
  });

  test('where v1 is configured, its events are refused once older than HubSpot retries for', async ({
    database,
  }) => {
    const app = await buildTestApp(database, { env: { ...env, WEBHOOK_SIGNATURE_VERSIONS: 'v3,v1' } });
    const old = hubspotEvent({
      subscriptionType: 'contact.creation',
      objectId: 1,
      occurredAt: Date.now() - 26 * HOUR,
    });
    const retried = hubspotEvent({
      subscriptionType: 'contact.creation',
      objectId: 2,
      occurredAt: Date.now() - 23 * HOUR,
    });
    expect((await app.inject(asV1(delivery([old, retried])))).json()).toMatchObject({
      accepted: 1,
      rejected: 1,
    });
    // v3 carries its own signed time: an old event in a fresh v3 delivery is a late one, not a replay.
    const late = hubspotEvent({
      subscriptionType: 'contact.creation',
      objectId: 3,
      occurredAt: Date.now() - 26 * HOUR,
    });
    expect((await app.inject(delivery([late]))).json()).toMatchObject({ accepted: 1, rejected: 0 });
    await app.close();
  });

  test('an event more than 5 minutes in the future is kept out and logged', async ({ database }) => {
    const app = await buildTestApp(database, { env });
    const future = propertyChange(1, Date.now() + 3_650 * 24 * HOUR, 'lifecyclestage', 'customer');
    const soon = propertyChange(1, Date.now() + 60_000, 'firstname', 'Ada');
    expect((await app.inject(delivery([future, soon]))).json()).toMatchObject({ accepted: 1, rejected: 1 });
    const [entry] = await errorLog(database);
    expect(entry?.error_type).toBe('webhook.invalid_event');
    expect(JSON.stringify(entry?.context)).toContain('ahead');
    await app.close();
  });
});
