import { describe, expect, test } from 'vitest';
import { createJournalClient, JournalOffsetExpired } from '../../src/sync/journal/journal-client.ts';
import { journalFromConfig } from '../../src/sync/journal/journal-config.ts';

const BASE = 'https://api.example.test';
const PORTAL = 62515;

interface Call {
  url: string;
  authorization: string | undefined;
  body: string | undefined;
}

/** A fetch that answers from `routes` (by URL prefix, first match) and records every call. */
function fakeFetch(routes: [string, (call: Call) => Response][]) {
  const calls: Call[] = [];
  const send = (async (input: string | URL, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    const call = {
      url: String(input),
      authorization: headers.get('authorization') ?? undefined,
      body: init?.body === undefined ? undefined : String(init.body),
    };
    calls.push(call);
    const route = routes.find(([prefix]) => call.url.startsWith(prefix));
    if (!route) throw new Error(`unexpected call ${call.url}`);
    return route[1](call);
  }) as typeof fetch;
  return { send, calls };
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

let issued = 0;
const tokenRoute: [string, (call: Call) => Response] = [
  `${BASE}/oauth/v3/token`,
  () => json({ access_token: `token-${++issued}`, expires_in: 1800, token_type: 'bearer' }),
];

const client = (send: typeof fetch, now = () => 0) =>
  createJournalClient({
    apiBase: BASE,
    clientId: 'id',
    clientSecret: 'secret',
    portalId: PORTAL,
    fetch: send,
    now,
  });

describe('the journal client', () => {
  test('asks for a client-credentials token with the journal scope and reuses it until near expiry', async () => {
    issued = 0;
    let now = 0;
    const { send, calls } = fakeFetch([
      tokenRoute,
      [
        `${BASE}/webhooks-journal/journal-local/2026-03/latest`,
        () => json({ currentOffset: 'a', url: 'u', expiresAt: '2026-12-01T00:00:00Z' }),
      ],
    ]);
    const journal = client(send, () => now);
    await journal.latest();
    await journal.latest();
    const form = new URLSearchParams(calls[0]?.body);
    expect(Object.fromEntries(form)).toEqual({
      grant_type: 'client_credentials',
      client_id: 'id',
      client_secret: 'secret',
      scope: 'developer.webhooks_journal.read',
    });
    expect(calls.filter((call) => call.url.includes('/oauth/'))).toHaveLength(1);
    expect(calls[1]?.url).toBe(
      `${BASE}/webhooks-journal/journal-local/2026-03/latest?installPortalId=${PORTAL}`,
    );
    expect(calls[1]?.authorization).toBe('Bearer token-1');
    now = 26 * 60_000;
    await journal.latest();
    expect(calls.at(-1)?.authorization).toBe('Bearer token-2');
  });

  test('a 401 takes a new token and asks once more', async () => {
    issued = 0;
    const { send, calls } = fakeFetch([
      tokenRoute,
      [
        `${BASE}/webhooks-journal/`,
        (call) =>
          call.authorization === 'Bearer token-1'
            ? json({ message: 'expired' }, 401)
            : json({ currentOffset: 'b', url: 'u', expiresAt: '2026-12-01T00:00:00Z' }),
      ],
    ]);
    expect((await client(send).latest())?.offset).toBe('b');
    expect(calls.map((call) => call.authorization ?? 'token')).toEqual([
      'token',
      'Bearer token-1',
      'token',
      'Bearer token-2',
    ]);
  });

  test('an empty journal is no position; an unknown offset is JournalOffsetExpired; other errors say what failed', async () => {
    const { send } = fakeFetch([
      tokenRoute,
      [`${BASE}/webhooks-journal/journal-local/2026-03/latest`, () => json({ message: 'no entries' }, 404)],
      [`${BASE}/webhooks-journal/journal-local/2026-03/batch/gone/`, () => json({ message: 'gone' }, 404)],
      [`${BASE}/webhooks-journal/journal-local/2026-03/batch/`, () => json({ message: 'boom' }, 503)],
    ]);
    const journal = client(send);
    expect(await journal.latest()).toBeUndefined();
    await expect(journal.next('gone')).rejects.toBeInstanceOf(JournalOffsetExpired);
    await expect(journal.next('other')).rejects.toThrow('journal next: HubSpot answered 503: boom');
  });

  test('a file is read without a token; events of other portals or kinds are left out and counted', async () => {
    const deletion = {
      eventId: 1,
      subscriptionId: 2,
      portalId: PORTAL,
      occurredAt: 1_700_000_000_000,
      subscriptionType: 'contact.deletion',
      objectId: 7,
    };
    const { send, calls } = fakeFetch([
      [
        'https://files.example.test/',
        () =>
          json([deletion, { ...deletion, portalId: 1 }, { ...deletion, subscriptionType: 'deal.creation' }]),
      ],
    ]);
    const file = await client(send).download({
      offset: 'x',
      url: 'https://files.example.test/x.json',
      expiresAt: 0,
    });
    expect(file).toEqual({ events: [deletion], skipped: 2 });
    expect(calls[0]?.authorization).toBeUndefined();
  });
});

describe('journal settings from the environment', () => {
  test('without client credentials or a portal id gap fill is off, naming what is missing', () => {
    const off = journalFromConfig({ HUBSPOT_API_BASE: BASE, HUBSPOT_CLIENT_ID: 'id' } as never);
    expect(off).toEqual({ off: expect.stringContaining('set HUBSPOT_CLIENT_SECRET, HUBSPOT_PORTAL_ID') });
    const on = journalFromConfig({
      HUBSPOT_API_BASE: BASE,
      HUBSPOT_CLIENT_ID: 'id',
      HUBSPOT_CLIENT_SECRET: 'secret',
      HUBSPOT_PORTAL_ID: PORTAL,
    } as never);
    expect(on).toMatchObject({ portalId: PORTAL });
  });
});
