import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Simulator } from '../../src/sim/simulator.ts';
import { api, type Receiver, startReceiver, startSimulator, truth } from './helpers.ts';

let simulator: Simulator;
let receiver: Receiver;

beforeAll(async () => {
  receiver = await startReceiver();
  simulator = await startSimulator({ contacts: 600, seed: 'control', webhookUrl: receiver.url });
});
afterAll(async () => {
  await simulator.stop();
  await receiver.close();
});

const post = (path: string, body?: unknown) =>
  fetch(`${simulator.url}${path}`, {
    method: 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

describe('the control API', () => {
  test('GET /__sim/contacts is the whole truth: archived and merged-away contacts included', async () => {
    const rows = await truth(simulator);
    expect(rows).toHaveLength(600);
    const firstId = String(simulator.portal.plan.idBase);
    expect(rows[0]).toEqual({
      id: firstId,
      properties: expect.objectContaining({ hs_object_id: firstId, email: expect.stringContaining('@') }),
      archived: false,
      mergedInto: null,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(rows.filter((row) => row.mergedInto !== null).length).toBeGreaterThan(0);
    expect(rows.filter((row) => row.archived && row.mergedInto === null).length).toBeGreaterThan(0);
    const survivor = rows.find((row) => row.id === rows.find((r) => r.mergedInto)?.mergedInto);
    expect(survivor?.properties.hs_merged_object_ids).toBeDefined();
  });

  test('the same seed gives the same portal and another seed a different one', async () => {
    const twin = await startSimulator({ contacts: 600, seed: 'control' });
    const other = await startSimulator({ contacts: 600, seed: 'other' });
    try {
      const [mine, twins, others] = await Promise.all([truth(simulator), truth(twin), truth(other)]);
      expect(twins[5]).toEqual(mine[5]);
      expect(others[5]?.properties.email).not.toBe(mine[5]?.properties.email);
    } finally {
      await Promise.all([twin.stop(), other.stop()]);
    }
  });

  test('activity makes the realistic mix, fires webhooks for it, and answers when it is done', async () => {
    const started = Date.now();
    const response = await post('/__sim/activity', { changes: 400, perSecond: 4000 });
    const report = (await response.json()) as { made: number; byKind: Record<string, number> };
    expect(report.made).toBe(400);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    for (const kind of ['edit', 'create', 'import', 'delete', 'restore', 'merge', 'privacyDeletion']) {
      expect(report.byKind[kind]).toBeGreaterThan(0);
    }
    const drained = (await (await post('/__sim/webhooks/drain')).json()) as Record<string, number>;
    expect(drained).toMatchObject({ failed: 0, pending: 0 });
    const events = receiver.events();
    expect(drained.delivered).toBe(events.length);
    const types = new Set(events.map((event) => event.subscriptionType));
    for (const type of [
      'contact.creation',
      'contact.propertyChange',
      'contact.deletion',
      'contact.restore',
      'contact.merge',
      'contact.privacyDeletion',
    ]) {
      expect(types).toContain(type);
    }
    // An import touches many contacts with one shared timestamp.
    const imported = events.filter((event) => event.changeSource === 'IMPORT');
    const perTimestamp = new Map<number, Set<number>>();
    for (const event of imported) {
      const ids = perTimestamp.get(event.occurredAt) ?? new Set();
      ids.add(event.objectId);
      perTimestamp.set(event.occurredAt, ids);
    }
    expect(Math.max(...[...perTimestamp.values()].map((ids) => ids.size))).toBeGreaterThanOrEqual(10);
    const rows = await truth(simulator);
    expect(rows.length).toBeGreaterThan(600);
  });

  test('latencyMs slows every API answer and errorRate turns answers into 5xx envelopes', async () => {
    await post('/__sim/faults', { latencyMs: 120 });
    const started = Date.now();
    expect((await api(simulator, 'GET', '/crm/v3/objects/contacts?limit=1')).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(110);
    await post('/__sim/faults', { latencyMs: 0, errorRate: 1 });
    const failed = await api(simulator, 'GET', '/crm/v3/objects/contacts?limit=1');
    expect(failed.status).toBeGreaterThanOrEqual(500);
    expect(failed.body).toMatchObject({ status: 'error', correlationId: expect.any(String) });
    await post('/__sim/faults', { errorRate: 0 });
    expect((await api(simulator, 'GET', '/crm/v3/objects/contacts?limit=1')).status).toBe(200);
  });

  test('drain gives up after timeoutMs with the events still pending, and the target can be switched', async () => {
    const dead = 'http://127.0.0.1:9/unreachable';
    await post('/__sim/webhooks/target', { url: dead });
    await api(simulator, 'PATCH', `/crm/v3/objects/contacts/${simulator.portal.plan.idBase}`, {
      properties: { jobtitle: 'Queued' },
    });
    const waiting = (await (await post('/__sim/webhooks/drain', { timeoutMs: 50 })).json()) as Record<
      string,
      number
    >;
    expect(waiting.pending).toBeGreaterThan(0);
    await post('/__sim/webhooks/target', { url: receiver.url });
    const done = (await (await post('/__sim/webhooks/drain')).json()) as Record<string, number>;
    expect(done.pending).toBe(0);
    expect(receiver.events().some((event) => event.propertyValue === 'Queued')).toBe(true);
  });

  test('a malformed paging cursor is a 400', async () => {
    expect((await api(simulator, 'GET', '/crm/v3/objects/contacts?after=%%%')).status).toBe(400);
  });

  test('bad fault settings are refused with a 400', async () => {
    expect((await post('/__sim/faults', { errorRate: 2 })).status).toBe(400);
    expect((await post('/__sim/faults', { rateLimit: 'lots' })).status).toBe(400);
    expect((await post('/__sim/faults', { nonsense: true })).status).toBe(400);
  });
});
