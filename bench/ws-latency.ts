/**
 * WebSocket latency benchmark: the time from a signed webhook's POST to the matching message at each of 50
 * connected `/ws` clients, at 1,000 events/s in deliveries of 100 from at most 10 requests in flight (HubSpot's
 * cap), against the real service (`node src/server.ts` with `npm start`'s flags, its own fresh PostgreSQL
 * database). Every event changes `firstname` of its own contact, seeded in the mirror beforehand with full data,
 * so each is applied as one `contact:updated` naming that contact: the message identifies the POST that
 * carried it. Latency = the message's arrival at a client − the start of the POST, over every (client, event)
 * pair after a short warm-up; every client must receive every event, or the run fails.
 *
 * Next to it, measured in the same run before and after (the machine is shared and noisy; the better round is
 * the ceiling): the same traffic through a bare server (lib/bare-ws-server.ts) that only verifies, parses,
 * inserts into an outbox table whose trigger NOTIFYs, and broadcasts what a LISTENing reader finds to a bare
 * `ws` server's clients (one corked write per client per read). Each run also reports the share of the machine's CPU that other tenants took (busy
 * time less this bench's, its servers' and PostgreSQL's): a run they crowded says so instead of passing for
 * the service's own figure. Prints a table and writes bench/results/ws-latency.json (numbers only).
 *
 *   node bench/ws-latency.ts --quick         a short run (6 s at rate, 4 s ceiling rounds)
 *   BENCH_WS_SECONDS=25                      measured seconds at rate for the service (after the warm-up)
 *   BENCH_WS_CEILING_SECONDS=10              measured seconds of each ceiling round
 *   BENCH_WS_RATE=1000 BENCH_WS_CLIENTS=50 BENCH_WS_BATCH=100 (≤ 100, HubSpot's most per delivery)
 *   BENCH_WS_QUIET_WAIT_S=10                 before each run, wait up to this long for a mostly idle machine
 *   BENCH_SERVICE_NODE_OPTIONS=...           NODE_OPTIONS for the service (e.g. --cpu-prof)
 *   BENCH_DATABASE_URL / TEST_DATABASE_URL   the PostgreSQL server (default postgres://postgres@127.0.0.1:5432)
 * Only 127.0.0.1 is ever called.
 */

import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import {
  APP_ID,
  type BenchEvent,
  buildDeliveries,
  type Delivery,
  PORTAL_ID,
  SECRET,
  signDeliveries,
  WEBHOOK_PATH,
} from './lib/events.ts';
import { busyShare, cpuTimes, guardRun, round } from './lib/guard.ts';
import { quantile } from './lib/http-load.ts';
import { type PacedResult, sendPaced } from './lib/paced-load.ts';
import {
  benchServiceEnv,
  cpuSecondsByName,
  cpuSecondsOf,
  freePort,
  memoryOf,
  OutputTail,
  sleep,
  startHelper,
  startService,
  stopChild,
  waitReady,
} from './lib/processes.ts';
import { type ClientReport, openClients } from './lib/ws-clients.ts';

const QUICK = process.argv.includes('--quick');
const numberFrom = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!(Number.isFinite(value) && value > 0)) throw new Error(`${name} must be a positive number`);
  return value;
};
const RATE = numberFrom('BENCH_WS_RATE', 1000);
const CLIENTS = Math.round(numberFrom('BENCH_WS_CLIENTS', 50));
const SECONDS = numberFrom('BENCH_WS_SECONDS', QUICK ? 6 : 25);
const CEILING_SECONDS = numberFrom('BENCH_WS_CEILING_SECONDS', QUICK ? 4 : 10);
const BATCH = Math.min(100, Math.round(numberFrom('BENCH_WS_BATCH', 100)));
const WARMUP_SECONDS = QUICK ? 1 : 3;
const SENDERS = 10;
const CLIENT_THREADS = 2;
/** Once every POST is answered, how long the clients may receive nothing new before the rest count as missing. */
const SETTLE_MS = 10_000;
const OVERALL_TIMEOUT_MS = numberFrom('BENCH_TIMEOUT_MS', 5 * 60_000);
const QUIET_WAIT_S = Number(process.env.BENCH_WS_QUIET_WAIT_S ?? 10);
const TARGETS = { p99Ms: 200 };
const ID_BASE = 3_000_001;
const PROPERTY = 'firstname';
const READ_TOKEN = 'bench-read-token-0123456789';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoDir = path.dirname(benchDir);
const resultsDir = path.join(benchDir, 'results');
const eventsFor = (seconds: number) => Math.ceil((RATE * seconds) / BATCH) * BATCH;
const fmt = (value: number | undefined) =>
  value === undefined || !Number.isFinite(value) ? '?' : value.toLocaleString('en');

