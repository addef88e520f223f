import { afterEach, describe, expect, test } from 'vitest';
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

let simulator: Simulator | undefined;
afterEach(async () => {
  await simulator?.stop();
  simulator = undefined;
});

describe('the ten-secondly rolling limit', () => {
  test('remaining counts down in the headers and the call over the limit is a 429 TEN_SECONDLY_ROLLING through the SDK', async () => {
    const clock = manualClock();
    simulator = await startSimulator({ clock, contacts: 5, rateLimit: '4/10s' });
    const client = sdkClient(simulator);
    const remaining: string[] = [];
    for (let i = 0; i < 4; i++) {
      const response = await client.crm.contacts.basicApi.getPageWithHttpInfo(1);
      expect(response.headers['x-hubspot-ratelimit-max']).toBe('4');
      expect(response.headers['x-hubspot-ratelimit-interval-milliseconds']).toBe('10000');
      remaining.push(response.headers['x-hubspot-ratelimit-remaining'] as string);
    }
    expect(remaining).toEqual(['3', '2', '1', '0']);
    const error = (await client.crm.contacts.basicApi.getPage(1).catch((e: unknown) => e)) as {
      code: number;
      body: Json;
      headers: Record<string, string>;
    };
    expect(error.code).toBe(429);
    const body = typeof error.body === 'string' ? JSON.parse(error.body) : error.body;
    expect(body).toMatchObject({
      status: 'error',
      errorType: 'RATE_LIMIT',
      policyName: 'TEN_SECONDLY_ROLLING',
    });
    expect(error.headers['x-hubspot-ratelimit-remaining']).toBe('0');

    // The window rolls: requests older than 10 s stop counting.
    clock.advance(10_001);
    expect((await client.crm.contacts.basicApi.getPageWithHttpInfo(1)).httpStatusCode).toBe(200);
  });

  test('private apps see daily headers and hit the DAILY cap; OAuth apps have no daily headers', async () => {
    simulator = await startSimulator({ contacts: 5, rateLimit: '100/10s', dailyLimit: 2 });
    const first = await api(simulator, 'GET', '/crm/v3/objects/contacts');
    expect(first.headers.get('x-hubspot-ratelimit-daily')).toBe('2');
    expect(first.headers.get('x-hubspot-ratelimit-daily-remaining')).toBe('1');
    await api(simulator, 'GET', '/crm/v3/objects/contacts');
    const capped = await api(simulator, 'GET', '/crm/v3/objects/contacts');
    expect(capped.status).toBe(429);
    expect(capped.body.policyName).toBe('DAILY');
    // A different private app has its own budget.
    expect((await api(simulator, 'GET', '/crm/v3/objects/contacts', undefined, 'pat-na1-other')).status).toBe(
      200,
    );
  });

  test('POST /__sim/faults changes the rate limit at run time and off removes it', async () => {
    simulator = await startSimulator({ contacts: 5, rateLimit: '190/10s' });
    const faults = await fetch(`${simulator.url}/__sim/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rateLimit: '2/1s' }),
    });
    expect(faults.status).toBe(200);
    const statuses = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await api(simulator, 'GET', '/crm/v3/objects/contacts')).status);
    expect(statuses).toEqual([200, 200, 429]);
    await fetch(`${simulator.url}/__sim/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rateLimit: 'off' }),
    });
    const open = await api(simulator, 'GET', '/crm/v3/objects/contacts');
    expect(open.status).toBe(200);
    expect(open.headers.get('x-hubspot-ratelimit-max')).toBeNull();
  });
});

