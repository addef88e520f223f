import { Client } from '@hubspot/api-client';
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

const clock = manualClock();
const CLIENT_ID = 'test-client-id';
const CLIENT_SECRET = 'test-client-secret';
const REDIRECT_URI = 'http://127.0.0.1:3000/oauth/callback';
const SCOPES = ['oauth', 'crm.objects.contacts.read', 'crm.objects.contacts.write'];
let simulator: Simulator;

beforeAll(async () => {
  simulator = await startSimulator({
    clock,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    tokenTtl: 1800,
    portalId: 777,
    appId: 4242,
  });
});
afterAll(() => simulator.stop());

interface Tokens {
  access_token: string;
  refresh_token: string;
}

async function form(pathname: string, fields: Record<string, string>) {
  const response = await fetch(`${simulator.url}${pathname}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
  });
  const text = await response.text();
  return { status: response.status, text, body: (text ? JSON.parse(text) : undefined) as Json };
}

/** A fresh install: consent, then the code grant on v3. */
async function install(): Promise<Tokens> {
  const query = new URLSearchParams({
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    scope: SCOPES.join(' '),
  });
  const consent = await fetch(`${simulator.url}/oauth/authorize?${query}`, { redirect: 'manual' });
  const code = new URL(consent.headers.get('location') as string).searchParams.get('code') as string;
  const tokens = await form('/oauth/v3/token', {
    grant_type: 'authorization_code',
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    redirect_uri: REDIRECT_URI,
    code,
  });
  expect(tokens.status).toBe(200);
  return tokens.body as Tokens;
}

const refresh = (refreshToken: string) =>
  form('/oauth/v3/token', {
    grant_type: 'refresh_token',
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    refresh_token: refreshToken,
  });

const introspect = (token: string, extra: Record<string, string> = {}) =>
  form('/oauth/v3/token/introspect', { client_id: CLIENT_ID, client_secret: CLIENT_SECRET, token, ...extra });

const revoke = (token: string, extra: Record<string, string> = {}) =>
  form('/oauth/v3/token/revoke', { client_id: CLIENT_ID, client_secret: CLIENT_SECRET, token, ...extra });

const listContacts = (token: string) =>
  api(simulator, 'GET', '/crm/v3/objects/contacts?limit=1', undefined, token);

async function tokenList(): Promise<Json> {
  return (await fetch(`${simulator.url}/__sim/oauth/tokens`)).json();
}

/** A refresh refused as HubSpot refuses a dead refresh token, in the spec's error shape. */
function expectBadRefreshToken(answer: { status: number; body: Json }): void {
  expect(answer.status).toBe(400);
  expect(answer.body).toMatchObject({ error: 'invalid_grant', status: 'BAD_REFRESH_TOKEN' });
  assertMatchesSchema('oauth-v3', 'Error', answer.body);
}

async function sdkError(call: Promise<unknown>): Promise<{ code: number; body: Json }> {
  const error = (await call.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e,
  )) as { code: number; body: Json };
  return { code: error.code, body: typeof error.body === 'string' ? JSON.parse(error.body) : error.body };
}

describe('DELETE /oauth/v1/refresh-tokens/{token}', () => {
  test('answers 204 through the SDK; the refresh token then fails with invalid_grant / BAD_REFRESH_TOKEN', async () => {
    const tokens = await install();
    const sdk = new Client({ basePath: simulator.url });
    const deleted = await sdk.oauth.refreshTokensApi.archiveWithHttpInfo(tokens.refresh_token);
    expect(deleted.httpStatusCode).toBe(204);

    expectBadRefreshToken(await refresh(tokens.refresh_token));
    const v1 = await sdkError(
      sdk.oauth.tokensApi.create(
        'refresh_token',
        undefined,
        undefined,
        CLIENT_ID,
        CLIENT_SECRET,
        tokens.refresh_token,
      ),
    );
    expect(v1.code).toBe(400);
    expect(v1.body).toMatchObject({ error: 'invalid_grant', status: 'BAD_REFRESH_TOKEN' });

    const info = await fetch(`${simulator.url}/oauth/v1/refresh-tokens/${tokens.refresh_token}`);
    expect(info.status).toBe(404);
    assertMatchesSchema('oauth-v1', 'Error', await info.json());
    const list = await tokenList();
    expect(list.refreshTokens.find((t: Json) => t.token === tokens.refresh_token)).toMatchObject({
      live: false,
      revoked: true,
    });
  });

  test('leaves the access tokens made from it working until they expire, as HubSpot documents', async () => {
    const tokens = await install();
    const deleted = await fetch(`${simulator.url}/oauth/v1/refresh-tokens/${tokens.refresh_token}`, {
      method: 'DELETE',
    });
    expect(deleted.status).toBe(204);
    expect(await deleted.text()).toBe('');
    expect((await listContacts(tokens.access_token)).status).toBe(200);
    expect((await introspect(tokens.access_token)).body.active).toBe(true);
  });

  test('a token it does not know, or one already deleted, is a 404 in the spec error shape', async () => {
    const tokens = await install();
    const url = `${simulator.url}/oauth/v1/refresh-tokens/${tokens.refresh_token}`;
    expect((await fetch(url, { method: 'DELETE' })).status).toBe(204);
    const again = await fetch(url, { method: 'DELETE' });
    expect(again.status).toBe(404);
    assertMatchesSchema('oauth-v1', 'Error', await again.json());
    const unknown = await fetch(`${simulator.url}/oauth/v1/refresh-tokens/na1-unknown`, { method: 'DELETE' });
    expect(unknown.status).toBe(404);
  });
});

describe('POST /oauth/v3/token/introspect', () => {
  test('a live access token: active, with its hub id, scopes and expiry, in the spec shape', async () => {
    const tokens = await install();
    const answer = await introspect(tokens.access_token, { token_type_hint: 'access_token' });
    expect(answer.status).toBe(200);
    assertMatchesSchema('oauth-v3', 'TokenInfoResponseBaseIF', answer.body);
    assertMatchesSchema('oauth-v3', 'PublicAccessTokenInfoResponse', answer.body);
    expect(answer.body).toMatchObject({
      active: true,
      token: tokens.access_token,
      token_use: 'access_token',
      hub_id: 777,
      app_id: 4242,
      client_id: CLIENT_ID,
      expires_in: 1800,
      scopes: SCOPES,
    });
    expect(answer.body.signed_access_token).toMatchObject({ hubId: 777, appId: 4242 });
  });

  test('a live refresh token: active, in the refresh-token shape', async () => {
    const tokens = await install();
    const answer = await introspect(tokens.refresh_token, { token_type_hint: 'refresh_token' });
    expect(answer.status).toBe(200);
    assertMatchesSchema('oauth-v3', 'TokenInfoResponseBaseIF', answer.body);
    assertMatchesSchema('oauth-v3', 'PublicRefreshTokenInfoResponse', answer.body);
    expect(answer.body).toMatchObject({
      active: true,
      token_use: 'refresh_token',
      hub_id: 777,
      scopes: SCOPES,
    });
  });

  test('an expired access token and a revoked refresh token are inactive, still in the spec shape', async () => {
    const tokens = await install();
    expect((await revoke(tokens.refresh_token)).status).toBe(200);
    const revoked = await introspect(tokens.refresh_token);
    expect(revoked.status).toBe(200);
    assertMatchesSchema('oauth-v3', 'TokenInfoResponseBaseIF', revoked.body);
    expect(revoked.body.active).toBe(false);

    clock.advance(1800 * 1000 + 1);
    const expired = await introspect(tokens.access_token);
    expect(expired.status).toBe(200);
    assertMatchesSchema('oauth-v3', 'TokenInfoResponseBaseIF', expired.body);
    expect(expired.body).toMatchObject({ active: false, expires_in: 0 });
  });

  test('a token the portal never issued is {"active": false} (RFC 7662, section 2.2)', async () => {
    const answer = await introspect('CO-never-issued');
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ active: false });
  });

  test('wrong client credentials or no token are refused in the spec error shape', async () => {
    const tokens = await install();
    const wrongSecret = await introspect(tokens.access_token, { client_secret: 'nope' });
    expect(wrongSecret.status).toBe(400);
    expect(wrongSecret.body).toMatchObject({ error: 'invalid_client', status: 'BAD_CLIENT_SECRET' });
    assertMatchesSchema('oauth-v3', 'Error', wrongSecret.body);

    const noSecret = await form('/oauth/v3/token/introspect', {
      client_id: CLIENT_ID,
      token: tokens.access_token,
    });
    expect(noSecret.body.error).toBe('invalid_client');
    const wrongClient = await introspect(tokens.access_token, { client_id: 'someone-else' });
    expect(wrongClient.body.error).toBe('invalid_client');
    assertMatchesSchema('oauth-v3', 'Error', wrongClient.body);

    const noToken = await form('/oauth/v3/token/introspect', {
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
    });
    expect(noToken.status).toBe(400);
    expect(noToken.body.error).toBe('invalid_request');
    assertMatchesSchema('oauth-v3', 'Error', noToken.body);
  });
});

describe('POST /oauth/v3/token/revoke', () => {
  test('revokes a refresh token: 200, then the refresh grant fails with BAD_REFRESH_TOKEN', async () => {
    const tokens = await install();
    const answer = await revoke(tokens.refresh_token, { token_type_hint: 'refresh_token' });
    expect(answer.status).toBe(200);
    expect(answer.text).toBe('');
    expectBadRefreshToken(await refresh(tokens.refresh_token));
    // As with v1's DELETE, the access tokens already made keep working until they expire.
    expect((await listContacts(tokens.access_token)).status).toBe(200);
  });

  test('an unknown or already revoked token is still a 200 (RFC 7009, section 2.2)', async () => {
    const tokens = await install();
    expect((await revoke(tokens.refresh_token)).status).toBe(200);
    expect((await revoke(tokens.refresh_token)).status).toBe(200);
    expect((await revoke('na1-never-issued')).status).toBe(200);
  });

  test('an access token is refused with unsupported_token_type and keeps working', async () => {
    const tokens = await install();
    const answer = await revoke(tokens.access_token);
    expect(answer.status).toBe(400);
    expect(answer.body.error).toBe('unsupported_token_type');
    assertMatchesSchema('oauth-v3', 'Error', answer.body);
    expect((await listContacts(tokens.access_token)).status).toBe(200);
  });

  test('wrong client credentials are refused in the spec error shape and revoke nothing', async () => {
    const tokens = await install();
    const answer = await revoke(tokens.refresh_token, { client_secret: 'nope' });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: 'invalid_client', status: 'BAD_CLIENT_SECRET' });
    assertMatchesSchema('oauth-v3', 'Error', answer.body);
    expect((await refresh(tokens.refresh_token)).status).toBe(200);
  });
});

describe('a revoked private-app token', () => {
  test('answers 401 INVALID_AUTHENTICATION on list, get and search through the SDK; other apps carry on', async () => {
    const token = 'pat-na1-99999999-8888-7777-6666-555555555555';
    const client = sdkClient(simulator, token);
    const page = await client.crm.contacts.basicApi.getPage(1);
    const id = page.results[0]?.id as string;

    const revoked = await fetch(`${simulator.url}/__sim/private-apps/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    });
    expect(revoked.status).toBe(200);
    expect(await revoked.json()).toEqual({ token, live: false });

    const failures = [
      await sdkError(client.crm.contacts.basicApi.getPage(1)),
      await sdkError(client.crm.contacts.basicApi.getById(id)),
      await sdkError(client.crm.contacts.searchApi.doSearch({ filterGroups: [], limit: 1 })),
    ];
    for (const failure of failures) {
      expect(failure.code).toBe(401);
      expect(failure.body).toMatchObject({ status: 'error', category: 'INVALID_AUTHENTICATION' });
      assertMatchesSchema('crm-contacts-v3', 'Error', failure.body);
    }

    expect(
      (await sdkClient(simulator, PRIVATE_APP_TOKEN).crm.contacts.basicApi.getPage(1)).results,
    ).toHaveLength(1);
    const list = await tokenList();
    expect(list.privateAppTokens).toEqual([expect.objectContaining({ token, live: false, revoked: true })]);
  });

  test('the control endpoint takes only a private-app token', async () => {
    const answer = await fetch(`${simulator.url}/__sim/private-apps/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: 'CO-an-oauth-token' }),
    });
    expect(answer.status).toBe(400);
    expect(((await answer.json()) as Json).category).toBe('VALIDATION_ERROR');
  });
});

describe('uninstalling the app', () => {
  test('kills every access and refresh token of the app: 401 on the CRM API, BAD_REFRESH_TOKEN on refresh', async () => {
    const first = await install();
    const second = await install();
    const refreshed = (await refresh(first.refresh_token)).body as Tokens;
    const sdk = new Client({ accessToken: refreshed.access_token, basePath: simulator.url });
    expect((await sdk.crm.contacts.basicApi.getPage(1)).results).toHaveLength(1);

    const uninstall = await fetch(`${simulator.url}/__sim/oauth/uninstall`, { method: 'POST' });
    expect(uninstall.status).toBe(200);
    const counts = (await uninstall.json()) as Json;
    expect(counts.accessTokens).toBeGreaterThanOrEqual(3);
    expect(counts.refreshTokens).toBeGreaterThanOrEqual(2);

    for (const token of [first.access_token, second.access_token, refreshed.access_token]) {
      const denied = await listContacts(token);
      expect(denied.status).toBe(401);
      expect(denied.body.category).toBe('INVALID_AUTHENTICATION');
      assertMatchesSchema('crm-contacts-v3', 'Error', denied.body);
      const info = await introspect(token);
      assertMatchesSchema('oauth-v3', 'TokenInfoResponseBaseIF', info.body);
      expect(info.body.active).toBe(false);
      expect((await fetch(`${simulator.url}/oauth/v1/access-tokens/${token}`)).status).toBe(404);
    }
    const viaSdk = await sdkError(sdk.crm.contacts.basicApi.getPage(1));
    expect(viaSdk.code).toBe(401);
    for (const token of [first.refresh_token, second.refresh_token]) {
      expectBadRefreshToken(await refresh(token));
      expect((await introspect(token)).body.active).toBe(false);
    }

    const list = await tokenList();
    expect(list.accessTokens.every((t: Json) => !t.live)).toBe(true);
    expect(list.refreshTokens.every((t: Json) => !t.live)).toBe(true);

    // Installing again gives tokens that work.
    const again = await install();
    expect((await listContacts(again.access_token)).status).toBe(200);
    expect((await refresh(again.refresh_token)).status).toBe(200);
  });
});