const guard = guardRun('bench/ws-latency.ts', OVERALL_TIMEOUT_MS);

/** One propertyChange per contact: event i sets `firstname` of contact ID_BASE + i to a value of its own. */
function buildEvents(count: number): BenchEvent[] {
  const base = Date.now() - 60_000;
  return Array.from({ length: count }, (_, i) => ({
    eventId: 300_000_000 + i,
    subscriptionId: 3001,
    portalId: PORTAL_ID,
    appId: APP_ID,
    occurredAt: base + i,
    subscriptionType: 'contact.propertyChange',
    attemptNumber: 0,
    objectId: ID_BASE + i,
    changeSource: 'CRM',
    propertyName: PROPERTY,
    propertyValue: `Bench ${i}`,
    sourceId: 'userId:1001',
  }));
}

const stats = (values: Float64Array) => {
  const sorted = values.filter(Number.isFinite).sort();
  const at = (q: number) =>
    sorted.length === 0
      ? Number.NaN
      : (sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number);
  return {
    p50: round(at(0.5), 1),
    p90: round(at(0.9), 1),
    p99: round(at(0.99), 1),
    p999: round(at(0.999), 1),
    max: round(at(1), 1),
    min: round(sorted[0] ?? Number.NaN, 2),
  };
};

/** CPU seconds so far: the machine's (busy, and all cores' total), and what this bench, its servers and PostgreSQL used. */
function cpuSnapshot(pids: readonly (number | undefined)[]) {
  const machine = cpuTimes();
  const own = process.cpuUsage();
  return {
    machine,
    ours:
      (own.user + own.system) / 1e6 +
      pids.reduce<number>((sum, pid) => sum + (cpuSecondsOf(pid) || 0), 0) +
      cpuSecondsByName('postgres'),
  };
}

/** The share of all cores that other tenants of the machine used between two snapshots. */
function othersShare(from: ReturnType<typeof cpuSnapshot>, to: ReturnType<typeof cpuSnapshot>): number {
  const busyS = (to.machine.busy - from.machine.busy) / 100;
  const totalS = Math.max(0.01, (to.machine.total - from.machine.total) / 100);
  return round(Math.max(0, busyS - (to.ours - from.ours)) / totalS, 2);
}

/**
 * The machine is shared: waits (up to QUIET_WAIT_S) for a second in which it is mostly idle before a run, so
 * a neighbour's burst is less likely to land in one run and not the other. Returns the seconds waited.
 */
async function waitQuiet(label: string): Promise<number> {
  const started = performance.now();
  let busy = 1;
  while ((performance.now() - started) / 1000 < QUIET_WAIT_S) {
    const from = cpuTimes();
    await sleep(1_000);
    busy = busyShare(from, cpuTimes());
    if (busy < 0.25) break;
  }
  const waited = round((performance.now() - started) / 1000, 1);
  if (busy >= 0.25)
    console.log(`${label}: the machine is still ${Math.round(busy * 100)}% busy after ${waited} s; going on`);
  return waited;
}

interface RunSetup {
  label: string;
  /** The HTTP port that takes the webhooks and the WebSocket. */
  port: number;
  wsUrl: string;
  deliveries: readonly Delivery[];
  /** Events before this index are the warm-up: checked for delivery, left out of the latencies. */
  warmupEvents: number;
  /** The process serving, for its CPU time. */
  pid: number | undefined;
  /** Every process of the bench's own (the service and the bare server), to tell their CPU from a neighbour's. */
  ownPids: readonly (number | undefined)[];
}

type RunResult = Awaited<ReturnType<typeof measure>>;

