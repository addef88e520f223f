import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, test } from 'vitest';
import { type Stack, startStack } from '../helpers/stack.ts';

/** The app's configured target URL: what HubSpot signs. TLS ends at the proxy, which forwards to the service. */
const PUBLIC_URL = 'https://sync.example.com/webhooks/hubspot';

interface Proxy {
  url: string;
  /** The service's answer to each forwarded delivery. */
  statuses: number[];
  close(): Promise<void>;
}

/** A stand-in for a TLS-terminating proxy: forwards every POST, body and headers untouched, to `target`. */
async function startProxy(target: () => string): Promise<Proxy> {
  const statuses: number[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      const headers = Object.fromEntries(
        Object.entries(request.headers).filter(
          (entry): entry is [string, string] => typeof entry[1] === 'string' && entry[0] !== 'host',
        ),
      );
      try {
        const answer = await fetch(target(), { method: 'POST', headers, body: Buffer.concat(chunks) });
        statuses.push(answer.status);
        response.writeHead(answer.status, { 'content-type': 'application/json' });
        response.end(Buffer.from(await answer.arrayBuffer()));
      } catch {
        response.writeHead(502);
        response.end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks/hubspot`,
    statuses,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let stack: Stack | undefined;
let proxy: Proxy | undefined;

afterEach(async () => {
  await stack?.stop();
  await proxy?.close();
  stack = undefined;
  proxy = undefined;
});

/** The simulator signs PUBLIC_URL and posts to the proxy, which forwards to the service's own address. */
async function behindProxy(publicUrl: string | undefined): Promise<Stack> {
  stack = await startStack(
    { signedUrl: PUBLIC_URL, retryBaseMs: 1 },
    publicUrl === undefined ? {} : { env: { WEBHOOK_PUBLIC_URL: publicUrl } },
  );
  const service = `${stack.address}/webhooks/hubspot`;
  proxy = await startProxy(() => service);
  stack.simulator.setWebhookUrl(proxy.url);
  return stack;
}

async function mirrored(database: Stack['database'], email: string): Promise<boolean> {
  const rows = await database.rows<{ n: number }>(
    sql`select count(*)::int as n from contacts where data->>'email' = ${email}`,
  );
  return (rows[0]?.n ?? 0) > 0;
}

describe('webhook signatures behind a TLS-terminating proxy', () => {
  test('with WEBHOOK_PUBLIC_URL set to the URL HubSpot signed, deliveries verify and apply', async () => {
    const { hubspot, simulator, database, settle } = await behindProxy(PUBLIC_URL);
    await hubspot.crm.contacts.basicApi.create({
      properties: { email: 'behind-proxy@example.com', firstname: 'Proxied' },
      associations: [],
    });
    await settle();

    expect(simulator.deliverer.stats()).toMatchObject({ failed: 0, pending: 0 });
    expect(proxy?.statuses.length).toBeGreaterThan(0);
    expect(proxy?.statuses.every((status) => status === 200)).toBe(true);
    expect(await mirrored(database, 'behind-proxy@example.com')).toBe(true);
  });

  test.each([
    ['without WEBHOOK_PUBLIC_URL', undefined],
    ['with WEBHOOK_PUBLIC_URL naming another URL', 'https://other.example.com/webhooks/hubspot'],
  ])('%s, every delivery is refused with 401 and HubSpot retries it to the end', async (_name, publicUrl) => {
    const { hubspot, simulator, database } = await behindProxy(publicUrl);
    await hubspot.crm.contacts.basicApi.create({
      properties: { email: 'refused@example.com' },
      associations: [],
    });
    const stats = await simulator.drainWebhooks();

    expect(stats.delivered).toBe(0);
    expect(stats.failed).toBeGreaterThan(0);
    expect(proxy?.statuses.length).toBeGreaterThanOrEqual(10);
    expect(new Set(proxy?.statuses)).toEqual(new Set([401]));
    expect(await mirrored(database, 'refused@example.com')).toBe(false);
  });
});
