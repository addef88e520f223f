import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, test } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createConnectionsRepository } from '../../src/connections/connections.repository.ts';
import { connectionFromConfig } from '../../src/connections/from-config.ts';
import { reencryptTokens } from '../../src/connections/rotate-keys.ts';
import { createTokenCipher, TokenKeyError } from '../../src/connections/token-cipher.ts';
import { createDatabase } from '../../src/db/client.ts';
import { createLogger } from '../../src/logger.ts';
import {
  install,
  newKey,
  OAUTH_ADMIN_TOKEN,
  OAUTH_CLIENT_ID,
  OAUTH_PORTAL,
  OAUTH_SECRET,
  type OAuthStack,
  startOAuthStack,
} from '../helpers/oauth-stack.ts';
import { waitFor } from '../helpers/process.ts';

let stack: OAuthStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

const asAdmin = { authorization: `Bearer ${OAUTH_ADMIN_TOKEN}` };
const logger = createLogger({ level: 'silent' });

interface SimTokens {
  accessTokens: { token: string; refreshToken: string; live: boolean }[];
  refreshTokens: { token: string }[];
}
const errorOf = async (response: Response) =>
  ((await response.json()) as { error: { code: string; message: string } }).error;
const simTokens = async (url: string) =>
  (await (await fetch(`${url}/__sim/oauth/tokens`)).json()) as SimTokens;

const configFor = (s: OAuthStack, key: string) =>
  loadConfig({
    HUBSPOT_CLIENT_ID: OAUTH_CLIENT_ID,
    HUBSPOT_CLIENT_SECRET: OAUTH_SECRET,
    HUBSPOT_PORTAL_ID: String(OAUTH_PORTAL),
    HUBSPOT_API_BASE: s.simulator.url,
    TOKEN_ENCRYPTION_KEY: key,
  });