async function measure({ label, port, wsUrl, deliveries, warmupEvents, pid, ownPids }: RunSetup) {
  const events = deliveries.reduce((sum, d) => sum + d.events, 0);
  const pool = await openClients({
    url: wsUrl,
    clients: CLIENTS,
    threads: CLIENT_THREADS,
    events,
    idBase: ID_BASE,
    property: PROPERTY,
  });
  guard.onCleanup(`${label} clients`, () => pool.terminate());
  if (pool.connected < CLIENTS) {
    await pool.terminate();
    return {
      ok: false as const,
      problem: `${label}: ${pool.connected} of ${CLIENTS} clients connected to ${wsUrl.replace(/token=[^&]+/, 'token=…')} (${[...new Set(pool.failures)].join('; ')})`,
    };
  }

  const quietWaitS = await waitQuiet(label);
  const signedUrl = `http://127.0.0.1:${port}${WEBHOOK_PATH}`;
  signDeliveries(deliveries, signedUrl);
  const cpu = cpuTimes();
  const snapshot = cpuSnapshot(ownPids);
  const cpuBefore = cpuSecondsOf(pid);
  console.log(
    `${label}: ${CLIENTS} clients connected; sending ${fmt(events)} events at ${fmt(RATE)}/s ` +
      `(${round(events / RATE, 1)} s, the first ${fmt(warmupEvents)} a warm-up)`,
  );
  const load: PacedResult = await sendPaced({ port, deliveries, eventsPerSec: RATE, concurrency: SENDERS });

  // Every POST answered: wait for the clients to have everything, or to go SETTLE_MS without anything new.
  const expected = CLIENTS * events;
  const waitStarted = performance.now();
  let progress = await pool.progress();
  let lastChange = performance.now();
  let lastMatched = progress.matched;
  while (progress.matched < expected && progress.closed < CLIENTS) {
    if (performance.now() - lastChange > SETTLE_MS) break;
    await sleep(50);
    progress = await pool.progress();
    if (progress.matched !== lastMatched) {
      lastMatched = progress.matched;
      lastChange = performance.now();
    }
  }
  const settleMs = performance.now() - waitStarted;
  const machineBusy = busyShare(cpu, cpuTimes());
  const othersBusy = othersShare(snapshot, cpuSnapshot(ownPids));
  const serverCpuS = cpuSecondsOf(pid) - cpuBefore;
  const { clients, threadBusy } = await pool.collect();
  await pool.terminate();

  // When each event's POST started.
  const startOf = new Float64Array(events);
  let index = 0;
  for (const [d, delivery] of deliveries.entries())
    for (let k = 0; k < delivery.events; k++) startOf[index++] = load.startedAt[d] ?? Number.NaN;

  const measured = events - warmupEvents;
  const latencies = new Float64Array(clients.length * measured).fill(Number.NaN);
  const first = new Float64Array(events).fill(Number.POSITIVE_INFINITY);
  const last = new Float64Array(events).fill(Number.NEGATIVE_INFINITY);
  const clientP99 = new Float64Array(clients.length);
  const missedBy = new Uint16Array(events);
  let missing = 0;
  let missingWarmup = 0;
  for (const [c, client] of clients.entries()) {
    const own = new Float64Array(measured).fill(Number.NaN);
    for (let i = 0; i < events; i++) {
      const arrival = client.arrivals[i] as number;
      if (Number.isNaN(arrival)) {
        missing++;
        missedBy[i] = (missedBy[i] as number) + 1;
        if (i < warmupEvents) missingWarmup++;
        continue;
      }
      if (arrival < (first[i] as number)) first[i] = arrival;
      if (arrival > (last[i] as number)) last[i] = arrival;
      if (i < warmupEvents) continue;
      const latency = arrival - (startOf[i] as number);
      latencies[c * measured + i - warmupEvents] = latency;
      own[i - warmupEvents] = latency;
    }
    clientP99[c] = quantile(own, 0.99);
  }
  const firstClient = new Float64Array(measured);
  const fanOut = new Float64Array(measured);
  for (let i = warmupEvents; i < events; i++) {
    firstClient[i - warmupEvents] = (first[i] as number) - (startOf[i] as number);
    fanOut[i - warmupEvents] = (last[i] as number) - (first[i] as number);
  }
  // p99 of each second of sending, to tell a steady tail from a stall.
  const bySecond: number[] = [];
  const perSecond = RATE;
  for (let from = warmupEvents; from < events; from += perSecond) {
    const to = Math.min(events, from + perSecond);
    const slice = new Float64Array(clients.length * (to - from));
    let k = 0;
    for (let c = 0; c < clients.length; c++)
      for (let i = from; i < to; i++) slice[k++] = latencies[c * measured + i - warmupEvents] ?? Number.NaN;
    bySecond.push(Math.round(quantile(slice, 0.99)));
  }

  // Runs of events missed by the same number of clients, e.g. `events 3300–3399 missed by 50 clients`.
  const missingRuns: string[] = [];
  const missedEvents: number[] = [];
  for (let i = 0; i < events; ) {
    const by = missedBy[i] as number;
    let j = i + 1;
    while (j < events && missedBy[j] === by) j++;
    if (by > 0) {
      missingRuns.push(
        `events ${i}–${j - 1} (contacts ${ID_BASE + i}–${ID_BASE + j - 1}) missed by ${by} clients`,
      );
      for (let k = i; k < j; k++) missedEvents.push(k);
    }
    i = j;
  }
  const sum = (pick: (report: ClientReport) => number) => clients.reduce((total, r) => total + pick(r), 0);
  const otherTypes: Record<string, number> = {};
  for (const client of clients)
    for (const [type, count] of Object.entries(client.otherTypes))
      otherTypes[type] = (otherTypes[type] ?? 0) + count;
  const closedByServer = clients.filter((client) => client.closeCode !== undefined);
  const notes = [
    ...closedByServer.map(
      (client) => `closed by the server: ${client.closeCode} ${client.closeReason ?? ''}`,
    ),
    ...clients.flatMap((client) => (client.firstMalformed ? [`malformed: ${client.firstMalformed}`] : [])),
    ...clients.flatMap((client) =>
      client.firstType !== 'hello' ? [`first message: ${client.firstType}`] : [],
    ),
    ...(Object.keys(otherTypes).length > 0 ? [`other message types: ${JSON.stringify(otherTypes)}`] : []),
  ];
  const ackMs = stats(load.latencies);
  return {
    ok: true as const,
    notes: [...new Set(notes)],
    figures: {
      events,
      measuredEvents: measured,
      clients: clients.length,
      latencyMs: stats(latencies),
      worstClientP99Ms: round(Math.max(...clientP99), 1),
      firstClientMs: stats(firstClient),
      fanOutMs: stats(fanOut),
      p99BySecondMs: { worst: Math.max(...bySecond), median: quantile(Float64Array.from(bySecond), 0.5) },
      delivered: {
        expected,
        received: sum((r) => r.matched),
        missing,
        missingInWarmup: missingWarmup,
        clientsComplete: clients.filter((client) => client.matched === events).length,
        duplicates: sum((r) => r.duplicates),
        unexpected: sum((r) => r.unexpected),
        otherMessages: Object.values(otherTypes).reduce((total, count) => total + count, 0),
        malformed: sum((r) => r.malformed),
        seqBackwards: sum((r) => r.seqBackwards),
        withoutHello: clients.filter((client) => !client.hello).length,
        closedByServer: closedByServer.length,
        compressed: clients.filter((client) => client.extensions.includes('permessage-deflate')).length,
      },
      sent: {
        requests: load.requests,
        acknowledgedEvents: load.acknowledgedEvents,
        accepted: load.accepted,
        eventsPerSec: Math.round(load.events / (load.ms / 1000)),
        ackMs: { p50: ackMs.p50, p99: ackMs.p99, max: ackMs.max },
        lateMs: { p99: round(quantile(load.lateMs, 0.99), 1), max: round(quantile(load.lateMs, 1), 1) },
        statuses: load.statuses,
      },
      settleMs: round(settleMs),
      serverCpuS: round(serverCpuS, 2),
      machineBusy,
      othersBusy,
      quietWaitS,
      clientThreadBusy: Math.max(...threadBusy.map((busy) => round(busy, 2))),
    },
    bySecond,
    startOf,
    firstArrival: first,
    missingRuns,
    missedEvents,
    firstError: load.firstError,
  };
}

