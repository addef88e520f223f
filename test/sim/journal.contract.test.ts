import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Simulator } from '../../src/sim/simulator.ts';
import {
  api,
  assertMatchesSchema,
  type Json,
  manualClock,
  PRIVATE_APP_TOKEN,
  sdkClient,
  startSimulator,
} from './helpers.ts';

const CLIENT_ID = 'journal-client-id';
const CLIENT_SECRET = 'journal-client-secret';
const PORTAL = 4242;
const JOURNAL = '/webhooks-journal/journal/2026-03';
const LOCAL = '/webhooks-journal/journal-local/2026-03';
const clock = manualClock(Date.now());
let simulator: Simulator;
let token: string;

async function grant(path: string, form: Record<string, string>) {
  const response = await fetch(`${simulator.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  return { status: response.status, body: (await response.json()) as Json };
}

const clientCredentials = (scope = 'developer.webhooks_journal.read', secret = CLIENT_SECRET) =>
  grant('/oauth/v3/token', {
    grant_type: 'client_credentials',
    client_id: CLIENT_ID,
    client_secret: secret,
    scope,
  });

const journal = (method: string, path: string, body?: unknown, bearer: string | null = token) =>
  api(simulator, method, path, body, bearer);

function expectError(answer: { status: number; body: Json }, status: number, message: RegExp): void {
  expect(answer.status).toBe(status);
  expect(answer.body.message).toMatch(message);
  assertMatchesSchema('webhooks-journal-2026-03', 'Error', answer.body);
}

async function download(url: string): Promise<{ status: number; body: Json }> {
  const response = await fetch(url);
  return { status: response.status, body: await response.json() };
}

/** Follows `offset/next` from the earliest entry to the end, collecting every event in journal order. */
async function readWholeJournal(path = JOURNAL): Promise<Json[]> {
  const first = await journal('GET', `${path}/earliest`);
  expect(first.status).toBe(200);
  const events: Json[] = [];
  let current: Json = first.body;
  for (let guard = 0; guard < 1000; guard++) {
    assertMatchesSchema('webhooks-journal-2026-03', 'JournalFetchResponse', current);
    events.push(...(await download(current.url)).body);
    const next = await journal('GET', `${path}/offset/${current.currentOffset}/next`);
    if (next.status === 204) return events;
    expect(next.status).toBe(200);
    current = next.body;
  }
  throw new Error('the journal never ended');
}

beforeAll(async () => {
  simulator = await startSimulator({
    contacts: 0,
    clock,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    portalId: PORTAL,
  });
  token = (await clientCredentials()).body.access_token;
});
afterAll(() => simulator.stop());

describe('client-credentials tokens for the journal', () => {
  test('the grant answers on v1 and v3 with a bearer token and no refresh token', async () => {
    for (const path of ['/oauth/v1/token', '/oauth/v3/token']) {
      const answer = await grant(path, {
        grant_type: 'client_credentials',
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        scope: 'developer.webhooks_journal.read',
      });
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ token_type: 'bearer', expires_in: 1800 });
      expect(answer.body.access_token).toEqual(expect.any(String));
      expect(answer.body.refresh_token).toBeUndefined();
    }
  });

  test('a wrong secret, a missing scope and an unknown scope are RFC 6749 errors', async () => {
    const wrongSecret = await clientCredentials('developer.webhooks_journal.read', 'nope');
    expect(wrongSecret.status).toBe(400);
    expect(wrongSecret.body).toMatchObject({ error: 'invalid_client', status: 'BAD_CLIENT_SECRET' });
    const noScope = await clientCredentials('');
    expect(noScope.status).toBe(400);
    expect(noScope.body).toMatchObject({ error: 'invalid_scope' });
    const crmScope = await clientCredentials('crm.objects.contacts.read');
    expect(crmScope.status).toBe(400);
    expect(crmScope.body.error).toBe('invalid_scope');
    expect(crmScope.body.error_description).toContain('crm.objects.contacts.read');
  });

  test('the journal refuses no token, a private-app token and a token without the read scope', async () => {
    expectError(await journal('GET', `${JOURNAL}/latest`, undefined, null), 401, /credentials not found/);
    expectError(await journal('GET', `${JOURNAL}/latest`, undefined, PRIVATE_APP_TOKEN), 401, /./);
    const snapshots = (await clientCredentials('developer.webhooks_journal.snapshots.read')).body;
    const refused = await journal('GET', `${JOURNAL}/latest`, undefined, snapshots.access_token);
    expectError(refused, 403, /required scopes/);
  });

  test('an app token does not open the CRM API', async () => {
    const answer = await api(simulator, 'GET', '/crm/v3/objects/contacts?limit=1', undefined, token);
    expect(answer.status).toBe(401);
  });
});

describe('an empty journal', () => {
  test('earliest and latest answer 404 in HubSpot error shape, batches an empty result', async () => {
    expectError(await journal('GET', `${JOURNAL}/earliest`), 404, /no entries/);
    expectError(await journal('GET', `${LOCAL}/latest?installPortalId=${PORTAL}`), 404, /no entries/);
    const batch = await journal('GET', `${JOURNAL}/batch/latest/10`);
    expect(batch.status).toBe(200);
    assertMatchesSchema('webhooks-journal-2026-03', 'BatchResponseJournalFetchResponse', batch.body);
    expect(batch.body.results).toEqual([]);
  });
});

describe('a journal of the portal changes', () => {
  let ids: string[] = [];

  beforeAll(async () => {
    const sdk = sdkClient(simulator);
    // Every webhook is lost: the journal must hold the events all the same.
    await api(simulator, 'POST', '/__sim/faults', { dropRate: 1 });
    const created = await Promise.all(
      [1, 2, 3].map((n) =>
        sdk.crm.contacts.basicApi.create({
          properties: { email: `journal-${n}@example.com` },
          associations: [],
        }),
      ),
    );
    ids = created.map((contact) => contact.id);
    clock.advance(1000);
    await sdk.crm.contacts.basicApi.update(ids[0] as string, { properties: { firstname: 'Ada' } });
    clock.advance(1000);
    await sdk.crm.contacts.basicApi.archive(ids[1] as string);
    clock.advance(1000);
    await sdk.crm.contacts.basicApi.merge({
      primaryObjectId: ids[0] as string,
      objectIdToMerge: ids[2] as string,
    });
    await api(simulator, 'POST', '/__sim/webhooks/drain');
    await api(simulator, 'POST', '/__sim/faults', { dropRate: 0 });
  });

  test('holds every event, in the order it happened, with the fields webhooks carry', async () => {
    const events = await readWholeJournal();
    const types = events.map((event) => event.subscriptionType);
    expect(types.filter((type) => type === 'contact.creation')).toHaveLength(3);
    expect(types).toContain('contact.deletion');
    expect(types).toContain('contact.merge');
    const occurred = events.map((event) => event.occurredAt);
    expect(occurred).toEqual([...occurred].sort((a, b) => a - b));
    const rename = events.find(
      (event) => event.subscriptionType === 'contact.propertyChange' && event.propertyName === 'firstname',
    );
    expect(rename).toMatchObject({ portalId: PORTAL, objectId: Number(ids[0]), propertyValue: 'Ada' });
    expect(rename).toEqual(
      expect.objectContaining({
        eventId: expect.any(Number),
        subscriptionId: expect.any(Number),
        appId: expect.any(Number),
        changeSource: expect.any(String),
      }),
    );
    const deletion = events.find((event) => event.subscriptionType === 'contact.deletion');
    expect(deletion?.objectId).toBe(Number(ids[1]));
    const merge = events.find((event) => event.subscriptionType === 'contact.merge');
    expect(merge?.mergedObjectIds).toContain(Number(ids[2]));
  });

  test('the local journal reads the same entries for this portal and none for another', async () => {
    const local = await readWholeJournal(LOCAL);
    expect(local).toEqual(await readWholeJournal(JOURNAL));
    expectError(await journal('GET', `${LOCAL}/earliest?installPortalId=99`), 404, /no entries/);
    expectError(await journal('GET', `${LOCAL}/earliest?installPortalId=abc`), 400, /installPortalId/);
  });

  test('batch reads page forward from an offset and end with an empty result', async () => {
    const earliest = await journal('GET', `${JOURNAL}/batch/earliest/2`);
    assertMatchesSchema('webhooks-journal-2026-03', 'BatchResponseJournalFetchResponse', earliest.body);
    expect(earliest.body.results).toHaveLength(2);
    const all = (await journal('GET', `${JOURNAL}/batch/earliest/100`)).body.results as Json[];
    const offsets = all.map((result) => result.currentOffset);
    const next = await journal('GET', `${JOURNAL}/batch/${offsets[1]}/next/3`);
    assertMatchesSchema('webhooks-journal-2026-03', 'BatchResponseJournalFetchResponse', next.body);
    expect(next.body.results.map((result: Json) => result.currentOffset)).toEqual(offsets.slice(2, 5));
    const latest = await journal('GET', `${JOURNAL}/batch/latest/2`);
    expect(latest.body.results.map((result: Json) => result.currentOffset)).toEqual(offsets.slice(-2));
    const end = await journal('GET', `${JOURNAL}/batch/${offsets.at(-1)}/next/10`);
    expect(end.status).toBe(200);
    expect(end.body.results).toEqual([]);
  });

  test('batch read answers 207 with the offsets it does not know', async () => {
    const [first] = (await journal('GET', `${JOURNAL}/batch/earliest/1`)).body.results as Json[];
    const unknown = '00000000-0000-4000-8000-000000000000';
    const answer = await journal('POST', `${JOURNAL}/batch/read`, { inputs: [first.currentOffset, unknown] });
    expect(answer.status).toBe(207);
    assertMatchesSchema(
      'webhooks-journal-2026-03',
      'BatchResponseJournalFetchResponseWithErrors',
      answer.body,
    );
    expect(answer.body.results).toHaveLength(1);
    expect(answer.body.errors[0].context.offsets).toEqual([unknown]);
    expectError(await journal('POST', `${JOURNAL}/batch/read`, { inputs: 'x' }), 400, /inputs/);
  });

  test('bad counts and unknown offsets are refused', async () => {
    expectError(await journal('GET', `${JOURNAL}/batch/latest/0`), 400, /count must be/);
    expectError(await journal('GET', `${JOURNAL}/batch/latest/101`), 400, /count must be/);
    expectError(
      await journal('GET', `${JOURNAL}/offset/not-an-offset/next`),
      404,
      /expired or does not exist/,
    );
  });

  test('a file link works without a token until it expires, and only as signed', async () => {
    const latest = (await journal('GET', `${JOURNAL}/latest`)).body;
    const url = new URL(latest.url);
    const tampered = new URL(url);
    tampered.searchParams.set('expires', String(Number(url.searchParams.get('expires')) + 1));
    expect((await download(tampered.toString())).status).toBe(403);
    expect(new Date(latest.expiresAt).getTime()).toBe(Number(url.searchParams.get('expires')));
    clock.advance(15 * 60 * 1000);
    const expired = await download(url.toString());
    expect(expired.status).toBe(403);
    expect(expired.body.message).toMatch(/expired/);
    const fresh = (await journal('GET', `${JOURNAL}/latest`)).body;
    expect((await download(fresh.url)).status).toBe(200);
  });

  test('entries are kept 3 days: then their offsets answer 404 and a new change starts the journal', async () => {
    const oldest = (await journal('GET', `${JOURNAL}/earliest`)).body.currentOffset;
    clock.advance(3 * 24 * 60 * 60 * 1000);
    token = (await clientCredentials()).body.access_token;
    expectError(await journal('GET', `${JOURNAL}/offset/${oldest}/next`), 404, /expired/);
    expectError(await journal('GET', `${JOURNAL}/earliest`), 404, /no entries/);
    await sdkClient(simulator).crm.contacts.basicApi.update(ids[0] as string, {
      properties: { lastname: 'Lovelace' },
    });
    const earliest = await journal('GET', `${JOURNAL}/earliest`);
    expect(earliest.status).toBe(200);
    const events = (await download(earliest.body.url)).body as Json[];
    expect(events.map((event) => event.propertyName)).toContain('lastname');
  });
});
