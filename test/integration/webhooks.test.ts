import { sql } from 'drizzle-orm';
import { describe, expect } from 'vitest';
import { createDeliveryGate } from '../../src/webhooks/delivery-gate.ts';
import { buildTestApp } from '../helpers/app.ts';
import { dbTest as test } from '../helpers/database.ts';
import {
  delivery,
  hubspotEvent,
  PORTAL_ID,
  signedHeaders,
  WEBHOOK_PATH,
  WEBHOOK_SECRET,
} from '../helpers/webhooks.ts';

const env = { HUBSPOT_CLIENT_SECRET: WEBHOOK_SECRET, HUBSPOT_PORTAL_ID: String(PORTAL_ID) };

async function inboxCount(database: {
  rows: <T extends Record<string, unknown>>(q: ReturnType<typeof sql>) => Promise<T[]>;
}) {
  const [row] = await database.rows<{ n: number }>(sql`select count(*)::int as n from webhook_inbox`);
  return row?.n ?? 0;
}

async function errorTypes(database: {
  rows: <T extends Record<string, unknown>>(q: ReturnType<typeof sql>) => Promise<T[]>;
}) {
  return (
    await database.rows<{ error_type: string; context: unknown }>(
      sql`select error_type, context from error_logs`,
    )
  ).map((row) => row.error_type);
}

