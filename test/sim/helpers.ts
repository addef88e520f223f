import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@hubspot/api-client';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { createSimulator, type Simulator, type SimulatorOptions } from '../../src/sim/simulator.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const specsDir = path.resolve(repoRoot, 'test', 'fixtures', 'hubspot-api-specs');

/** Parsed JSON under test: its shape is what the assertions check. */
// biome-ignore lint/suspicious/noExplicitAny: answers are checked by assertions and schemas, not by types
export type Json = any;

export const PRIVATE_APP_TOKEN = 'pat-na1-11111111-2222-3333-4444-555555555555';

/** A simulator for one test file: small, no rate limit unless asked, fast retries, errors not logged. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  return createSimulator({
    contacts: 120,
    rateLimit: 'off',
    retryBaseMs: 20,
    // Search's lag is tested on its own; elsewhere a write is searched for at once.
    searchLagMs: 0,
    logErrors: false,
    ...options,
  });
}

export function sdkClient(simulator: Simulator, accessToken = PRIVATE_APP_TOKEN): Client {
  return new Client({ accessToken, basePath: simulator.url });
}

export interface TruthContact {
  id: string;
  properties: Record<string, string>;
  archived: boolean;
  mergedInto: string | null;
  createdAt: string;
  updatedAt: string;
}

export async function truth(simulator: Simulator): Promise<TruthContact[]> {
  const response = await fetch(`${simulator.url}/__sim/contacts`);
  return (await response.json()) as TruthContact[];
}

export async function api(
  simulator: Simulator,
  method: string,
  pathAndQuery: string,
  body?: unknown,
  token: string | null = PRIVATE_APP_TOKEN,
): Promise<{ status: number; headers: Headers; body: Json }> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${simulator.url}${pathAndQuery}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

// ---------------------------------------------------------------------------------------------------------
// OpenAPI response schemas, straight from HubSpot's spec files.

type SpecName =
  | 'crm-contacts-v3'
  | 'crm-properties-v3'
  | 'oauth-v1'
  | 'oauth-v3'
  | 'webhooks-journal-2026-03';

/**
 * HubSpot's specs type property values as strings, but its API answers a requested property that has no value
 * with null (HUBSPOT.md: "Properties come as strings or null"); the one patch made to the specs allows that.
 */
function allowNullPropertyValues(spec: Json): void {
  for (const schema of Object.values<Json>(spec.components?.schemas ?? {})) {
    const values = schema?.properties?.properties?.additionalProperties;
    if (values?.type === 'string') values.type = ['string', 'null'];
  }
}

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats.default(ajv);
ajv.addFormat('int32', {
  type: 'number',
  validate: (n: number) => Number.isInteger(n) && Math.abs(n) < 2 ** 31,
});
ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
for (const name of [
  'crm-contacts-v3',
  'crm-properties-v3',
  'oauth-v1',
  'oauth-v3',
  'webhooks-journal-2026-03',
] as const) {
  const spec = JSON.parse(readFileSync(path.join(specsDir, `${name}.json`), 'utf8'));
  allowNullPropertyValues(spec);
  ajv.addSchema({ $id: name, components: spec.components });
}

/** Throws with ajv's explanation when `value` does not match `components.schemas[schema]` of the spec. */
export function assertMatchesSchema(spec: SpecName, schema: string, value: unknown): void {
  const validate = ajv.getSchema(`${spec}#/components/schemas/${schema}`);
  if (!validate) throw new Error(`no schema ${schema} in ${spec}`);
  if (!validate(value)) {
    throw new Error(
      `${schema} mismatch: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value).slice(0, 800)}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------------------
// A webhook receiver that records every delivery with its raw body.

export interface Delivery {
  headers: IncomingHttpHeaders;
  rawBody: string;
  events: Record<string, Json>[];
  receivedAt: number;
}

export interface Receiver {
  url: string;
  deliveries: Delivery[];
  events(): Record<string, Json>[];
  /** Decides each answer's status (possibly after a while); 204 by default. */
  respondWith(status: (delivery: Delivery, index: number) => number | Promise<number>): void;
  /** The most requests that were open at once. */
  maxConcurrent(): number;
  close(): Promise<void>;
}

export async function startReceiver(pathname = '/webhooks/hubspot?portal=1'): Promise<Receiver> {
  const deliveries: Delivery[] = [];
  let decide: (delivery: Delivery, index: number) => number | Promise<number> = () => 204;
  let open = 0;
  let maxOpen = 0;
  const server = createServer((request, response) => {
    open++;
    maxOpen = Math.max(maxOpen, open);
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const delivery = {
        headers: request.headers,
        rawBody,
        events: JSON.parse(rawBody),
        receivedAt: Date.now(),
      };
      deliveries.push(delivery);
      const status = await decide(delivery, deliveries.length - 1);
      open--;
      if (response.destroyed) return;
      response.statusCode = status;
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${pathname}`,
    deliveries,
    events: () => deliveries.flatMap((delivery) => delivery.events),
    respondWith(status) {
      decide = status;
    },
    maxConcurrent: () => maxOpen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A clock the test moves by hand. */
export function manualClock(start = Date.UTC(2026, 5, 1)) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}