describe('connecting a portal by OAuth', () => {
  test('install → consent → callback connects, with the tokens encrypted at rest and audited', async () => {
    const key = newKey();
    stack = await startOAuthStack({}, { TOKEN_ENCRYPTION_KEY: key });
    const { service } = stack;
    const before = await service.app.inject({
      method: 'GET',
      url: '/api/connections/hubspot',
      headers: asAdmin,
    });
    expect(before.json()).toMatchObject({ state: 'disconnected', kind: null });

    const { consent, landed } = await install(service.address);
    const asked = new URL(consent);
    expect(asked.searchParams.get('client_id')).toBe(OAUTH_CLIENT_ID);
    expect(asked.searchParams.get('redirect_uri')).toBe(`${service.address}/oauth/callback`);
    expect(asked.searchParams.get('scope')).toContain('crm.objects.contacts.read');
    expect([landed.status, landed.headers.get('location')]).toEqual([302, '/?connected=hubspot']);

    const view = (
      await service.app.inject({ method: 'GET', url: '/api/connections/hubspot', headers: asAdmin })
    ).json();
    expect(view).toMatchObject({
      state: 'connected',
      kind: 'oauth',
      portalId: OAUTH_PORTAL,
      lastError: null,
    });
    expect(view.scopes).toContain('crm.objects.contacts.read');
    expect(JSON.stringify(view)).not.toMatch(/token":"/);

    // No token HubSpot issued appears in any row, in any table the connection touches.
    const issued = await simTokens(stack.simulator.url);
    const dump = JSON.stringify(
      await stack.database.rows(sql`select
        (select json_agg(c) from hubspot_connections c) as connections,
        (select json_agg(a) from audit_logs a) as audit,
        (select json_agg(e) from error_logs e) as errors,
        (select json_agg(o) from outbox_events o) as outbox`),
    );
    for (const token of [
      ...issued.accessTokens.map((t) => t.token),
      ...issued.refreshTokens.map((t) => t.token),
    ])
      expect(dump).not.toContain(token);
    expect(dump).toContain('"entity_type":"hubspot_connection"');
    expect(dump).toContain('"type":"connection:status"');

    // The connection works: a sweep reads HubSpot with it.
    const started = await service.app.inject({
      method: 'POST',
      url: '/api/contacts/sync',
      headers: asAdmin,
      payload: { mode: 'full' },
    });
    expect(started.statusCode).toBe(202);
  });

  test('a tampered state is refused, and so is a replayed one', async () => {
    stack = await startOAuthStack({}, { TOKEN_ENCRYPTION_KEY: newKey() });
    const { service } = stack;
    const started = await fetch(`${service.address}/oauth/install?token=${OAUTH_ADMIN_TOKEN}`, {
      redirect: 'manual',
    });
    const granted = await fetch(started.headers.get('location') ?? '', { redirect: 'manual' });
    const callback = new URL(granted.headers.get('location') ?? '');
    const state = callback.searchParams.get('state') ?? '';

    const tampered = new URL(callback);
    // The nonce is genuine (stored, unused): only the signature is forged.
    tampered.searchParams.set('state', `${state.split('.')[0]}.${'A'.repeat(43)}`);
    const forged = await fetch(tampered, { redirect: 'manual' });
    expect(forged.status).toBe(400);
    expect((await errorOf(forged)).code).toBe('connections.invalid_state');

    expect((await fetch(callback, { redirect: 'manual' })).status).toBe(302);
    const replayed = await fetch(callback, { redirect: 'manual' });
    expect(replayed.status).toBe(400);
    expect((await errorOf(replayed)).message).toMatch(/already used/);
  });

  test('the install needs the admin token, OAuth settings and an encryption key', async () => {
    stack = await startOAuthStack();
    const { service } = stack;
    expect((await fetch(`${service.address}/oauth/install`, { redirect: 'manual' })).status).toBe(401);
    // No TOKEN_ENCRYPTION_KEY: the code exchange is refused before any token is taken.
    const { landed } = await install(service.address);
    expect(landed.status).toBe(503);
    expect((await errorOf(landed)).message).toMatch(/TOKEN_ENCRYPTION_KEY is not set/);
    expect(await stack.database.rows(sql`select 1 from hubspot_connections`)).toEqual([]);
  });

  test('a token for another portal is refused, naming both', async () => {
    stack = await startOAuthStack({}, { TOKEN_ENCRYPTION_KEY: newKey(), HUBSPOT_PORTAL_ID: '123' });
    const { landed } = await install(stack.service.address);
    expect(landed.status).toBe(409);
    expect((await errorOf(landed)).message).toMatch(/portal 880001.*mirrors portal 123/);
    expect(await stack.database.rows(sql`select 1 from hubspot_connections`)).toEqual([]);
  });

  test('a grant without the contacts scope is refused, naming the scope', async () => {
    stack = await startOAuthStack({}, { TOKEN_ENCRYPTION_KEY: newKey() });
    const consent = new URL(`${stack.simulator.url}/oauth/authorize`);
    consent.searchParams.set('client_id', OAUTH_CLIENT_ID);
    consent.searchParams.set('redirect_uri', 'http://127.0.0.1:9/cb');
    consent.searchParams.set('scope', 'oauth');
    const granted = await fetch(consent, { redirect: 'manual' });
    const code = new URL(granted.headers.get('location') ?? '').searchParams.get('code');
    const narrow = await stack.service.app.inject({
      method: 'POST',
      url: '/api/connections/hubspot',
      headers: asAdmin,
      payload: { code, redirectUri: 'http://127.0.0.1:9/cb' },
    });
    expect(narrow.statusCode).toBe(400);
    expect(narrow.json().error).toMatchObject({ code: 'connections.missing_scope' });
    expect(narrow.json().error.message).toContain('crm.objects.contacts.read');
    expect(await stack.database.rows(sql`select 1 from hubspot_connections`)).toEqual([]);
  });

  test('a restart with the same key keeps the connection; a wrong key fails loudly', async () => {
    const key = newKey();
    stack = await startOAuthStack({}, { TOKEN_ENCRYPTION_KEY: key });
    await install(stack.service.address);
    const s = stack;
    const again = connectionFromConfig(configFor(s, key), s.database, logger);
    await again.checkKey();
    const token = await again.accessToken();
    expect((await simTokens(s.simulator.url)).accessTokens.find((t) => t.token === token)?.live).toBe(true);

    const wrong = connectionFromConfig(configFor(s, newKey()), s.database, logger);
    await expect(wrong.checkKey()).rejects.toThrow(TokenKeyError);
  });

  test('key rotation: new key first, re-encrypt, drop the old key, still connected', async () => {
    const oldKey = newKey();
    const nextKey = newKey();
    stack = await startOAuthStack({}, { TOKEN_ENCRYPTION_KEY: oldKey });
    await install(stack.service.address);
    const ring = configFor(stack, `${nextKey},${oldKey}`);
    const { rewritten } = await reencryptTokens(
      stack.database,
      createConnectionsRepository(),
      createTokenCipher(ring.TOKEN_ENCRYPTION_KEY),
    );
    expect(rewritten).toBe(1);
    const onlyNew = connectionFromConfig(configFor(stack, nextKey), stack.database, logger);
    await onlyNew.checkKey();
    expect(await onlyNew.accessToken()).toBeTruthy();
    await expect(
      connectionFromConfig(configFor(stack, oldKey), stack.database, logger).checkKey(),
    ).rejects.toThrow(TokenKeyError);
  });
});