describe('POST /webhooks/hubspot', () => {
  test('a signed batch is stored once, and HubSpot’s retry of it is recognised as a duplicate', async ({
    database,
  }) => {
    const app = await buildTestApp(database, { env });
    const events = [
      hubspotEvent({ subscriptionType: 'contact.creation', objectId: 101 }),
      hubspotEvent({
        subscriptionType: 'contact.propertyChange',
        objectId: 101,
        propertyName: 'email',
        propertyValue: 'a@x.io',
      }),
    ];
    const first = await app.inject(delivery(events));
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({ received: 2, accepted: 2, duplicates: 0, rejected: 0 });
    const retry = await app.inject(delivery(events.map((e) => ({ ...e, attemptNumber: 1 }))));
    expect(retry.json()).toEqual({ received: 2, accepted: 0, duplicates: 2, rejected: 0 });
    expect(await inboxCount(database)).toBe(2);
    await app.close();
  });

  test('every verified delivery holds the apply workers back until it is answered; an unsigned one does not', async ({
    database,
  }) => {
    const gate = createDeliveryGate({ quietMs: 200 });
    let inFlight = 0;
    let entered = 0;
    const counting = {
      ...gate,
      enter() {
        entered++;
        inFlight++;
        const leave = gate.enter();
        return () => {
          inFlight--;
          leave();
        };
      },
    };
    const app = await buildTestApp(database, { env, deliveryGate: counting });
    const events = [hubspotEvent({ subscriptionType: 'contact.creation', objectId: 5 })];
    const good = delivery(events);
    expect((await app.inject(good)).statusCode).toBe(200);
    const refused = { ...good, headers: { ...good.headers, 'x-hubspot-signature-v3': 'bm90IGl0' } };
    expect((await app.inject(refused)).statusCode).toBe(401);
    expect((await app.inject({ ...good, headers: { 'content-type': 'application/json' } })).statusCode).toBe(
      401,
    );
    // Anyone can post: counting refused posts would let unsigned traffic stall the apply workers.
    expect({ entered, inFlight }).toEqual({ entered: 1, inFlight: 0 });
    // Just answered: the workers wait out the quiet period before their next batch.
    const started = performance.now();
    await gate.quiet(10_000);
    expect(performance.now() - started).toBeGreaterThan(100);
    await app.close();
  });

  test('a bad, missing or stale signature is 401 and stores nothing', async ({ database }) => {
    const app = await buildTestApp(database, { env });
    const events = [hubspotEvent({ subscriptionType: 'contact.creation', objectId: 1 })];
    const good = delivery(events);
    const cases = [
      { ...good, headers: { ...good.headers, 'x-hubspot-signature-v3': 'bm90IGl0' } },
      { ...good, headers: { 'content-type': 'application/json' } },
      delivery(events, { timestamp: Date.now() - 6 * 60_000 }),
      delivery(events, { timestamp: Date.now() + 6 * 60_000 }),
      delivery(events, { secret: 'someone-else' }),
      { ...good, payload: good.payload.replace('"objectId":1', '"objectId":2') },
    ];
    for (const request of cases) {
      const response = await app.inject(request);
      expect(response.statusCode).toBe(401);
      expect(response.json().error.code).toBe('unauthorized');
    }
    expect(await inboxCount(database)).toBe(0);
    await app.close();
  });

  test('a signed body that is not JSON is 400, logged by size and hash, not content', async ({
    database,
  }) => {
    const app = await buildTestApp(database, { env });
    const payload = '[{"eventId": 1, oops';
    const response = await app.inject({
      method: 'POST',
      url: WEBHOOK_PATH,
      payload,
      headers: signedHeaders(payload, `http://localhost:80${WEBHOOK_PATH}`),
    });
    expect(response.statusCode).toBe(400);
    const [entry] = await database.rows<{ error_type: string; context: Record<string, unknown> }>(
      sql`select error_type, context from error_logs`,
    );
    expect(entry?.error_type).toBe('webhook.unparseable');
    expect(entry?.context).toMatchObject({ bytes: payload.length, signatureVersion: 'v3' });
    expect(JSON.stringify(entry)).not.toContain('oops');
    await app.close();
  });

  test('valid events of a batch are stored even when others in it are not', async ({ database }) => {
    const app = await buildTestApp(database, { env });
    const good = hubspotEvent({ subscriptionType: 'contact.deletion', objectId: 7 });
    const bad = { ...hubspotEvent({ subscriptionType: 'contact.propertyChange', objectId: 8 }) };
    const other = hubspotEvent({ subscriptionType: 'deal.creation', objectId: 9 });
    const response = await app.inject(delivery([good, bad, other]));
    expect(response.json()).toEqual({ received: 3, accepted: 1, duplicates: 0, rejected: 2 });
    const [entry] = await database.rows<{ message: string; context: { count: number; samples: unknown[] } }>(
      sql`select error_message as message, context from error_logs`,
    );
    expect(entry?.context.count).toBe(2);
    expect(entry?.context.samples).toEqual([
      expect.objectContaining({ index: 1, objectId: 8, subscriptionType: 'contact.propertyChange' }),
      expect.objectContaining({ index: 2, objectId: 9, subscriptionType: 'deal.creation' }),
    ]);
    expect(entry?.message).toContain('propertyName');
    await app.close();
  });

  test('events for another portal are refused and logged, never stored', async ({ database }) => {
    const app = await buildTestApp(database, { env });
    const response = await app.inject(
      delivery([hubspotEvent({ subscriptionType: 'contact.creation', objectId: 1, portalId: 999 })]),
    );
    expect(response.json()).toMatchObject({ accepted: 0, rejected: 1 });
    expect(await inboxCount(database)).toBe(0);
    expect(await errorTypes(database)).toEqual(['webhook.foreign_portal']);
    await app.close();
  });

  test('behind a proxy, the signature is checked against WEBHOOK_PUBLIC_URL', async ({ database }) => {
    const publicUrl = 'https://sync.example.com/webhooks/hubspot';
    const app = await buildTestApp(database, { env: { ...env, WEBHOOK_PUBLIC_URL: publicUrl } });
    const events = [hubspotEvent({ subscriptionType: 'contact.creation', objectId: 1 })];
    expect((await app.inject(delivery(events, { url: publicUrl }))).statusCode).toBe(200);
    expect((await app.inject(delivery(events))).statusCode).toBe(401);
    await app.close();
  });

  test('the v1 signature alone is accepted when no v3 headers come and v1 is configured', async ({
    database,
  }) => {
    const app = await buildTestApp(database, { env: { ...env, WEBHOOK_SIGNATURE_VERSIONS: 'v1,v3' } });
    const payload = JSON.stringify([hubspotEvent({ subscriptionType: 'contact.creation', objectId: 5 })]);
    const { createHash } = await import('node:crypto');
    const v1 = createHash('sha256')
      .update(WEBHOOK_SECRET + payload)
      .digest('hex');
    const response = await app.inject({
      method: 'POST',
      url: WEBHOOK_PATH,
      payload,
      headers: {
        'content-type': 'application/json',
        'x-hubspot-signature': v1,
        'x-hubspot-signature-version': 'v1',
      },
    });
    expect(response.statusCode).toBe(200);
    await app.close();
  });

  test('a wrong content type is 415, an oversized body 413, and an unset secret 503', async ({
    database,
  }) => {
    const app = await buildTestApp(database, { env });
    // Signature headers (unchecked yet) get a request past the early refusal, to where the body is read.
    const signed = signedHeaders('x', `http://localhost:80${WEBHOOK_PATH}`);
    const text = await app.inject({
      method: 'POST',
      url: WEBHOOK_PATH,
      payload: 'x',
      headers: { ...signed, 'content-type': 'text/plain' },
    });
    expect(text.statusCode).toBe(415);
    const huge = JSON.stringify([{ pad: 'x'.repeat(1024 * 1024) }]);
    const large = await app.inject({
      method: 'POST',
      url: WEBHOOK_PATH,
      payload: huge,
      headers: signed,
    });
    expect(large.statusCode).toBe(413);
    await app.close();
    const unconfigured = await buildTestApp(database);
    const response = await unconfigured.inject(
      delivery([hubspotEvent({ subscriptionType: 'contact.creation', objectId: 1 })]),
    );
    expect(response.statusCode).toBe(503);
    expect(response.json().error.message).toContain('HUBSPOT_CLIENT_SECRET');
    await unconfigured.close();
  });

  test('a NUL character, which PostgreSQL cannot store, is dropped instead of failing the batch', async ({
    database,
  }) => {
    const app = await buildTestApp(database, { env });
    const event = hubspotEvent({
      subscriptionType: 'contact.propertyChange',
      objectId: 3,
      propertyName: 'firstname',
      propertyValue: 'A\u0000na',
    });
    const response = await app.inject(delivery([event]));
    expect(response.json()).toMatchObject({ accepted: 1 });
    const [row] = await database.rows<{ value: string }>(
      sql`select payload->>'propertyValue' as value from webhook_inbox`,
    );
    expect(row?.value).toBe('Ana');
    await app.close();
  });

  test('with the database gone the answer is 503, so HubSpot retries', async ({ database }) => {
    const app = await buildTestApp(database, { env });
    await database.close();
    const response = await app.inject(
      delivery([hubspotEvent({ subscriptionType: 'contact.creation', objectId: 1 })]),
    );
    expect(response.statusCode).toBe(503);
    await app.close();
  });
});
