/**
 * The WebSocket bench's ceiling: the least any webhook-to-WebSocket path must do, with none of the service's
 * inbox, apply step or bookkeeping. A bare Fastify route verifies the v3 signature (the service's own
 * verifySignature) and parses the JSON, inserts one row per event into an outbox table shaped like the
 * service's (a statement trigger NOTIFYs, as migration 0005 does) and answers 200 once it committed; a
 * LISTENing connection wakes a reader that takes the new rows in sequence order and sends them, each
 * serialised once, to every client of a bare `ws` server on `/ws`, a client's frames of one read corked into
 * one write. Writes go through one connection, so sequence numbers commit in order and the reader can follow
 * `seq` without the gap rule the service's relay needs.
 * Run as a child process (`BARE_SECRET`, `DATABASE_URL`, `PORT`); reports its port over IPC once listening.
 */
import postgres from 'postgres';
import { WebSocket, WebSocketServer } from 'ws';
import { bareWebhookApp, verifiedBody } from './bare-webhook.ts';

const secret = process.env.BARE_SECRET ?? '';
const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) throw new Error('DATABASE_URL is required');
const TABLE = 'bench_ws_outbox';
const CHANNEL = 'bench_ws_outbox';

const writer = postgres(databaseUrl, { max: 1, onnotice: () => {} });
const reader = postgres(databaseUrl, { max: 1, onnotice: () => {} });

await writer.unsafe(`create table if not exists ${TABLE} (
  seq bigserial primary key,
  type text not null,
  data jsonb not null,
  tx_id xid8 not null default pg_current_xact_id(),
  created_at timestamptz not null default now())`);
await writer.unsafe(`create index if not exists ${TABLE}_created_at on ${TABLE} (created_at)`);
await writer.unsafe(`create or replace function ${TABLE}_notify() returns trigger language plpgsql as $$
  begin perform pg_notify('${CHANNEL}', ''); return null; end $$`);
await writer.unsafe(`drop trigger if exists ${TABLE}_notify on ${TABLE}`);
await writer.unsafe(`create trigger ${TABLE}_notify after insert on ${TABLE}
  for each statement execute function ${TABLE}_notify()`);

const app = bareWebhookApp();

interface Event {
  objectId: number;
  propertyName?: string;
}

app.post('/webhooks/hubspot', async (request, reply) => {
  const verified = verifiedBody(request, secret);
  if ('refused' in verified) return reply.status(401).send({ error: verified.refused });
  const rawBody = verified.body;
  let events: Event[];
  try {
    events = JSON.parse(rawBody.toString('utf8')) as Event[];
  } catch {
    return reply.status(400).send({ error: 'body is not JSON' });
  }
  const rows = events.map((event) => ({
    type: 'contact:updated',
    data: { hubspotId: String(event.objectId), properties: [event.propertyName ?? ''], source: 'webhook' },
  }));
  await writer`insert into ${writer(TABLE)} (type, data)
    select type, data from jsonb_to_recordset(${JSON.stringify(rows)}::text::jsonb) as r(type text, data jsonb)`;
  return reply.status(200).send({ received: events.length, accepted: rows.length });
});

const wss = new WebSocketServer({ server: app.server, path: '/ws' });
let head = Number(
  (await reader`select coalesce(max(seq), 0)::int8 as seq from ${reader(TABLE)}`)[0]?.seq ?? 0,
);

wss.on('connection', (socket) => {
  socket.send(JSON.stringify({ type: 'hello', seq: head, at: new Date().toISOString(), data: {} }));
});

let reading: Promise<void> | undefined;
let again = false;

async function readNew(): Promise<void> {
  for (;;) {
    const rows = await reader<{ seq: string; type: string; data: unknown; at: string }[]>`
      select seq, type, data,
        to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as at
      from ${reader(TABLE)} where seq > ${head} order by seq limit 1000`;
    const texts = rows.map((row) =>
      JSON.stringify({ type: row.type, seq: Number(row.seq), at: row.at, data: row.data }),
    );
    for (const client of wss.clients) {
      if (client.readyState !== WebSocket.OPEN) continue;
      // One write per client per batch rather than a system call per frame (`ws` has no batching of its own).
      const socket = (client as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
      socket?.cork();
      for (const text of texts) client.send(text);
      socket?.uncork();
    }
    head = Number(rows.at(-1)?.seq ?? head);
    if (rows.length < 1000) return;
  }
}

/** Reads now, or right after the read in progress, never two at once. */
function wake(): void {
  if (reading) {
    again = true;
    return;
  }
  reading = (async () => {
    do {
      again = false;
      await readNew();
    } while (again);
  })()
    .catch((error: unknown) => console.error(`bare-ws-server: read failed: ${(error as Error).message}`))
    .finally(() => {
      reading = undefined;
    });
}

await reader.listen(CHANNEL, wake);

const address = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
process.send?.({ ready: true, port: Number(new URL(address).port) });

async function stop(): Promise<void> {
  for (const client of wss.clients) client.terminate();
  wss.close();
  await app.close();
  await Promise.all([writer.end({ timeout: 2 }), reader.end({ timeout: 2 })]);
  process.exit(0);
}
process.on('disconnect', () => void stop());
process.on('SIGTERM', () => void stop());
