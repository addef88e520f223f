import { sql } from 'drizzle-orm';
import { describe, expect } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { appendOutbox } from '../../src/realtime/outbox.ts';
import { ADMIN_TOKEN, asReader, buildTestApp, READ_TOKEN } from '../helpers/app.ts';
import { dbTest as test } from '../helpers/database.ts';
import { connect, type Listener, listen, refusal, wsUrl } from '../helpers/ws.ts';

async function write(database: Database, count: number, type = 'contact:updated', pad = 0): Promise<void> {
  await database.db.transaction(async (tx) => {
    await appendOutbox(
      tx,
      Array.from({ length: count }, (_, i) => ({
        type,
        data: { hubspotId: String(1000 + i), properties: ['email'], pad: 'x'.repeat(pad) },
      })),
    );
  });
}

async function listening(database: Database, realtime = {}) {
  const app = await buildTestApp(database, { realtime });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url: (query = `?token=${READ_TOKEN}`) => wsUrl(address, query) };
}

async function newestSeq(database: Database): Promise<number> {
  const [row] = await database.rows<{ newest: number }>(
    sql`select max(seq)::int as newest from outbox_events`,
  );
  return row?.newest ?? 0;
}

const seqs = (listener: Listener) => listener.events().map((message) => message.seq);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('GET /ws', () => {
  test('a missing or bad token is refused before the upgrade, with the API error shape', async ({
    database,
  }) => {
    const { app, url } = await listening(database);
    const missing = await refusal(url(''));
    const bad = await refusal(url('?token=wrong'));
    const badHeader = await refusal(url(''), { headers: { authorization: 'Bearer wrong' } });
    expect([missing.status, bad.status, badHeader.status]).toEqual([401, 401, 401]);
    expect(JSON.parse(missing.body).error.code).toBe('unauthorized');
    await app.close();
  });

  test('the read token works from the query or the Authorization header; hello names the role', async ({
    database,
  }) => {
    const { app, url } = await listening(database);
    const byQuery = await connect(url());
    const byHeader = await connect(url(''), { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const [helloRead, helloAdmin] = await Promise.all([
      byQuery.next((m) => m.type === 'hello'),
      byHeader.next((m) => m.type === 'hello'),
    ]);
    expect(helloRead.data.role).toBe('read');
    expect(helloAdmin.data.role).toBe('admin');
    await Promise.all([byQuery.close(), byHeader.close()]);
    await app.close();
  });

  test('in-process (injectWS): the token is checked, and a subscription narrows what arrives', async ({
    database,
  }) => {
    const app = await buildTestApp(database);
    await expect(app.injectWS('/ws')).rejects.toThrow(/401/);
    let client: Listener | undefined;
    // Listening from the start: the hello can arrive before the open promise settles.
    const socket = await app.injectWS(
      '/ws?subscribe=sync:*',
      { headers: asReader },
      {
        onInit: (ws) => {
          client = listen(ws);
        },
      },
    );
    if (!client) throw new Error('injectWS did not initialise the socket');
    const hello = await client.next((m) => m.type === 'hello');
    expect(hello.data).toMatchObject({ role: 'read', subscribe: ['sync:*'] });
    await write(database, 1, 'contact:created');
    await write(database, 1, 'sync:complete');
    await client.next((m) => m.type === 'sync:complete');
    expect(client.events().map((m) => m.type)).toEqual(['sync:complete']);
    socket.terminate();
    await app.close();
  });

  test('a plain GET without the upgrade is told to use a WebSocket (426)', async ({ database }) => {
    const app = await buildTestApp(database);
    const response = await app.inject({ method: 'GET', url: '/ws', headers: asReader });
    expect(response.statusCode).toBe(426);
    expect(response.json().error.code).toBe('upgrade_required');
    await app.close();
  });

  test('a bad since or subscription is a 400 naming the problem', async ({ database }) => {
    const { app } = await listening(database);
    const badSince = await app.inject({ method: 'GET', url: '/ws?since=-1', headers: asReader });
    const badPattern = await app.inject({
      method: 'GET',
      url: '/ws?subscribe=contact:bogus',
      headers: asReader,
    });
    expect(badSince.statusCode).toBe(400);
    expect(badSince.json().error.message).toMatch(/since/);
    expect(badPattern.statusCode).toBe(400);
    expect(badPattern.json().error.message).toMatch(/contact:bogus/);
    await app.close();
  });

  test('a client message over 4 KiB closes the socket with 1009 (too big)', async ({ database }) => {
    const { app, url } = await listening(database);
    const client = await connect(url());
    await client.next((m) => m.type === 'hello');
    client.socket.send(JSON.stringify({ subscribe: ['x'.repeat(5_000)] }));
    expect((await client.closed).code).toBe(1009);
    await app.close();
  });

  test('committed events arrive as {type, seq, at, data}; rolled-back ones never do', async ({
    database,
  }) => {
    const { app, url } = await listening(database);
    const client = await connect(url());
    await client.next((m) => m.type === 'hello');
    await database.db
      .transaction(async (tx) => {
        await appendOutbox(tx, [{ type: 'contact:deleted', data: { hubspotId: 'rolled-back' } }]);
        throw new Error('roll back');
      })
      .catch(() => {});
    await write(database, 1, 'contact:created');
    const event = await client.next((m) => m.type === 'contact:created');
    expect(event).toMatchObject({
      type: 'contact:created',
      data: { hubspotId: '1000', properties: ['email'] },
    });
    expect(event.seq).toBeGreaterThan(0);
    expect(new Date(event.at).toISOString()).toBe(event.at);
    await sleep(100);
    expect(client.events().map((m) => m.type)).toEqual(['contact:created']);
    await client.close();
    await app.close();
  });

  test('subscriptions narrow the stream, with wildcards, from the query or a message', async ({
    database,
  }) => {
    const { app, url } = await listening(database);
    const syncOnly = await connect(url(`?token=${READ_TOKEN}&subscribe=sync:*`));
    const byMessage = await connect(url());
    await byMessage.next((m) => m.type === 'hello');
    byMessage.socket.send(JSON.stringify({ subscribe: ['contact:updated', 'connection:*'] }));
    const ack = await byMessage.next((m) => m.type === 'subscribed');
    expect(ack.data.subscribe).toEqual(['contact:updated', 'connection:*']);
    byMessage.socket.send('{"subscribe":["nope:*"]}');
    byMessage.socket.send('not json');
    const errors = [
      await byMessage.next((m) => m.type === 'error' && /nope/.test(String(m.data.message))),
      await byMessage.next((m) => m.type === 'error' && /JSON/.test(String(m.data.message))),
    ];
    expect(errors.map((m) => m.data.code)).toEqual(['bad_message', 'bad_message']);

    for (const type of [
      'sync:start',
      'contact:created',
      'contact:updated',
      'connection:status',
      'sync:complete',
    ])
      await write(database, 1, type);
    await syncOnly.next((m) => m.type === 'sync:complete');
    await byMessage.next((m) => m.type === 'connection:status');
    await sleep(100);
    expect(syncOnly.events().map((m) => m.type)).toEqual(['sync:start', 'sync:complete']);
    // The error replies left the earlier subscription in force.
    expect(byMessage.events().map((m) => m.type)).toEqual(['contact:updated', 'connection:status']);
    await Promise.all([syncOnly.close(), byMessage.close()]);
    await app.close();
  });

  test('since replays what a client missed, then goes live, with no gap or duplicate', async ({
    database,
  }) => {
    const { app, url } = await listening(database, { relay: { recentLimit: 5 } });
    await write(database, 20);
    const first = (await newestSeq(database)) - 19;
    // Older than what the relay keeps in memory (5): the catch-up is read from the table.
    const client = await connect(url(`?token=${READ_TOKEN}&since=${first + 4}`));
    await write(database, 3);
    await client.next((m) => m.seq === first + 22);
    expect(seqs(client)).toEqual(Array.from({ length: 18 }, (_, i) => first + 5 + i));
    expect(client.messages[0]).toMatchObject({ type: 'hello', seq: first + 4 });
    await client.close();
    await app.close();
  });

  test('reconnecting with since during a burst of concurrent writers loses and repeats nothing', async ({
    database,
  }) => {
    const { app, url } = await listening(database, { relay: { recentLimit: 50 } });
    const received: number[] = [];
    let writing = true;
    const writers = Array.from({ length: 3 }, async () => {
      while (writing) await write(database, 1 + Math.floor(Math.random() * 4));
    });
    let since: number | undefined;
    for (let round = 0; round < 6; round++) {
      const client = await connect(
        url(`?token=${READ_TOKEN}${since === undefined ? '' : `&since=${since}`}`),
      );
      const hello = await client.next((m) => m.type === 'hello');
      since ??= hello.seq;
      await sleep(60 + round * 20);
      await client.close();
      received.push(...seqs(client));
      since = received.at(-1) ?? since;
    }
    writing = false;
    await Promise.all(writers);
    const last = await connect(url(`?token=${READ_TOKEN}&since=${since}`));
    const newest = await newestSeq(database);
    await last.next((m) => m.seq === newest);
    received.push(...seqs(last));
    await last.close();
    const expected = await database.rows<{ seq: number }>(
      sql`select seq::int as seq from outbox_events where seq >= ${received[0] ?? 0} order by seq`,
    );
    expect(received.length).toBeGreaterThan(20);
    expect(received).toEqual(expected.map((row) => row.seq));
    await app.close();
  });

  test('a since older than the outbox keeps gets a reset, then live events', async ({ database }) => {
    const { app, url } = await listening(database);
    await write(database, 10);
    await database.db.execute(
      sql`delete from outbox_events where seq < (select max(seq) - 2 from outbox_events)`,
    );
    const client = await connect(url(`?token=${READ_TOKEN}&since=1`));
    const reset = await client.next((m) => m.type === 'reset');
    expect(reset.data.reason).toBe('since_too_old');
    await write(database, 1, 'sync:start');
    await client.next((m) => m.type === 'sync:start');
    expect(client.events().map((m) => m.type)).toEqual(['sync:start']);
    await client.close();
    await app.close();
  });

  test('an event whose transaction commits late is delivered in order, never skipped', async ({
    database,
  }) => {
    const { app, url } = await listening(database);
    const client = await connect(url());
    await client.next((m) => m.type === 'hello');
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let taken: () => void = () => {};
    const seqTaken = new Promise<void>((resolve) => {
      taken = resolve;
    });
    // The slow transaction takes its sequence number first and commits last.
    const slow = database.db.transaction(async (tx) => {
      await appendOutbox(tx, [{ type: 'contact:created', data: { hubspotId: 'slow' } }]);
      taken();
      await held;
    });
    await seqTaken;
    await write(database, 1, 'contact:updated');
    await sleep(300);
    expect(client.events()).toEqual([]);
    release();
    await slow;
    await client.next((m) => m.type === 'contact:updated');
    expect(client.events().map((m) => m.data.hubspotId)).toEqual(['slow', '1000']);
    await client.close();
    await app.close();
  });

  test('a slow consumer is cut off as lagged while the others keep receiving', async ({ database }) => {
    const { app, url } = await listening(database, { hub: { maxBufferedBytes: 64 * 1024 } });
    const slow = await connect(url());
    const fast = await connect(url());
    await Promise.all([slow.next((m) => m.type === 'hello'), fast.next((m) => m.type === 'hello')]);
    // The slow client stops reading: the kernel's buffers fill, then the server's.
    (slow.socket as unknown as { _socket: { pause(): void } })._socket.pause();
    for (let i = 0; i < 40; i++) await write(database, 10, 'contact:updated', 20_000);
    const newest = await newestSeq(database);
    await fast.next((m) => m.seq === newest, 20_000);
    expect(fast.events()).toHaveLength(400);
    (slow.socket as unknown as { _socket: { resume(): void } })._socket.resume();
    const closed = await slow.closed;
    expect(closed).toEqual({ code: 4008, reason: expect.stringMatching(/^lagged/) });
    expect(slow.events().length).toBeLessThan(400);
    expect(app.realtime.hub.size).toBe(1);
    await fast.close();
    await app.close();
  });

  test('a peer that stops answering pings is dropped', async ({ database }) => {
    const { app, url } = await listening(database, { hub: { heartbeatMs: 100 } });
    const dead = await connect(url(), { autoPong: false });
    const alive = await connect(url());
    const closed = await dead.closed;
    expect(closed.code).toBe(1006);
    await sleep(300);
    expect(app.realtime.hub.size).toBe(1);
    await alive.close();
    await app.close();
  });

  test('closing the server tells clients it is going away', async ({ database }) => {
    const { app, url } = await listening(database);
    const client = await connect(url());
    await client.next((m) => m.type === 'hello');
    await app.close();
    expect((await client.closed).code).toBe(1001);
  });
});
