/**
 * The bench's traffic: a deterministic, realistic mix of HubSpot contact events, cut into deliveries of 100,
 * serialised once and signed (v3) the way HubSpot does it, outside any timed section.
 */
import { createHmac } from 'node:crypto';
import type { OutgoingHttpHeaders } from 'node:http';

export const PORTAL_ID = 62515;
export const APP_ID = 54321;
export const SECRET = 'bench-client-secret-0123456789abcdef';
export const WEBHOOK_PATH = '/webhooks/hubspot';

export type BenchEvent = Record<string, unknown> & {
  eventId: number;
  subscriptionId: number;
  portalId: number;
  occurredAt: number;
  subscriptionType: string;
  objectId: number;
};

/** Mulberry32: a small seeded PRNG, so every run sends the same traffic. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PROPERTIES: Record<string, (n: number) => string> = {
  firstname: (n) => ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Margaret'][n % 7] ?? '',
  lastname: (n) => ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Hamilton'][n % 7] ?? '',
  email: (n) => `person${n}@example${n % 97}.com`,
  phone: (n) => `+1 555 ${String(n % 10_000_000).padStart(7, '0')}`,
  company: (n) => `Company ${n % 5000} Inc.`,
  jobtitle: (n) => ['Engineer', 'Manager', 'Director', 'VP Sales', 'CTO', 'Analyst'][n % 6] ?? '',
  city: (n) => ['Paris', 'Berlin', 'Boston', 'Tokyo', 'Lagos', 'Lima', 'Oslo'][n % 7] ?? '',
  lifecyclestage: (n) =>
    ['subscriber', 'lead', 'marketingqualifiedlead', 'opportunity', 'customer'][n % 5] ?? '',
  hs_lead_status: (n) => ['NEW', 'OPEN', 'IN_PROGRESS', 'CONNECTED', ''][n % 5] ?? '',
};
const PROPERTY_NAMES = Object.keys(PROPERTIES);

/** Shares of each subscription type (the rest is contact.propertyChange). */
export const MIX = {
  'contact.creation': 0.03,
  'contact.deletion': 0.01,
  'contact.restore': 0.005,
  'contact.merge': 0.003,
  'contact.associationChange': 0.005,
} as const;

/**
 * `count` events over `contacts` contact ids. Times run forward by ~1 ms an event with a few seconds of jitter,
 * so some property changes arrive older than what a contact already holds (recorded stale, not applied).
 * Every event has its own composite key, so the inbox should end up holding exactly `count` rows.
 */
export function buildEvents(count: number, contacts: number, seed = 42): BenchEvent[] {
  const next = random(seed);
  const firstId = 1_000_001;
  const pickId = () => firstId + Math.floor(next() * contacts);
  const base = Date.now() - 3_600_000;
  const events: BenchEvent[] = [];
  for (let i = 0; i < count; i++) {
    const objectId = pickId();
    const roll = next();
    const common = {
      eventId: 100_000_000 + i,
      portalId: PORTAL_ID,
      appId: APP_ID,
      occurredAt: base + i + Math.floor(next() * 4000) - 2000,
      attemptNumber: 0,
      objectId,
      changeSource: 'CRM',
    };
    let threshold = 0;
    let type = 'contact.propertyChange';
    for (const [name, share] of Object.entries(MIX)) {
      threshold += share;
      if (roll < threshold) {
        type = name;
        break;
      }
    }
    if (type === 'contact.propertyChange') {
      const k = Math.floor(next() * PROPERTY_NAMES.length);
      const propertyName = PROPERTY_NAMES[k] ?? 'firstname';
      const value = PROPERTIES[propertyName]?.(Math.floor(next() * 1_000_000)) ?? '';
      events.push({
        ...common,
        subscriptionId: 2000 + k,
        subscriptionType: type,
        propertyName,
        propertyValue: value,
        sourceId: `userId:${1000 + (objectId % 50)}`,
      });
    } else if (type === 'contact.merge') {
      let loser = pickId();
      if (loser === objectId) loser = objectId === firstId ? objectId + 1 : objectId - 1;
      events.push({
        ...common,
        subscriptionId: 1006,
        subscriptionType: type,
        primaryObjectId: objectId,
        mergedObjectIds: [loser],
        newObjectId: objectId,
        numberOfPropertiesMoved: 3,
      });
    } else if (type === 'contact.associationChange') {
      events.push({
        ...common,
        subscriptionId: 1007,
        subscriptionType: type,
        associationType: 'CONTACT_TO_COMPANY',
        fromObjectId: objectId,
        toObjectId: 5_000_000 + (objectId % 997),
        associationRemoved: false,
        isPrimaryAssociation: true,
      });
    } else {
      events.push({
        ...common,
        subscriptionId: 1000 + Object.keys(MIX).indexOf(type),
        subscriptionType: type,
        ...(type === 'contact.creation' ? { changeFlag: 'NEW' } : {}),
        ...(type === 'contact.deletion' ? { changeFlag: 'DELETED' } : {}),
        ...(type === 'contact.restore' ? { changeFlag: 'RESTORED' } : {}),
      });
    }
  }
  return events;
}

export function countTypes(events: readonly BenchEvent[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const event of events) counts[event.subscriptionType] = (counts[event.subscriptionType] ?? 0) + 1;
  return counts;
}

export interface Delivery {
  body: Buffer;
  events: number;
  headers: OutgoingHttpHeaders;
  signedAt: number;
}

/** v3: base64 HMAC-SHA256(secret, 'POST' + url + body + timestamp). */
export function signDelivery(delivery: Delivery, url: string, timestamp = Date.now()): void {
  const signature = createHmac('sha256', SECRET)
    .update(`POST${url}`)
    .update(delivery.body)
    .update(String(timestamp))
    .digest('base64');
  delivery.headers['x-hubspot-signature-v3'] = signature;
  delivery.headers['x-hubspot-request-timestamp'] = String(timestamp);
  delivery.signedAt = timestamp;
}

/** Serialises the events into deliveries of `size` (unsigned until signDeliveries). */
export function buildDeliveries(events: readonly BenchEvent[], size: number): Delivery[] {
  const deliveries: Delivery[] = [];
  for (let i = 0; i < events.length; i += size) {
    const slice = events.slice(i, i + size);
    const body = Buffer.from(JSON.stringify(slice));
    deliveries.push({
      body,
      events: slice.length,
      headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
      signedAt: 0,
    });
  }
  return deliveries;
}

/** Signs every delivery for `url` with one fresh timestamp; returns how long it took (ms). */
export function signDeliveries(deliveries: readonly Delivery[], url: string): number {
  const started = performance.now();
  const timestamp = Date.now();
  for (const delivery of deliveries) signDelivery(delivery, url, timestamp);
  return performance.now() - started;
}