describe('several instances', () => {
  test('an instance learns that another connected the portal, and resumes its own work', async () => {
    const key = newKey();
    stack = await startOAuthStack({}, { TOKEN_ENCRYPTION_KEY: key });
    const other = connectionFromConfig(configFor(stack, key), stack.database, logger, {
      stateRecheckMs: 100,
    });
    let resumed = 0;
    other.onConnected(() => {
      resumed++;
    });
    expect(other.usable).toBe(false);
    await install(stack.service.address);
    // Only asking `usable`, as the fetch loop and the scheduler do: no API call reaches this instance.
    await waitFor(async () => (other.usable ? true : undefined), 3_000);
    expect(resumed).toBe(1);
  });
});

describe('refreshing the access token', () => {
  test('20 concurrent callers at expiry cause one refresh; two instances cause one refresh', async () => {
    const key = newKey();
    // Tokens live 3 s; refreshed when under 2 s remain.
    stack = await startOAuthStack({ tokenTtl: 3 }, { TOKEN_ENCRYPTION_KEY: key }, { refreshMarginMs: 2_000 });
    await install(stack.service.address);
    const issued = async () => (await simTokens(stack?.simulator.url ?? '')).accessTokens.length;
    expect(await issued()).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const tokens = await Promise.all(
      Array.from({ length: 20 }, () => stack?.service.connection.accessToken()),
    );
    expect(new Set(tokens).size).toBe(1);
    expect(await issued()).toBe(2);

    // A second instance on the same database, each with its own memory: between them, one refresh.
    const url = stack.scratch.url;
    if (!url) return; // PGlite: one process, nothing to race
    const other = await createDatabase({ url, maxConnections: 2 });
    try {
      const config = configFor(stack, key);
      const a = connectionFromConfig(config, stack.database, logger, { refreshMarginMs: 2_000 });
      const b = connectionFromConfig(config, other, logger, { refreshMarginMs: 2_000 });
      await new Promise((resolve) => setTimeout(resolve, 1_200));
      const [fromA, fromB] = await Promise.all([a.accessToken(), b.accessToken()]);
      expect(fromA).toBe(fromB);
      expect(await issued()).toBe(3);
    } finally {
      await other.close();
    }
  });

  test('a sweep lasting several token lifetimes completes with no failed call', async () => {
    stack = await startOAuthStack(
      { tokenTtl: 2, contacts: 1_500 },
      { TOKEN_ENCRYPTION_KEY: newKey() },
      { refreshMarginMs: 1_000 },
    );
    await fetch(`${stack.simulator.url}/__sim/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ latencyMs: 250 }),
    });
    await install(stack.service.address);
    const result = await stack.service.workers.sweeper.start({ mode: 'full', trigger: 'admin' });
    if (!('started' in result)) throw new Error('the sweep did not start');
    const done = await result.done;
    expect(done.status).toBe('completed');
    const lifetimes = (Date.parse(done.end_time ?? '') - Date.parse(done.start_time)) / 2_000;
    expect(lifetimes).toBeGreaterThan(2);
    expect((await simTokens(stack.simulator.url)).accessTokens.length).toBeGreaterThanOrEqual(3);
    expect(await stack.database.rows(sql`select error_type from error_logs`)).toEqual([]);
  });
});

describe('a revoked grant', () => {
  test('brings state error, the event and paused sweeps; reconnecting resumes', async () => {
    stack = await startOAuthStack(
      { tokenTtl: 2 },
      { TOKEN_ENCRYPTION_KEY: newKey() },
      { refreshMarginMs: 1_500 },
    );
    const { service, simulator } = stack;
    await install(service.address);
    const { refreshTokens } = await simTokens(simulator.url);
    for (const { token } of refreshTokens)
      await fetch(`${simulator.url}/oauth/v1/refresh-tokens/${token}`, { method: 'DELETE' });
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(await service.connection.accessToken()).toBeUndefined();

    const view = (
      await service.app.inject({ method: 'GET', url: '/api/connections/hubspot', headers: asAdmin })
    ).json();
    expect(view.state).toBe('error');
    expect(view.lastError).toMatch(/BAD_REFRESH_TOKEN|invalid_grant/);
    const [event] = await stack.database.rows<{ data: { state: string } }>(
      sql`select data from outbox_events where type = 'connection:status' order by seq desc limit 1`,
    );
    expect(event?.data.state).toBe('error');
    const [logged] = await stack.database.rows<{ error_type: string }>(
      sql`select error_type from error_logs`,
    );
    expect(logged?.error_type).toBe('connection.refresh_rejected');
    const [audited] = await stack.database.rows<{ user_id: string; new_data: { status: string } }>(
      sql`select user_id, new_data from audit_logs where entity_type = 'hubspot_connection' and operation = 'update'`,
    );
    expect(audited).toMatchObject({ user_id: 'hubspot:refresh', new_data: { status: 'error' } });
    const refused = await service.app.inject({
      method: 'POST',
      url: '/api/contacts/sync',
      headers: asAdmin,
      payload: { mode: 'incremental' },
    });
    expect(refused.statusCode).toBe(503);

    // Webhooks keep being stored meanwhile; reconnecting puts everything back to work.
    await install(service.address);
    await waitFor(
      async () => ((await service.connection.view()).state === 'connected' ? true : undefined),
      5_000,
    );
    const resumed = await service.app.inject({
      method: 'POST',
      url: '/api/contacts/sync',
      headers: asAdmin,
      payload: { mode: 'incremental' },
    });
    expect([202, 409]).toContain(resumed.statusCode);
  });

  test('disconnecting erases the tokens and is audited', async () => {
    stack = await startOAuthStack({}, { TOKEN_ENCRYPTION_KEY: newKey() });
    await install(stack.service.address);
    const gone = await stack.service.app.inject({
      method: 'DELETE',
      url: '/api/connections/hubspot',
      headers: asAdmin,
    });
    expect(gone.json()).toMatchObject({ state: 'disconnected' });
    expect(await stack.database.rows(sql`select 1 from hubspot_connections`)).toEqual([]);
    const [audited] = await stack.database.rows<{ operation: string; user_id: string }>(
      sql`select operation, user_id from audit_logs where entity_type = 'hubspot_connection' order by timestamp desc limit 1`,
    );
    expect(audited).toEqual({ operation: 'delete', user_id: 'admin-token' });
  });
});

describe('a private app', () => {
  test('shows as connected, and a revoked token (401 on every call) reaches state error', async () => {
    stack = await startOAuthStack({}, { HUBSPOT_ACCESS_TOKEN: 'pat-na1-revoke-me' });
    const { service, simulator } = stack;
    const view = (
      await service.app.inject({ method: 'GET', url: '/api/connections/hubspot', headers: asAdmin })
    ).json();
    expect(view).toMatchObject({ state: 'connected', kind: 'private_app' });
    await fetch(`${simulator.url}/__sim/private-apps/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: 'pat-na1-revoke-me' }),
    });
    const result = await service.workers.sweeper.start({ mode: 'full', trigger: 'admin' });
    if ('started' in result) expect((await result.done).status).toBe('failed');
    const after = (
      await service.app.inject({ method: 'GET', url: '/api/connections/hubspot', headers: asAdmin })
    ).json();
    expect(after.state).toBe('error');
    expect(service.connection.usable).toBe(false);
    const again = await service.workers.sweeper.start({ mode: 'full', trigger: 'admin' });
    expect(again).toEqual({ notConnected: true });
  });
});