/** Where the service's time goes, from its own tables: when each event's inbox row and outbox row were written. */
async function serviceBreakdown(sql: postgres.Sql, startOf: Float64Array, firstArrival: Float64Array) {
  const inbox = await sql<{ i: number; at: number }[]>`
    select object_id - ${ID_BASE} as i, extract(epoch from received_at) * 1000 as at from webhook_inbox`;
  const outbox = await sql<{ i: number; at: number }[]>`
    select (data ->> 'hubspotId')::int8 - ${ID_BASE} as i, extract(epoch from created_at) * 1000 as at
    from outbox_events where type = 'contact:updated'`;
  const since = (rows: { i: number; at: number }[]) =>
    Float64Array.from(rows, (row) => Number(row.at) - (startOf[Number(row.i)] ?? Number.NaN));
  const [counts] = await sql<
    { done: number; pending: number; parked: number; outbox: number; updated: number; errors: number }[]
  >`select (select count(*) from webhook_inbox where status = 'done')::int as done,
           (select count(*) from webhook_inbox where status = 'pending')::int as pending,
           (select count(*) from webhook_inbox where status = 'parked')::int as parked,
           (select count(*) from outbox_events)::int as outbox,
           (select count(*) from contacts where data ->> ${PROPERTY} like 'Bench %')::int as updated,
           (select count(*) from error_logs)::int as errors`;
  const toInbox = stats(since(inbox));
  const toApply = stats(since(outbox));
  const toFirstClient = stats(
    Float64Array.from(outbox, (row) => (firstArrival[Number(row.i)] ?? Number.NaN) - Number(row.at)),
  );
  return {
    // received_at and created_at are now() of their transactions: when the insert, and the apply, began.
    postToInboxMs: { p50: toInbox.p50, p99: toInbox.p99 },
    postToApplyBeganMs: { p50: toApply.p50, p99: toApply.p99 },
    // The apply transaction's own time, its commit, the relay's read and the hub's first send.
    applyBeganToFirstClientMs: { p50: toFirstClient.p50, p99: toFirstClient.p99 },
    inbox: { done: counts?.done ?? 0, pending: counts?.pending ?? 0, parked: counts?.parked ?? 0 },
    outboxRows: counts?.outbox ?? 0,
    outboxContactUpdated: outbox.length,
    contactsUpdated: counts?.updated ?? 0,
    errorLogs: counts?.errors ?? 0,
  };
}

