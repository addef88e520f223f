import type { RouteOptions } from 'fastify';
import { describe, expect, vi } from 'vitest';
import { asReader, buildTestApp } from '../helpers/app.ts';
import { dbTest as test } from '../helpers/database.ts';

// Every route the app registers, seen as Fastify registers it (hidden ones included), so a new route is
// covered by these checks without anyone remembering to add it here.
const registered = vi.hoisted(() => [] as { method: string; url: string }[]);
vi.mock('fastify', async (importOriginal) => {
  const original = await importOriginal<typeof import('fastify')>();
  const create = ((options?: unknown) => {
    const app = original.default(options as never);
    app.addHook('onRoute', (route: RouteOptions) => {
      for (const method of [route.method].flat()) registered.push({ method, url: route.url });
    });
    return app;
  }) as unknown as typeof original.default;
  return { ...original, default: Object.assign(create, original.default) };
});

/** Routes outside /api that anyone may call, each for a reason. Anything else outside /api needs a token. */
const PUBLIC: { url: RegExp; why: string }[] = [
  { url: /^\/(healthz|readyz)$/, why: 'platform health checks carry no token' },
  { url: /^\/docs(\/.*)?$/, why: 'the OpenAPI description holds no data' },
  { url: /^\/oauth\/callback$/, why: "HubSpot's redirect, checked by its signed single-use state" },
  { url: /^\/webhooks\/hubspot$/, why: "HubSpot's deliveries, checked by their signature" },
  {
    url: /^\/(|index\.html|app\.js|dashboard\.(js|css)|(lib|panels|vendor)\/[\w.-]+\.m?js)$/,
    why: 'the dashboard page and its files; it asks for a token before calling /api',
  },
];

const SAMPLE_PARAMS: Record<string, string> = {
  id: '00000000-0000-4000-8000-000000000000',
  hubspotId: '101',
  name: 'some-key',
};
const concrete = (url: string) =>
  url.replace(/:(\w+)/g, (_, name: string) => SAMPLE_PARAMS[name] ?? 'x').replace(/\*$/, 'x');

async function routesOf(database: Parameters<typeof buildTestApp>[0]) {
  registered.length = 0;
  const app = await buildTestApp(database);
  const routes = registered.filter((r) => r.method !== 'HEAD' && r.method !== 'OPTIONS');
  return { app, routes: [...new Map(routes.map((r) => [`${r.method} ${r.url}`, r])).values()] };
}

const call = (method: string, url: string, headers: Record<string, string> = {}) => ({
  method: method as 'GET',
  url: concrete(url),
  headers: method === 'GET' ? headers : { ...headers, 'content-type': 'application/json' },
  ...(method === 'GET' ? {} : { payload: '{}' }),
});

describe('every route declares who may call it', () => {
  test('the route table is seen whole (the checks below are not vacuous)', async ({ database }) => {
    const { app, routes } = await routesOf(database);
    const names = routes.map((r) => `${r.method} ${r.url}`);
    expect(names).toEqual(
      expect.arrayContaining([
        'POST /api/contacts/sync',
        'POST /api/errors/:id/resolve',
        'POST /api/errors/:id/replay',
        'GET /api/contacts',
        'GET /healthz',
      ]),
    );
    await app.close();
  });

  test('every /api route refuses a request without a token with 401', async ({ database }) => {
    const { app, routes } = await routesOf(database);
    const api = routes.filter((r) => r.url.startsWith('/api/'));
    expect(api.length).toBeGreaterThan(10);
    const open = [];
    for (const { method, url } of api) {
      const response = await app.inject(call(method, url));
      if (response.statusCode !== 401) open.push(`${method} ${url}: ${response.statusCode}`);
    }
    expect(open).toEqual([]);
    await app.close();
  });

  test('every /api route that is not a GET refuses the read token with 403', async ({ database }) => {
    const { app, routes } = await routesOf(database);
    const writes = routes.filter((r) => r.url.startsWith('/api/') && r.method !== 'GET');
    expect(writes.map((r) => `${r.method} ${r.url}`)).toEqual(
      expect.arrayContaining(['POST /api/contacts/sync', 'POST /api/errors/:id/resolve']),
    );
    const open = [];
    for (const { method, url } of writes) {
      const response = await app.inject(call(method, url, asReader));
      if (response.statusCode !== 403) open.push(`${method} ${url}: ${response.statusCode}`);
    }
    expect(open).toEqual([]);
    await app.close();
  });

  test('a route outside /api is public only if the allow-list says why; any other needs a token', async ({
    database,
  }) => {
    const { app, routes } = await routesOf(database);
    const outside = routes.filter((r) => !r.url.startsWith('/api/'));
    const guarded = outside.filter((r) => !PUBLIC.some((p) => p.url.test(r.url)));
    // Today: the live feed and the OAuth install redirect, which take their token from the query too.
    expect(guarded.map((r) => `${r.method} ${r.url}`).sort()).toEqual(['GET /oauth/install', 'GET /ws']);
    for (const { method, url } of guarded) {
      expect((await app.inject(call(method, url))).statusCode, `${method} ${url}`).toBe(401);
    }
    await app.close();
  });
});
