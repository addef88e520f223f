import { Client } from '@hubspot/api-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Simulator } from '../../src/sim/simulator.ts';
import { api, assertMatchesSchema, type Json, manualClock, startSimulator } from './helpers.ts';

const clock = manualClock();
const CLIENT_ID = 'test-client-id';
const CLIENT_SECRET = 'test-client-secret';
const REDIRECT_URI = 'http://127.0.0.1:3000/oauth/callback';
let simulator: Simulator;

beforeAll(async () => {
  simulator = await startSimulator({
    clock,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    tokenTtl: 1800,
    portalId: 777,
  });
});
afterAll(() => simulator.stop());

async function authorize(
  scope = 'oauth crm.objects.contacts.read crm.objects.contacts.write',
): Promise<string> {
  const query = new URLSearchParams({
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    scope,
    state: 'xyz-123',
  });
  const response = await fetch(`${simulator.url}/oauth/authorize?${query}`, { redirect: 'manual' });
  expect(response.status).toBe(302);
  const location = new URL(response.headers.get('location') as string);
  expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
  expect(location.searchParams.get('state')).toBe('xyz-123');
  return location.searchParams.get('code') as string;
}

async function tokenV3(form: Record<string, string>) {
  const response = await fetch(`${simulator.url}/oauth/v3/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  return { status: response.status, body: (await response.json()) as Json };
}

describe('OAuth through the official SDK (v1)', () => {
  test('the code grant, then the refresh grant, give tokens that work on the CRM API', async () => {
    const sdk = new Client({ basePath: simulator.url });
    const code = await authorize();
    const tokens = await sdk.oauth.tokensApi.create(
      'authorization_code',
      code,
      REDIRECT_URI,
      CLIENT_ID,
      CLIENT_SECRET,
    );
    expect(tokens.expiresIn).toBe(1800);
    expect(tokens.refreshToken).toBeTruthy();

    const api = new Client({ accessToken: tokens.accessToken, basePath: simulator.url });
    const page = await api.crm.contacts.basicApi.getPage(5);
    expect(page.results).toHaveLength(5);

    const info = await sdk.oauth.accessTokensApi.get(tokens.accessToken);
    expect(info.hubId).toBe(777);
    expect(info.scopes).toEqual(expect.arrayContaining(['crm.objects.contacts.read']));

    const refreshed = await sdk.oauth.tokensApi.create(
      'refresh_token',
      undefined,
      undefined,
      CLIENT_ID,
      CLIENT_SECRET,
      tokens.refreshToken,
    );
    expect(refreshed.accessToken).not.toBe(tokens.accessToken);
    expect(refreshed.refreshToken).toBe(tokens.refreshToken);
  });

  test('raw v1 answers validate against the OAuth v1 spec', async () => {
    const code = await authorize();
    const response = await fetch(`${simulator.url}/oauth/v1/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uri: REDIRECT_URI,
        code,
      }),
    });
    const tokens = (await response.json()) as Json;
    assertMatchesSchema('oauth-v1', 'TokenResponseIF', tokens);
    const info = await fetch(`${simulator.url}/oauth/v1/access-tokens/${tokens.access_token}`);
    assertMatchesSchema('oauth-v1', 'AccessTokenInfoResponse', await info.json());
  });
});

describe('OAuth v3 with form bodies', () => {
  test('the code and refresh grants answer in the v3 shape', async () => {
    const code = await authorize();
    const first = await tokenV3({
      grant_type: 'authorization_code',
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      redirect_uri: REDIRECT_URI,
      code,
    });
    expect(first.status).toBe(200);
    assertMatchesSchema('oauth-v3', 'TokenResponseIF', first.body);
    expect(first.body).toMatchObject({ token_type: 'bearer', expires_in: 1800, hub_id: 777 });
    const second = await tokenV3({
      grant_type: 'refresh_token',
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      refresh_token: first.body.refresh_token,
    });
    expect(second.status).toBe(200);
    assertMatchesSchema('oauth-v3', 'TokenResponseIF', second.body);
  });

  test('errors follow RFC 6749 with HubSpot status codes', async () => {
    const badRefresh = await tokenV3({
      grant_type: 'refresh_token',
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      refresh_token: 'na1-not-a-token',
    });
    expect(badRefresh.status).toBe(400);
    expect(badRefresh.body).toMatchObject({ error: 'invalid_grant', status: 'BAD_REFRESH_TOKEN' });

    const code = await authorize();
    const form = { grant_type: 'authorization_code', client_id: CLIENT_ID, redirect_uri: REDIRECT_URI, code };
    const wrongSecret = await tokenV3({ ...form, client_secret: 'nope' });
    expect(wrongSecret.body).toMatchObject({ error: 'invalid_client', status: 'BAD_CLIENT_SECRET' });
    expect((await tokenV3({ ...form, client_secret: CLIENT_SECRET })).status).toBe(200);
    const reused = await tokenV3({ ...form, client_secret: CLIENT_SECRET });
    expect(reused.body).toMatchObject({ error: 'invalid_grant', status: 'BAD_AUTH_CODE' });
    const wrongGrant = await tokenV3({ grant_type: 'password', client_id: CLIENT_ID });
    expect(wrongGrant.body.error).toBe('unsupported_grant_type');
  });

  test('an access token stops working after --token-ttl and the token list says it is dead', async () => {
    const code = await authorize();
    const tokens = await tokenV3({
      grant_type: 'authorization_code',
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      redirect_uri: REDIRECT_URI,
      code,
    });
    const token = tokens.body.access_token as string;
    expect((await api(simulator, 'GET', '/crm/v3/objects/contacts?limit=1', undefined, token)).status).toBe(
      200,
    );
    clock.advance(1800 * 1000 + 1);
    const expired = await api(simulator, 'GET', '/crm/v3/objects/contacts?limit=1', undefined, token);
    expect(expired.status).toBe(401);
    expect(expired.body.category).toBe('EXPIRED_AUTHENTICATION');
    const list = (await (await fetch(`${simulator.url}/__sim/oauth/tokens`)).json()) as Json;
    expect(list.accessTokens.find((t: Json) => t.token === token)?.live).toBe(false);
    const info = await fetch(`${simulator.url}/oauth/v1/access-tokens/${token}`);
    expect(info.status).toBe(404);
  });

  test('a token without contact scopes gets a 403 MISSING_SCOPES', async () => {
    const code = await authorize('oauth');
    const tokens = await tokenV3({
      grant_type: 'authorization_code',
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      redirect_uri: REDIRECT_URI,
      code,
    });
    const denied = await api(
      simulator,
      'GET',
      '/crm/v3/objects/contacts',
      undefined,
      tokens.body.access_token,
    );
    expect(denied.status).toBe(403);
    expect(denied.body.category).toBe('MISSING_SCOPES');
  });
});