async function main() {
  const benchStarted = performance.now();
  const serverUrl =
    process.env.BENCH_DATABASE_URL ??
    process.env.TEST_DATABASE_URL ??
    'postgres://postgres@127.0.0.1:5432/postgres';
  const dbName = `bench_ws_${process.pid}`;
  const url = new URL(serverUrl);
  url.pathname = `/${dbName}`;
  const databaseUrl = url.toString();

  // ---- a fresh database -----------------------------------------------------------------------------------
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  guard.onCleanup('admin connection', () => admin.end({ timeout: 5 }));
  await admin.unsafe(`create database ${dbName}`);
  guard.onCleanup(`drop database ${dbName}`, async () => {
    await admin.unsafe(`drop database if exists ${dbName} with (force)`);
  });

  // ---- the real service -----------------------------------------------------------------------------------
  const servicePort = await freePort();
  const serviceTail = new OutputTail('service');
  const service: ChildProcess = startService(
    'src/server.ts',
    repoDir,
    benchServiceEnv(databaseUrl, servicePort, { READ_TOKEN }),
  );
  serviceTail.attach(service);
  guard.onCleanup('service', () => stopChild(service));
  await waitReady(`http://127.0.0.1:${servicePort}/readyz`, service, 60_000);
  const serviceIdle = memoryOf(service.pid);

  // ---- the contacts the events change, already in the mirror with full data ------------------------------------
  const warmupEvents = eventsFor(WARMUP_SECONDS);
  const serviceEvents = warmupEvents + eventsFor(SECONDS);
  const ceilingEvents = warmupEvents + eventsFor(CEILING_SECONDS);
  const sql = postgres(databaseUrl, { max: 2, onnotice: () => {} });
  guard.onCleanup('bench connections', () => sql.end({ timeout: 5 }));
  const seedAt = Date.now() - 86_400_000;
  const started = performance.now();
  await sql`insert into contacts (hubspot_id, data, property_versions, lifecycle_version, sync_status, last_sync,
      hubspot_created_at, hubspot_updated_at)
    select (${ID_BASE}::int8 + g)::text,
      jsonb_build_object('firstname', 'Seed', 'lastname', 'Contact ' || g, 'email', 'seed' || g || '@example.com',
        'lifecyclestage', 'lead'),
      jsonb_build_object('firstname', ${seedAt}::int8, 'lastname', ${seedAt}::int8, 'email', ${seedAt}::int8,
        'lifecyclestage', ${seedAt}::int8),
      ${seedAt * 10 + 1}::int8, 'synced', now(), to_timestamp(${seedAt / 1000}), to_timestamp(${seedAt / 1000})
    from generate_series(0, ${serviceEvents - 1}::int) as g`;
  await sql`analyze contacts`;
  const seedMs = performance.now() - started;

  const events = buildEvents(Math.max(serviceEvents, ceilingEvents));
  const deliveries = buildDeliveries(events, BATCH);
  const sliceFor = (count: number) => deliveries.slice(0, count / BATCH);
  console.log(
    `seeded ${fmt(serviceEvents)} contacts in ${round(seedMs)} ms; ${fmt(deliveries.length)} deliveries of ${BATCH} ` +
      `(${round((deliveries[0]?.body.length ?? 0) / 1024, 1)} KiB each)`,
  );

  // ---- the ceiling's bare server ---------------------------------------------------------------------------------
  const bare = await startHelper(path.join(benchDir, 'lib', 'bare-ws-server.ts'), {
    PATH: process.env.PATH ?? '',
    BARE_SECRET: SECRET,
    DATABASE_URL: databaseUrl,
  });
  guard.onCleanup('bare ws server', () => stopChild(bare.child));
  const ceiling = (round_: number) =>
    measure({
      label: `ceiling round ${round_}`,
      port: bare.port,
      wsUrl: `ws://127.0.0.1:${bare.port}/ws`,
      deliveries: sliceFor(ceilingEvents),
      warmupEvents,
      pid: bare.child.pid,
      ownPids: [bare.child.pid, service.pid],
    });
  const problems: string[] = [];
  const report = (label: string, run: RunResult) => {
    if (!run.ok) {
      problems.push(run.problem);
      console.error(run.problem);
      return;
    }
    const { latencyMs, delivered } = run.figures;
    console.log(
      `${label}: p50 ${latencyMs.p50} ms, p99 ${latencyMs.p99} ms, max ${latencyMs.max} ms; ` +
        `${fmt(delivered.received)} of ${fmt(delivered.expected)} delivered; p99 by second: ${run.bySecond.join(' ')}`,
    );
    for (const run_ of run.missingRuns.slice(0, 10)) console.error(`${label}: ${run_}`);
    if (run.missingRuns.length > 10) console.error(`${label}: … ${run.missingRuns.length - 10} more runs`);
    if (delivered.missing > 0)
      problems.push(
        `${label}: ${fmt(delivered.missing)} of ${fmt(delivered.expected)} (client, event) messages missing`,
      );
    if (delivered.duplicates > 0) problems.push(`${label}: ${fmt(delivered.duplicates)} duplicate messages`);
    if (delivered.malformed > 0) problems.push(`${label}: ${fmt(delivered.malformed)} malformed messages`);
    if (delivered.seqBackwards > 0)
      problems.push(`${label}: seq went backwards ${delivered.seqBackwards} times`);
    if (delivered.withoutHello > 0) problems.push(`${label}: ${delivered.withoutHello} clients got no hello`);
    if (run.figures.sent.acknowledgedEvents !== run.figures.events)
      problems.push(
        `${label}: ${run.figures.events - run.figures.sent.acknowledgedEvents} events not acknowledged (${run.firstError})`,
      );
    for (const note of run.notes) {
      console.error(`${label}: ${note}`);
      problems.push(`${label}: ${note}`);
    }
  };

  const before = await ceiling(1);
  report('ceiling round 1', before);

  // ---- the service under load ---------------------------------------------------------------------------------------
  const query = new URLSearchParams({ token: READ_TOKEN, subscribe: 'contact:*' });
  const serviceRun = await measure({
    label: 'service',
    port: servicePort,
    wsUrl: `ws://127.0.0.1:${servicePort}/ws?${query}`,
    deliveries: sliceFor(serviceEvents),
    warmupEvents,
    pid: service.pid,
    ownPids: [bare.child.pid, service.pid],
  });
  report('service', serviceRun);
  const serviceMemory = memoryOf(service.pid);
  const breakdown = serviceRun.ok
    ? await serviceBreakdown(sql, serviceRun.startOf, serviceRun.firstArrival)
    : undefined;
  if (serviceRun.ok && serviceRun.missedEvents.length > 0) {
    const found = await sql<{ i: number; seq: number }[]>`
      select (data ->> 'hubspotId')::int8 - ${ID_BASE} as i, seq::int8 as seq from outbox_events
      where type = 'contact:updated'
        and (data ->> 'hubspotId')::int8 - ${ID_BASE} in (select unnest(${serviceRun.missedEvents}::int8[]))
      order by seq`;
    const seqs = found.map((row) => Number(row.seq));
    const note =
      `service: ${found.length} of the ${serviceRun.missedEvents.length} events some client missed are in ` +
      `outbox_events (seq ${seqs.slice(0, 5).join(', ')}${seqs.length > 5 ? ', …' : ''}${seqs.length > 0 ? ` to ${seqs.at(-1)}` : ''})`;
    console.error(note);
    problems.push(note);
  }
  if (breakdown && (breakdown.inbox.pending > 0 || breakdown.inbox.parked > 0))
    problems.push(
      `service: inbox still holds ${breakdown.inbox.pending} pending, ${breakdown.inbox.parked} parked`,
    );

  const after = await ceiling(2);
  report('ceiling round 2', after);
  const bareMemory = memoryOf(bare.child.pid);
  if (service.exitCode !== null || service.signalCode !== null)
    problems.push('the service died during the bench');

  // ---- figures ------------------------------------------------------------------------------------------------
  const rounds = [before, after].flatMap((run) => (run.ok ? [run.figures] : []));
  // The ceiling is the better round (lower p99): a neighbour's burst can only make a round slower.
  const bestIndex = rounds.reduce<number>(
    (best, figures, index) =>
      figures.latencyMs.p99 < (rounds[best]?.latencyMs.p99 ?? Infinity) ? index : best,
    0,
  );
  const top = rounds[bestIndex];
  const svc = serviceRun.ok ? serviceRun.figures : undefined;
  const ratio = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined || !(b > 0) ? Number.NaN : round(a / b, 1);
  const ratios = {
    p50VsCeiling: ratio(svc?.latencyMs.p50, top?.latencyMs.p50),
    p90VsCeiling: ratio(svc?.latencyMs.p90, top?.latencyMs.p90),
    p99VsCeiling: ratio(svc?.latencyMs.p99, top?.latencyMs.p99),
    maxVsCeiling: ratio(svc?.latencyMs.max, top?.latencyMs.max),
  };
  const delivered = svc?.delivered;
  const p99Pass = svc !== undefined && svc.latencyMs.p99 < TARGETS.p99Ms && delivered?.missing === 0;
  const peakRssMB = serviceMemory?.peakRssMB ?? Number.NaN;
  const noisy = svc !== undefined && svc.othersBusy > 0.25;

  const result = {
    ok: problems.length === 0 ? 1 : 0,
    problems: problems.length,
    rate: RATE,
    clients: CLIENTS,
    batch: BATCH,
    senders: SENDERS,
    seconds: SECONDS,
    warmupSeconds: WARMUP_SECONDS,
    service: svc
      ? {
          ...svc,
          breakdown,
          idleRssMB: serviceIdle?.rssMB ?? Number.NaN,
          peakRssMB,
          rssAtEndMB: serviceMemory?.rssMB ?? Number.NaN,
        }
      : { connected: 0 },
    ceiling: {
      p50: top?.latencyMs.p50 ?? Number.NaN,
      p99: top?.latencyMs.p99 ?? Number.NaN,
      max: top?.latencyMs.max ?? Number.NaN,
      bestRound: bestIndex + 1,
      rounds,
      peakRssMB: bareMemory?.peakRssMB ?? Number.NaN,
    },
    ratios,
    targets: {
      p99Ms: { value: svc?.latencyMs.p99 ?? Number.NaN, target: TARGETS.p99Ms, pass: p99Pass ? 1 : 0 },
    },
    seedMs: round(seedMs),
    benchMs: round(performance.now() - benchStarted),
  };
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(path.join(resultsDir, 'ws-latency.json'), `${JSON.stringify(result, null, 2)}\n`);

  // ---- the table ----------------------------------------------------------------------------------------------
  type Figures = NonNullable<typeof top>;
  const ms = (value: number | undefined) => `${fmt(value)} ms`;
  const pct = (value: number | undefined) => `${fmt(Math.round((value ?? Number.NaN) * 100))}%`;
  /** A row: the service's figure, the ceiling's, and their ratio when given. */
  const row = (label: string, show: (f: Figures) => string, ratioOf?: number) =>
    `| ${label} | ${svc ? show(svc) : '–'} | ${top ? show(top) : '–'} | ${ratioOf === undefined ? '' : `${fmt(ratioOf)}×`} |`;
  const lines = [
    `| ${fmt(RATE)} events/s × ${SECONDS} s (+${WARMUP_SECONDS} s warm-up), ${BATCH}/POST, ≤${SENDERS} in flight, ${CLIENTS} clients | service | ceiling: bare ws (round ${bestIndex + 1} of ${rounds.length}) | service ÷ ceiling |`,
    '| --- | --- | --- | --- |',
    row('POST start → message at a client, p50', (f) => ms(f.latencyMs.p50), ratios.p50VsCeiling),
    row('p90', (f) => ms(f.latencyMs.p90), ratios.p90VsCeiling),
    row(
      `p99 (target < ${TARGETS.p99Ms} ms: ${p99Pass ? 'pass' : '**FAIL**'})`,
      (f) => ms(f.latencyMs.p99),
      ratios.p99VsCeiling,
    ),
    row('max', (f) => ms(f.latencyMs.max), ratios.maxVsCeiling),
    row(
      "worst client's p99; worst second's p99",
      (f) => `${ms(f.worstClientP99Ms)}; ${ms(f.p99BySecondMs.worst)}`,
    ),
    row(
      'POST start → first client, p50 / p99',
      (f) => `${fmt(f.firstClientMs.p50)} / ${ms(f.firstClientMs.p99)}`,
    ),
    row(
      'first → last client of an event, p50 / p99',
      (f) => `${fmt(f.fanOutMs.p50)} / ${ms(f.fanOutMs.p99)}`,
    ),
    row(
      'delivered (client × event)',
      (f) =>
        `${fmt(f.delivered.received)} of ${fmt(f.delivered.expected)}; missing ${fmt(f.delivered.missing)}, duplicates ${fmt(f.delivered.duplicates)}`,
    ),
    row('POST answered, p50 / p99', (f) => `${fmt(f.sent.ackMs.p50)} / ${ms(f.sent.ackMs.p99)}`),
    row(
      "rate sent (a POST's latest start after due)",
      (f) => `${fmt(f.sent.eventsPerSec)}/s (${ms(f.sent.lateMs.max)})`,
    ),
    `| service: POST start → inbox insert / → apply began; apply began → first client, p50 (p99) | ${fmt(breakdown?.postToInboxMs.p50)} (${fmt(breakdown?.postToInboxMs.p99)}) / ${fmt(breakdown?.postToApplyBeganMs.p50)} (${fmt(breakdown?.postToApplyBeganMs.p99)}); ${fmt(breakdown?.applyBeganToFirstClientMs.p50)} (${ms(breakdown?.applyBeganToFirstClientMs.p99)}) | | |`,
    `| server peak RSS (VmHWM) | ${fmt(peakRssMB)} MB (idle ${fmt(serviceIdle?.rssMB)} MB) | ${fmt(bareMemory?.peakRssMB)} MB | |`,
    row(
      'server CPU; machine busy; busiest client thread',
      (f) => `${fmt(f.serverCpuS)} s; ${pct(f.machineBusy)}; ${pct(f.clientThreadBusy)}`,
    ),
    row("other tenants' share of all cores during the run", (f) => pct(f.othersBusy)),
    `| ceiling rounds: p50 / p99 / max (other tenants) | | ${rounds.map((f, i) => `${i + 1}: ${fmt(f.latencyMs.p50)} / ${fmt(f.latencyMs.p99)} / ${ms(f.latencyMs.max)} (${pct(f.othersBusy)})`).join('; ')} | |`,
    `| bench wall time | ${fmt(round(result.benchMs / 1000, 1))} s | | |`,
  ];
  console.log(`\n${lines.join('\n')}\n`);
  if (noisy)
    console.log(
      `note: other tenants used ${pct(svc?.othersBusy)} of the machine during the service's run: its figures are ` +
        'inflated by them; run again when the machine is quieter.',
    );
  if (problems.length > 0) {
    console.error(`problems:\n- ${problems.join('\n- ')}`);
    console.error(serviceTail.lines.slice(-20).join('\n'));
    process.exitCode = 1;
  }
}

await guard.run(main);