describe('limits by kind of app', () => {
  async function oauthAccessToken(current: Simulator): Promise<string> {
    const redirectUri = 'http://127.0.0.1:3000/oauth/callback';
    const query = new URLSearchParams({
      client_id: current.options.clientId,
      redirect_uri: redirectUri,
      scope: 'oauth crm.objects.contacts.read',
    });
    const consent = await fetch(`${current.url}/oauth/authorize?${query}`, { redirect: 'manual' });
    const code = new URL(consent.headers.get('location') as string).searchParams.get('code') as string;
    const tokens = await fetch(`${current.url}/oauth/v3/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: current.options.clientId,
        client_secret: current.options.clientSecret,
        redirect_uri: redirectUri,
        code,
      }),
    });
    return ((await tokens.json()) as Json).access_token;
  }

  /** Calls until the first 429; answers how many got through and the headers of the first answer. */
  async function callUntilLimited(current: Simulator, token: string, atMost: number) {
    let first: Headers | undefined;
    for (let i = 0; i < atMost; i++) {
      const answer = await api(current, 'GET', '/crm/v3/objects/contacts?limit=1', undefined, token);
      first ??= answer.headers;
      if (answer.status === 429) {
        expect(answer.body).toMatchObject({ policyName: 'TEN_SECONDLY_ROLLING' });
        assertMatchesSchema('crm-contacts-v3', 'Error', answer.body);
        return { allowed: i, first: first as Headers, limited: answer };
      }
      expect(answer.status).toBe(200);
    }
    throw new Error(`no 429 after ${atMost} calls`);
  }

  test('by default an OAuth app gets 110 per 10 s and a private app 190, each advertised in its own headers', async () => {
    const clock = manualClock();
    simulator = await startSimulator({ clock, contacts: 5, rateLimit: '190/10s', dailyLimit: null });
    const oauthToken = await oauthAccessToken(simulator);

    const oauth = await callUntilLimited(simulator, oauthToken, 200);
    expect(oauth.allowed).toBe(110);
    expect(oauth.first.get('x-hubspot-ratelimit-max')).toBe('110');
    expect(oauth.first.get('x-hubspot-ratelimit-interval-milliseconds')).toBe('10000');
    expect(oauth.first.get('x-hubspot-ratelimit-remaining')).toBe('109');
    expect(oauth.limited.headers.get('x-hubspot-ratelimit-max')).toBe('110');
    // OAuth apps have no daily cap and no daily headers.
    expect(oauth.first.get('x-hubspot-ratelimit-daily')).toBeNull();

    // The OAuth app's budget is its own: a private app still has all 190.
    const privateApp = await callUntilLimited(simulator, PRIVATE_APP_TOKEN, 300);
    expect(privateApp.allowed).toBe(190);
    expect(privateApp.first.get('x-hubspot-ratelimit-max')).toBe('190');
    expect(privateApp.first.get('x-hubspot-ratelimit-remaining')).toBe('189');

    clock.advance(10_001);
    expect((await api(simulator, 'GET', '/crm/v3/objects/contacts', undefined, oauthToken)).status).toBe(200);
  });

  test('oauthRateLimit and POST /__sim/faults {"oauthRateLimit"} set the OAuth limit on its own', async () => {
    simulator = await startSimulator({ contacts: 5, rateLimit: '5/10s', oauthRateLimit: '3/10s' });
    const oauthToken = await oauthAccessToken(simulator);
    expect((await callUntilLimited(simulator, oauthToken, 10)).allowed).toBe(3);
    expect((await callUntilLimited(simulator, PRIVATE_APP_TOKEN, 10)).allowed).toBe(5);

    const faults = await fetch(`${simulator.url}/__sim/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ oauthRateLimit: '2/1s' }),
    });
    expect(await faults.json()).toMatchObject({ rateLimit: '5/10000ms', oauthRateLimit: '2/1000ms' });
    const limited = await callUntilLimited(simulator, oauthToken, 10);
    expect(limited.allowed).toBe(2);
    expect(limited.first.get('x-hubspot-ratelimit-max')).toBe('2');

    const bad = await fetch(`${simulator.url}/__sim/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rateLimit: '9/1s', oauthRateLimit: 'fast' }),
    });
    expect(bad.status).toBe(400);
    // A bad value changes neither limit.
    expect(await (await fetch(`${simulator.url}/__sim/faults`)).json()).toMatchObject({
      rateLimit: '5/10000ms',
    });
  });

  test('rateLimit off turns the OAuth limit off too', async () => {
    simulator = await startSimulator({ contacts: 5, rateLimit: 'off' });
    const answer = await api(
      simulator,
      'GET',
      '/crm/v3/objects/contacts',
      undefined,
      await oauthAccessToken(simulator),
    );
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-hubspot-ratelimit-max')).toBeNull();
  });
});
