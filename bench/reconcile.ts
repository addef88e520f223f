/**
 * Reconciliation benchmark: the real service (`node src/server.ts` with `npm start`'s flags, its own fresh
 * PostgreSQL database) running a full sweep of a simulated 1,000,000-contact portal (the simulator in its own
 * child process):
 *   (a) rate limit off: contacts/s next to the same-run ceiling of a raw postgres.js upsert of the same rows
 *       (jsonb_to_recordset, batches of 100, one connection: the sweep's page size and its one connection)
 *       into a copy of the contacts table;
 *   (b) at HubSpot's 190 requests / 10 s: the steady rate over a fixed window (after the first 10 s), and every
 *       refused or failed request, counted by the simulator and in the service's logs; the service is then
 *       stopped mid-sweep (a crash the session resumes from);
 *   (c) the service's peak RSS (VmHWM) during (a), the simulator's apart;
 *   (d) what an SDK user writes first (`getAll`, then one upsert per contact) on a smaller portal.
 * Prints a table and writes bench/results/reconcile.json. Only 127.0.0.1 is ever called.
 *
 *   BENCH_CONTACTS=100000 node bench/reconcile.ts   a quicker run (default 1,000,000)
 *   BENCH_RATE_WINDOW_S=75                          length of the rate-limited window (b)
 *   BENCH_NAIVE_CONTACTS=20000                      portal size for (d)
 *   BENCH_SERVICE_NODE_OPTIONS=...                  NODE_OPTIONS for the service (e.g. --cpu-prof)
 *   BENCH_DATABASE_URL / TEST_DATABASE_URL          the PostgreSQL server (default postgres://postgres@127.0.0.1:5432)
 */

import type { ChildProcess } from 'node:child_process';
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { busyShare, cpuTimes, guardRun, round } from './lib/guard.ts';
import type { NaiveResult } from './lib/naive-sdk.ts';
import {
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
import type { SimSample, SimStats, SimTruth } from './lib/sim-server.ts';

const CONTACTS = Number(process.env.BENCH_CONTACTS ?? 1_000_000);
const NAIVE_CONTACTS = Number(process.env.BENCH_NAIVE_CONTACTS ?? 20_000);
const RATE_WINDOW_S = Number(process.env.BENCH_RATE_WINDOW_S ?? 75);
const WARMUP_S = 10;
const OVERALL_TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS ?? 25 * 60_000);
const SWEEP_TIMEOUT_MS = Number(process.env.BENCH_SWEEP_TIMEOUT_MS ?? 17 * 60_000);
const NAIVE_TIMEOUT_MS = Number(process.env.BENCH_NAIVE_TIMEOUT_MS ?? 5 * 60_000);
const CEILING_BATCH = 100;
const BIG_BATCH = 1000;
const HUBSPOT_LIMIT = { requests: 190, intervalMs: 10_000, pageSize: 100 };
const LIMIT_CONTACTS_PER_SEC = (HUBSPOT_LIMIT.requests / (HUBSPOT_LIMIT.intervalMs / 1000)) * 100;
const TARGETS = { sweepVsCeiling: 0.5, limitShare: 0.9, peakRssMB: 300 };
const ADMIN_TOKEN = 'bench-admin-token-0123456789';
const CLIENT_SECRET = 'bench-client-secret-0123456789abcdef';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoDir = path.dirname(benchDir);
const resultsDir = path.join(benchDir, 'results');
const perSec = (count: number, ms: number) => Math.round(count / (ms / 1000));
const fmt = (value: number) => (Number.isFinite(value) ? value.toLocaleString('en') : String(value));

if (!Number.isInteger(CONTACTS) || CONTACTS < 100) throw new Error('BENCH_CONTACTS must be an integer ≥ 100');
if (!(RATE_WINDOW_S > WARMUP_S + 5)) throw new Error(`BENCH_RATE_WINDOW_S must be > ${WARMUP_S + 5}`);

const guard = guardRun('bench/reconcile.ts', OVERALL_TIMEOUT_MS);

// ---- the simulator, in its own process ------------------------------------------------------------------------
interface Sim {
  child: ChildProcess;
  url: string;
  stats(): Promise<SimStats>;
  truth(): Promise<SimTruth>;
  sample(every: number): Promise<SimSample[]>;
}

async function startSim(label: string, contacts: number, rateLimit: string): Promise<Sim> {
  const { child, port } = await startHelper(path.join(benchDir, 'lib', 'sim-server.ts'), {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    SIM_CONTACTS: String(contacts),
    SIM_RATE_LIMIT: rateLimit,
  });
  new OutputTail(label).attach(child);
  guard.onCleanup(label, () => stopChild(child));
  function ask<T>(type: string, extra: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.off('message', onMessage);
        reject(new Error(`${label} did not answer ${type} within ${timeoutMs} ms`));
      }, timeoutMs);
      const onMessage = (message: Record<string, unknown>) => {
        if (message.type !== type) return;
        clearTimeout(timer);
        child.off('message', onMessage);
        resolve(message[type] as T);
      };
      child.on('message', onMessage);
      child.send({ type, ...extra });
    });
  }
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    stats: () => ask<SimStats>('stats'),
    truth: () => ask<SimTruth>('truth', {}, 5 * 60_000),
    sample: (every) => ask<SimSample[]>('sample', { every }, 5 * 60_000),
  };
}

// ---- the real service ---------------------------------------------------------------------------------------
interface LogCounts {
  retried: Record<string, number>;
  errors: number;
  lines: number;
  firstError?: string;
}

interface Service {
  child: ChildProcess;
  port: number;
  tail: OutputTail;
  logs: LogCounts;
  alive(): boolean;
  startMs: number;
  idleRssMB: number | null;
}

async function startBenchService(label: string, databaseUrl: string, simUrl: string): Promise<Service> {
  const port = await freePort();
  const tail = new OutputTail(label);
  const started = performance.now();
  const child = startService('src/server.ts', repoDir, {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    NODE_ENV: 'production',
    DATABASE_URL: databaseUrl,
    HUBSPOT_API_BASE: simUrl,
    HUBSPOT_ACCESS_TOKEN: 'pat-na1-bench',
    HUBSPOT_CLIENT_SECRET: CLIENT_SECRET,
    ADMIN_TOKEN,
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    RECONCILE_INTERVAL: '0',
    FULL_RECONCILE_INTERVAL: '0',
    ...(process.env.BENCH_SERVICE_NODE_OPTIONS
      ? { NODE_OPTIONS: process.env.BENCH_SERVICE_NODE_OPTIONS }
      : {}),
  });
  tail.attach(child);
  // Every retried HubSpot call (429, 5xx, timeout) is a pino warning from the pacer; errors are level ≥ 50.
  const logs: LogCounts = { retried: {}, errors: 0, lines: 0 };
  let partial = '';
  child.stdout?.on('data', (text: string) => {
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      logs.lines++;
      try {
        const entry = JSON.parse(line) as { level?: number; msg?: string; kind?: string };
        if (entry.msg === 'HubSpot call will be retried') {
          const kind = entry.kind ?? 'unknown';
          logs.retried[kind] = (logs.retried[kind] ?? 0) + 1;
        }
        if ((entry.level ?? 0) >= 50) {
          logs.errors++;
          logs.firstError ??= line.slice(0, 500);
        }
      } catch {
        // not a log line
      }
    }
  });
  guard.onCleanup(label, () => stopChild(child));
  await waitReady(`http://127.0.0.1:${port}/readyz`, child, 60_000);
  return {
    child,
    port,
    tail,
    logs,
    alive: () => child.exitCode === null && child.signalCode === null,
    startMs: round(performance.now() - started),
    idleRssMB: memoryOf(child.pid)?.rssMB ?? null,
  };
}

interface SessionView {
  id: string;
  sessionId: string;
  status: string;
  startTime: string | null;
  endTime: string | null;
  recordsCount: number;
  errorCount: number;
  progress: Record<string, number | string | null>;
  error: string | null;
}

async function api<T>(service: Service, method: string, url: string, body?: unknown) {
  const response = await fetch(`http://127.0.0.1:${service.port}${url}`, {
    method,
    headers: {
      authorization: `Bearer ${ADMIN_TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? null : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${url}: HTTP ${response.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

interface SweepSample {
  atMs: number;
  seen: number;
  phase: string | null;
  rssMB: number | null;
}

interface SweepWatch {
  session: SessionView | undefined;
  samples: SweepSample[];
  wallMs: number;
  ended: 'completed' | 'failed' | 'window' | 'timeout' | 'died';
  peakRssMB: number | null;
  maxSampledRssMB: number | null;
}

/** Starts a full sweep and polls its session until it ends, the service dies, or `windowMs` / `timeoutMs`. */
async function watchSweep(
  service: Service,
  options: { pollMs: number; timeoutMs: number; windowMs?: number },
): Promise<SweepWatch> {
  const started = await api<{ id: string; sessionId: string }>(service, 'POST', '/api/contacts/sync', {
    mode: 'full',
  });
  const t0 = performance.now();
  const samples: SweepSample[] = [];
  let session: SessionView | undefined;
  let ended: SweepWatch['ended'] = 'timeout';
  let maxSampled = 0;
  let lastLog = 0;
  while (performance.now() - t0 < options.timeoutMs) {
    await sleep(options.pollMs);
    if (!service.alive()) {
      ended = 'died';
      break;
    }
    const memory = memoryOf(service.child.pid);
    maxSampled = Math.max(maxSampled, memory?.rssMB ?? 0);
    try {
      session = await api<SessionView>(service, 'GET', `/api/sync/sessions/${started.id}`);
    } catch (error) {
      if (!service.alive()) {
        ended = 'died';
        break;
      }
      console.error(`polling the session failed: ${(error as Error).message}`);
      continue;
    }
    const atMs = performance.now() - t0;
    samples.push({
      atMs: Math.round(atMs),
      seen: session.recordsCount,
      phase: (session.progress.phase as string | null) ?? null,
      rssMB: memory?.rssMB ?? null,
    });
    if (atMs - lastLog >= 15_000) {
      lastLog = atMs;
      console.log(
        `  ${round(atMs / 1000)} s: ${fmt(session.recordsCount)} seen (${session.progress.phase}), ` +
          `service RSS ${memory?.rssMB} MB (peak ${memory?.peakRssMB} MB)`,
      );
    }
    if (session.status === 'completed' || session.status === 'failed') {
      ended = session.status;
      break;
    }
    if (options.windowMs !== undefined && atMs >= options.windowMs) {
      ended = 'window';
      break;
    }
  }
  return {
    session,
    samples,
    wallMs: performance.now() - t0,
    ended,
    peakRssMB: memoryOf(service.child.pid)?.peakRssMB ?? null,
    maxSampledRssMB: maxSampled || null,
  };
}

/** Contacts/s between the first sample at or after `fromMs` and the last sample. */
function steadyRate(samples: readonly SweepSample[], fromMs: number) {
  const first = samples.find((s) => s.atMs >= fromMs);
  const last = samples.at(-1);
  if (!first || !last || last.atMs <= first.atMs) return { contactsPerSec: Number.NaN, fromMs, toMs: fromMs };
  return {
    contactsPerSec: Math.round((last.seen - first.seen) / ((last.atMs - first.atMs) / 1000)),
    fromMs: first.atMs,
    toMs: last.atMs,
    contacts: last.seen - first.seen,
  };
}

/** Median of the per-interval rates (contacts/s) between consecutive samples, skipping the first `fromMs`. */
function medianIntervalRate(samples: readonly SweepSample[], fromMs: number): number {
  const rates: number[] = [];
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1] as SweepSample;
    const b = samples[i] as SweepSample;
    if (a.atMs < fromMs || b.atMs <= a.atMs) continue;
    rates.push((b.seen - a.seen) / ((b.atMs - a.atMs) / 1000));
  }
  rates.sort((x, y) => x - y);
  return rates.length === 0 ? Number.NaN : Math.round(rates[Math.floor(rates.length / 2)] as number);
}

// ---- PostgreSQL's CPU ------------------------------------------------------------------------------------------
/**
 * CPU seconds of the PostgreSQL processes serving `database` plus the server's background processes
 * (WAL writer, checkpointer, autovacuum…), read from /proc (the server runs on this machine). Backends that
 * exit between two readings are lost, so this is a lower bound.
 */
async function postgresCpu(admin: postgres.Sql, database: string): Promise<Map<number, number>> {
  const rows = await admin<{ pid: number }[]>`
    select pid from pg_stat_activity
    where (datname = ${database} or backend_type <> 'client backend') and pid <> pg_backend_pid()`;
  return new Map(rows.map((row) => [row.pid, cpuSecondsOf(row.pid)]));
}
const cpuSpent = (before: Map<number, number>, after: Map<number, number>) => {
  let total = 0;
  for (const [pid, seconds] of after) if (Number.isFinite(seconds)) total += seconds - (before.get(pid) ?? 0);
  return round(total, 1);
};

/** When each phase was first seen in the polls (ms after the sweep started). */
function phaseStarts(samples: readonly SweepSample[]): Record<string, number> {
  const starts: Record<string, number> = {};
  for (const s of samples) if (s.phase && starts[s.phase] === undefined) starts[s.phase] = s.atMs;
  return starts;
}

// ---- the raw upsert ceiling -----------------------------------------------------------------------------------
const CEILING_COLUMNS = `hubspot_id text, data jsonb, property_versions jsonb, archived boolean, merged_into text,
  hubspot_created_at timestamptz, hubspot_updated_at timestamptz`;

/** The mirror's rows as JSON batches of `size`, serialised before anything is timed. */
async function mirrorBatches(sql: postgres.Sql, size: number): Promise<string[]> {
  const batches: string[] = [];
  let rows: unknown[] = [];
  const cursor = sql`select hubspot_id, data, property_versions, archived, merged_into, hubspot_created_at,
      hubspot_updated_at
    from contacts order by hubspot_id`.cursor(5000);
  for await (const chunk of cursor) {
    for (const row of chunk) {
      rows.push(row);
      if (rows.length === size) {
        batches.push(JSON.stringify(rows));
        rows = [];
      }
    }
  }
  if (rows.length > 0) batches.push(JSON.stringify(rows));
  return batches;
}

/** One connection, one statement at a time (as the sweep writes), every batch upserted into `table`. */
async function rawUpsert(sql: postgres.Sql, table: string, batches: readonly string[], rows: number) {
  const cpu = cpuTimes();
  const started = performance.now();
  let written = 0;
  for (const batch of batches) {
    const result = await sql.unsafe(
      `insert into ${table} (hubspot_id, data, property_versions, archived, merged_into, last_sync, sync_status,
          hubspot_created_at, hubspot_updated_at)
        select hubspot_id, data, property_versions, archived, merged_into, now(), 'synced',
          hubspot_created_at, hubspot_updated_at
        from jsonb_to_recordset($1::text::jsonb) as r(${CEILING_COLUMNS})
        on conflict (hubspot_id) do update set data = excluded.data,
          property_versions = excluded.property_versions, archived = excluded.archived,
          merged_into = excluded.merged_into, last_sync = excluded.last_sync,
          sync_status = excluded.sync_status, updated_at = now()`,
      [batch],
    );
    written += result.count;
  }
  const ms = performance.now() - started;
  if (written !== rows) throw new Error(`raw upsert wrote ${written} rows, expected ${rows}`);
  return {
    rows: written,
    statements: batches.length,
    ms: round(ms),
    contactsPerSec: perSec(written, ms),
    machineBusy: busyShare(cpu, cpuTimes()),
  };
}

// ---- the mirror against the simulator's truth ---------------------------------------------------------------
async function checkMirror(sql: postgres.Sql, sim: Sim) {
  const truth = await sim.truth();
  const [mirror] = await sql<{ total: number; archived: number; merged: number; pending: number }[]>`
    select count(*)::int as total, count(*) filter (where archived)::int as archived,
      count(*) filter (where merged_into is not null)::int as merged,
      count(*) filter (where sync_status = 'pending')::int as pending
    from contacts`;
  const expected = truth.total - truth.erased;
  const every = Math.max(1, Math.floor(truth.total / 1000));
  const sample = await sim.sample(every);
  const rows = await sql<
    {
      hubspot_id: string;
      data: Record<string, string | null>;
      archived: boolean;
      merged_into: string | null;
    }[]
  >`select hubspot_id, data, archived, merged_into from contacts
    where hubspot_id = any(${sample.map((s) => s.id)}::text[])`;
  const byId = new Map(rows.map((row) => [row.hubspot_id, row]));
  const mismatches: string[] = [];
  let compared = 0;
  for (const s of sample) {
    const row = byId.get(s.id);
    if (!row) {
      mismatches.push(`${s.id}: not in the mirror`);
      continue;
    }
    const gone = s.archived || s.mergedInto !== null;
    if (row.archived !== gone) mismatches.push(`${s.id}: archived ${row.archived}, HubSpot says ${gone}`);
    if ((row.merged_into === null) !== (s.mergedInto === null))
      mismatches.push(`${s.id}: merged_into ${row.merged_into}, HubSpot says ${s.mergedInto}`);
    if (s.mergedInto !== null) continue;
    for (const [name, value] of Object.entries(row.data)) {
      compared++;
      const want = s.properties[name] ?? null;
      if ((value ?? null) !== want && !(value === null && want === ''))
        mismatches.push(`${s.id}.${name}: ${JSON.stringify(value)}, HubSpot says ${JSON.stringify(want)}`);
    }
  }
  return {
    truth,
    expected,
    mirror: mirror ?? { total: 0, archived: 0, merged: 0, pending: 0 },
    countMatches: mirror?.total === expected,
    sampled: sample.length,
    propertiesCompared: compared,
    mismatches: mismatches.length,
    firstMismatches: mismatches.slice(0, 10),
  };
}

async function main() {
  const benchStarted = performance.now();
  const problems: string[] = [];
  const serverUrl =
    process.env.BENCH_DATABASE_URL ??
    process.env.TEST_DATABASE_URL ??
    'postgres://postgres@127.0.0.1:5432/postgres';
  const dbUrlOf = (name: string) => {
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    return url.toString();
  };
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(new URL(serverUrl).hostname))
    throw new Error(`the bench only talks to 127.0.0.1; got a database at ${new URL(serverUrl).hostname}`);
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  guard.onCleanup('admin connection', () => admin.end({ timeout: 5 }));
  const dbNameOf = (suffix: string) => `bench_reconcile_${suffix}_${process.pid}`;
  async function freshDatabase(suffix: string): Promise<string> {
    const name = dbNameOf(suffix);
    await admin.unsafe(`create database ${name}`);
    guard.onCleanup(`drop database ${name}`, async () => {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
    });
    return dbUrlOf(name);
  }

  // ==== (a) + (c): a full sweep with the rate limit off ==========================================================
  console.log(`(a) full sweep of ${fmt(CONTACTS)} simulated contacts, rate limit off`);
  const simA = await startSim('sim a', CONTACTS, 'off');
  const simIdle = memoryOf(simA.child.pid);
  const dbA = await freshDatabase('a');
  const serviceA = await startBenchService('service a', dbA, simA.url);
  const sqlA = postgres(dbA, { max: 2, onnotice: () => {} });
  guard.onCleanup('bench connections (a)', () => sqlA.end({ timeout: 5 }));

  const simBefore = await simA.stats();
  const cpuA = cpuTimes();
  const serviceCpuA = cpuSecondsOf(serviceA.child.pid);
  const pgCpuA = await postgresCpu(admin, dbNameOf('a'));
  const sweepA = await watchSweep(serviceA, { pollMs: 1000, timeoutMs: SWEEP_TIMEOUT_MS });
  const machineBusyA = busyShare(cpuA, cpuTimes());
  const serviceCpuSA = round(cpuSecondsOf(serviceA.child.pid) - serviceCpuA, 1);
  const postgresCpuSA = cpuSpent(pgCpuA, await postgresCpu(admin, dbNameOf('a')));
  const simAfter = await simA.stats();
  const simCpuSA = round(simAfter.cpuS - simBefore.cpuS, 1);
  const simMemoryA = memoryOf(simA.child.pid);
  const sessionA = sweepA.session;
  const sweepMsA =
    sessionA?.startTime && sessionA.endTime
      ? Date.parse(sessionA.endTime) - Date.parse(sessionA.startTime)
      : sweepA.wallMs;
  const seenA = sessionA?.recordsCount ?? 0;
  const rateA = perSec(seenA, sweepMsA);
  if (sweepA.ended !== 'completed')
    problems.push(`sweep (a) ${sweepA.ended}${sessionA?.error ? `: ${sessionA.error}` : ''}`);
  console.log(
    `(a) ${sweepA.ended}: ${fmt(seenA)} contacts in ${round(sweepMsA / 1000, 1)} s = ${fmt(rateA)} contacts/s; ` +
      `service peak RSS ${sweepA.peakRssMB} MB, CPU ${serviceCpuSA} s; simulator CPU ${simCpuSA} s`,
  );
  const [dbStats] = await sqlA<
    { syncLogs: number; outbox: number; history: number; audit: number; errors: number; seenLeft: number }[]
  >`select (select count(*) from sync_logs)::int as "syncLogs",
      (select count(*) from outbox_events)::int as outbox,
      (select count(*) from contact_property_history)::int as history,
      (select count(*) from audit_logs)::int as audit,
      (select count(*) from error_logs)::int as errors,
      (select count(*) from sweep_seen)::int as "seenLeft"`;
  const [tableSizes] = await sqlA<{ contactsMB: number; outboxMB: number }[]>`
    select round(pg_total_relation_size('contacts') / 1048576.0, 1)::float as "contactsMB",
      round(pg_total_relation_size('outbox_events') / 1048576.0, 1)::float as "outboxMB"`;

  const check = await checkMirror(sqlA, simA);
  console.log(
    `(a) mirror: ${fmt(check.mirror.total)} contacts, simulator truth ${fmt(check.expected)} ` +
      `(live ${fmt(check.truth.live)}, archived ${fmt(check.truth.archived)}, merged ${fmt(check.truth.merged)}, ` +
      `erased ${fmt(check.truth.erased)}); ${check.sampled} sampled, ${check.mismatches} mismatches`,
  );
  if (sweepA.ended === 'completed') {
    if (!check.countMatches)
      problems.push(`mirror holds ${check.mirror.total} contacts, the simulator ${check.expected}`);
    if (check.mismatches > 0)
      problems.push(`${check.mismatches} sampled values differ: ${check.firstMismatches.join('; ')}`);
  }
  if (!serviceA.alive()) problems.push('service (a) died');
  const logsA = { ...serviceA.logs };
  await stopChild(serviceA.child);

  // ==== the ceiling: a raw postgres.js upsert of the same rows ===================================================
  let ceiling:
    | {
        insert: Awaited<ReturnType<typeof rawUpsert>>;
        update: Awaited<ReturnType<typeof rawUpsert>>;
        insertBatch1000: Awaited<ReturnType<typeof rawUpsert>>;
        buildMs: number;
        contactsPerSec: number;
      }
    | undefined;
  if (check.mirror.total > 0) {
    console.log('ceiling: raw upsert of the mirrored rows into a copy of the contacts table');
    const built = performance.now();
    const batches = await mirrorBatches(sqlA, CEILING_BATCH);
    const bigBatches: string[] = [];
    for (let i = 0; i < batches.length; i += BIG_BATCH / CEILING_BATCH) {
      bigBatches.push(
        `[${batches
          .slice(i, i + BIG_BATCH / CEILING_BATCH)
          .map((b) => b.slice(1, -1))
          .join(',')}]`,
      );
    }
    const buildMs = round(performance.now() - built);
    await sqlA`create table contacts_ceiling (like contacts including all)`;
    const rows = check.mirror.total;
    const insert = await rawUpsert(sqlA, 'contacts_ceiling', batches, rows);
    console.log(`  insert path, ${CEILING_BATCH}/statement: ${fmt(insert.contactsPerSec)} contacts/s`);
    const update = await rawUpsert(sqlA, 'contacts_ceiling', batches, rows);
    console.log(`  update path, ${CEILING_BATCH}/statement: ${fmt(update.contactsPerSec)} contacts/s`);
    await sqlA`truncate contacts_ceiling`;
    await sqlA`vacuum contacts_ceiling`;
    const insertBatch1000 = await rawUpsert(sqlA, 'contacts_ceiling', bigBatches, rows);
    console.log(`  insert path, ${BIG_BATCH}/statement: ${fmt(insertBatch1000.contactsPerSec)} contacts/s`);
    await sqlA`drop table contacts_ceiling`;
    ceiling = {
      insert,
      update,
      insertBatch1000,
      buildMs,
      contactsPerSec: Math.max(insert.contactsPerSec, update.contactsPerSec),
    };
  }
  const ceilingRate = ceiling?.contactsPerSec ?? Number.NaN;

  // ==== (d): what an SDK user writes first ======================================================================
  console.log(`(d) getAll + one upsert per contact, ${fmt(NAIVE_CONTACTS)} contacts, rate limit off`);
  const simD = await startSim('sim d', NAIVE_CONTACTS, 'off');
  const [keys] = await sqlA<{ keys: string[] | null }[]>`
    select array_agg(distinct k order by k) as keys
    from (select data from contacts limit 1000) c, jsonb_object_keys(c.data) as k`;
  const properties = keys?.keys ?? ['email', 'firstname', 'lastname'];
  await sqlA`create table contacts_naive (like contacts including all)`;
  const naiveChild = fork(path.join(benchDir, 'lib', 'naive-sdk.ts'), [], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      NAIVE_SIM_URL: simD.url,
      NAIVE_DATABASE_URL: dbA,
      NAIVE_TABLE: 'contacts_naive',
      NAIVE_PROPERTIES: properties.join(','),
    },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  new OutputTail('naive').attach(naiveChild);
  guard.onCleanup('naive', () => stopChild(naiveChild));
  let naivePeakSampled = 0;
  const naiveSampler = setInterval(() => {
    naivePeakSampled = Math.max(naivePeakSampled, memoryOf(naiveChild.pid)?.peakRssMB ?? 0);
  }, 250);
  const naive = await new Promise<NaiveResult | { error: string }>((resolve) => {
    const timer = setTimeout(
      () => resolve({ error: `no result within ${NAIVE_TIMEOUT_MS} ms` }),
      NAIVE_TIMEOUT_MS,
    );
    naiveChild.once('message', (message: { result?: NaiveResult; error?: string }) => {
      clearTimeout(timer);
      resolve(message.result ?? { error: message.error ?? 'no result' });
    });
    naiveChild.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ error: `exited with ${code} before reporting` });
    });
  });
  clearInterval(naiveSampler);
  await stopChild(naiveChild);
  const [naiveRows] = await sqlA<{ count: number }[]>`select count(*)::int as count from contacts_naive`;
  await sqlA`drop table contacts_naive`;
  const simTruthD = await simD.truth();
  // The service's own sweep of the same small portal: the like-for-like comparison with (d).
  const dbD = await freshDatabase('d');
  const serviceD = await startBenchService('service d', dbD, simD.url);
  const sweepD = await watchSweep(serviceD, { pollMs: 200, timeoutMs: NAIVE_TIMEOUT_MS });
  const sweepDMs =
    sweepD.session?.startTime && sweepD.session.endTime
      ? Date.parse(sweepD.session.endTime) - Date.parse(sweepD.session.startTime)
      : sweepD.wallMs;
  const sweepDRate = perSec(sweepD.session?.recordsCount ?? 0, sweepDMs);
  if (sweepD.ended !== 'completed') problems.push(`sweep of the small portal ${sweepD.ended}`);
  await stopChild(serviceD.child);
  await stopChild(simD.child);
  const naiveRate = 'error' in naive ? Number.NaN : perSec(naive.contacts, naive.totalMs);
  if ('error' in naive) problems.push(`naive run failed: ${naive.error}`);
  else {
    if (naive.contacts !== simTruthD.live)
      problems.push(`getAll returned ${naive.contacts} contacts, the portal has ${simTruthD.live} live`);
    console.log(
      `(d) ${fmt(naive.contacts)} contacts: getAll ${round(naive.fetchMs / 1000, 2)} s + upserts ` +
        `${round(naive.upsertMs / 1000, 2)} s = ${fmt(naiveRate)} contacts/s; peak RSS ${naive.peakRssMB} MB`,
    );
  }
  await stopChild(simA.child);

  // ==== (b): at HubSpot's limit ==================================================================================
  console.log(`(b) full sweep at ${HUBSPOT_LIMIT.requests}/10s for ${RATE_WINDOW_S} s`);
  const simB = await startSim('sim b', CONTACTS, `${HUBSPOT_LIMIT.requests}/10s`);
  const dbB = await freshDatabase('b');
  const serviceB = await startBenchService('service b', dbB, simB.url);
  const sqlB = postgres(dbB, { max: 1, onnotice: () => {} });
  guard.onCleanup('bench connections (b)', () => sqlB.end({ timeout: 5 }));
  const simBBefore = await simB.stats();
  const cpuB = cpuTimes();
  const serviceCpuB = cpuSecondsOf(serviceB.child.pid);
  const sweepB = await watchSweep(serviceB, {
    pollMs: 1000,
    timeoutMs: RATE_WINDOW_S * 1000 + 60_000,
    windowMs: RATE_WINDOW_S * 1000,
  });
  const simBAfter = await simB.stats();
  const machineBusyB = busyShare(cpuB, cpuTimes());
  const serviceCpuSB = round(cpuSecondsOf(serviceB.child.pid) - serviceCpuB, 1);
  const serviceBAlive = serviceB.alive();
  const peakRssB = memoryOf(serviceB.child.pid)?.peakRssMB ?? null;
  // A crash mid-sweep: the next start marks the session failed and resumes from its checkpoint.
  await stopChild(serviceB.child);
  // The live list is the bulk of a sweep (a small portal may finish inside the window: its tail is not steady).
  const liveB = sweepB.samples.filter((s) => s.phase === 'live');
  const steadyB = steadyRate(liveB, WARMUP_S * 1000);
  const medianB = medianIntervalRate(liveB, WARMUP_S * 1000);
  const requestsB = simBAfter.apiCalls - simBBefore.apiCalls;
  const refusedB = simBAfter.rateLimited - simBBefore.rateLimited;
  const serverErrorsB = simBAfter.serverErrors - simBBefore.serverErrors;
  const [errorsB] = await sqlB<{ count: number }[]>`select count(*)::int as count from error_logs`;
  const [sessionRowB] = await sqlB<{ status: string; checkpoint: unknown; seen: number }[]>`
    select status, checkpoint, seen_count::int as seen from sync_sessions order by start_time desc nulls last limit 1`;
  const retriedB = Object.values(serviceB.logs.retried).reduce((sum, n) => sum + n, 0);
  const failedB = refusedB + serverErrorsB + retriedB + (errorsB?.count ?? 0);
  if (!serviceBAlive) problems.push('service (b) died during the window');
  if (sweepB.ended !== 'window' && sweepB.ended !== 'completed')
    problems.push(`sweep (b) ${sweepB.ended}${sweepB.session?.error ? `: ${sweepB.session.error}` : ''}`);
  console.log(
    `(b) ${fmt(sweepB.session?.recordsCount ?? 0)} contacts in ${round(sweepB.wallMs / 1000, 1)} s; steady ` +
      `${fmt(steadyB.contactsPerSec)} contacts/s (median interval ${fmt(medianB)}); ${requestsB} requests, ` +
      `${refusedB} refused (429), ${serverErrorsB} 5xx, ${retriedB} retried by the service`,
  );
  await stopChild(simB.child);

  // ==== figures ==================================================================================================
  const peakRssMB = sweepA.peakRssMB ?? Number.NaN;
  const sweepVsCeiling = round(rateA / ceilingRate, 2);
  const limitShare = round(steadyB.contactsPerSec / LIMIT_CONTACTS_PER_SEC, 3);
  const targets = {
    sweepVsCeiling: {
      value: sweepVsCeiling,
      target: `≥ ${TARGETS.sweepVsCeiling}`,
      pass: sweepA.ended === 'completed' && sweepVsCeiling >= TARGETS.sweepVsCeiling,
    },
    shareOfRateLimit: {
      value: limitShare,
      target: `≥ ${TARGETS.limitShare}`,
      pass: limitShare >= TARGETS.limitShare,
    },
    failedRequestsAtLimit: { value: failedB, target: '0', pass: failedB === 0 },
    peakRssMB: {
      value: peakRssMB,
      target: `< ${TARGETS.peakRssMB}`,
      pass: sweepA.ended === 'completed' && peakRssMB < TARGETS.peakRssMB,
    },
  };

  const downsample = (samples: readonly SweepSample[], everyMs: number) => {
    let next = 0;
    return samples.filter((s, i) => {
      if (s.atMs < next && i !== samples.length - 1) return false;
      next = s.atMs + everyMs;
      return true;
    });
  };
  const result = {
    name: 'reconcile',
    ok: problems.length === 0,
    problems,
    contacts: CONTACTS,
    pageSize: HUBSPOT_LIMIT.pageSize,
    cpus: os.cpus().length,
    full: {
      status: sweepA.ended,
      sessionId: sessionA?.sessionId ?? null,
      seen: seenA,
      progress: sessionA?.progress ?? null,
      ms: round(sweepMsA),
      wallMs: round(sweepA.wallMs),
      contactsPerSec: rateA,
      medianIntervalContactsPerSec: medianIntervalRate(sweepA.samples, WARMUP_S * 1000),
      pagesPerSec: round(perSec(seenA, sweepMsA) / HUBSPOT_LIMIT.pageSize, 1),
      simulatorRequests: simAfter.apiCalls - simBefore.apiCalls,
      serviceCpuS: serviceCpuSA,
      simulatorCpuS: simCpuSA,
      machineBusy: machineBusyA,
      postgresCpuS: postgresCpuSA,
      // Machine CPU spent by none of the three: this process's polls, other users of the machine.
      otherCpuS: round(
        machineBusyA * os.cpus().length * (sweepA.wallMs / 1000) - serviceCpuSA - simCpuSA - postgresCpuSA,
        1,
      ),
      phaseStartsMs: phaseStarts(sweepA.samples),
      service: {
        startMs: serviceA.startMs,
        idleRssMB: serviceA.idleRssMB,
        peakRssMB: sweepA.peakRssMB,
        maxSampledRssMB: sweepA.maxSampledRssMB,
        logs: logsA,
      },
      simulator: {
        idleRssMB: simIdle?.rssMB ?? null,
        peakRssMB: simMemoryA?.peakRssMB ?? null,
        rssAtEndMB: simMemoryA?.rssMB ?? null,
      },
      database: { ...dbStats, ...tableSizes },
      mirrorCheck: check,
      samples: downsample(sweepA.samples, 5000),
    },
    ceiling: ceiling
      ? {
          connections: 1,
          batch: CEILING_BATCH,
          contactsPerSec: ceiling.contactsPerSec,
          insertPath: ceiling.insert,
          updatePath: ceiling.update,
          insertPathBatch1000: ceiling.insertBatch1000,
          buildMs: ceiling.buildMs,
        }
      : null,
    atLimit: {
      rateLimit: `${HUBSPOT_LIMIT.requests}/10s`,
      allowedContactsPerSec: LIMIT_CONTACTS_PER_SEC,
      windowS: RATE_WINDOW_S,
      warmupS: WARMUP_S,
      ended: sweepB.ended,
      seen: sweepB.session?.recordsCount ?? 0,
      wallMs: round(sweepB.wallMs),
      steady: steadyB,
      medianIntervalContactsPerSec: medianB,
      requests: requestsB,
      requestsPerSec: round(requestsB / (sweepB.wallMs / 1000), 1),
      refused429: refusedB,
      serverErrors5xx: serverErrorsB,
      retriedByService: serviceB.logs.retried,
      errorLogs: errorsB?.count ?? 0,
      serviceErrorLines: serviceB.logs.errors,
      failedRequests: failedB,
      sessionAfterStop: sessionRowB ?? null,
      serviceCpuS: serviceCpuSB,
      machineBusy: machineBusyB,
      servicePeakRssMB: peakRssB,
      samples: sweepB.samples,
    },
    naive: {
      contacts: NAIVE_CONTACTS,
      properties: properties.length,
      ...('error' in naive
        ? { error: naive.error }
        : {
            ...naive,
            fetchMs: round(naive.fetchMs),
            upsertMs: round(naive.upsertMs),
            totalMs: round(naive.totalMs),
            contactsPerSec: naiveRate,
            fetchContactsPerSec: perSec(naive.contacts, naive.fetchMs),
            upsertContactsPerSec: perSec(naive.contacts, naive.upsertMs),
            rowsWritten: naiveRows?.count ?? 0,
            sampledPeakRssMB: naivePeakSampled,
          }),
      serviceSweepSamePortal: {
        status: sweepD.ended,
        seen: sweepD.session?.recordsCount ?? 0,
        ms: round(sweepDMs),
        contactsPerSec: sweepDRate,
        peakRssMB: sweepD.peakRssMB,
      },
    },
    ratios: {
      sweepVsCeiling,
      sweepVsCeilingBatch1000: ceiling ? round(rateA / ceiling.insertBatch1000.contactsPerSec, 2) : null,
      shareOfRateLimit: limitShare,
      sweepVsNaive: round(rateA / naiveRate, 2),
      sweepVsNaiveSamePortal: round(sweepDRate / naiveRate, 2),
    },
    targets,
    benchMs: round(performance.now() - benchStarted),
    node: process.version,
    at: new Date().toISOString(),
  };

  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(path.join(resultsDir, 'reconcile.json'), `${JSON.stringify(result, null, 2)}\n`);

  const mark = (pass: boolean) => (pass ? 'pass' : '**FAIL**');
  const n = result.naive as {
    contactsPerSec?: number;
    peakRssMB?: number;
    fetchMs?: number;
    upsertMs?: number;
  };
  const lines = [
    `| full sweep, ${fmt(CONTACTS)} simulated contacts, ${os.cpus().length} cores | figure | target |`,
    '| --- | --- | --- |',
    `| (a) full sweep, rate limit off | ${fmt(rateA)} contacts/s (${fmt(seenA)} in ${round(sweepMsA / 1000, 1)} s; median 1-s interval ${fmt(result.full.medianIntervalContactsPerSec)}) | ≥ 0.5 × ceiling = ${fmt(Math.round(0.5 * ceilingRate))}: ${mark(targets.sweepVsCeiling.pass)} (${sweepVsCeiling}×) |`,
    `| ceiling: raw postgres.js upsert, jsonb_to_recordset, 1 conn × ${CEILING_BATCH} rows | ${fmt(ceilingRate)} contacts/s (insert path ${fmt(ceiling?.insert.contactsPerSec ?? Number.NaN)}, update path ${fmt(ceiling?.update.contactsPerSec ?? Number.NaN)}) | |`,
    `| ceiling, 1 conn × ${BIG_BATCH} rows (insert path) | ${fmt(ceiling?.insertBatch1000.contactsPerSec ?? Number.NaN)} contacts/s (sweep ÷ it: ${result.ratios.sweepVsCeilingBatch1000}) | |`,
    `| (b) at ${HUBSPOT_LIMIT.requests}/10s, steady after ${WARMUP_S} s of ${RATE_WINDOW_S} s | ${fmt(steadyB.contactsPerSec)} contacts/s (median 1-s interval ${fmt(medianB)}; ${requestsB} requests, ${result.atLimit.requestsPerSec}/s) | ≥ 90% of ${fmt(LIMIT_CONTACTS_PER_SEC)} = ${fmt(0.9 * LIMIT_CONTACTS_PER_SEC)}: ${mark(targets.shareOfRateLimit.pass)} (${round(limitShare * 100, 1)}%) |`,
    `| (b) failed requests (429 + 5xx + retried + error_logs) | ${failedB} (${refusedB} × 429, ${serverErrorsB} × 5xx, ${retriedB} retried, ${errorsB?.count ?? 0} error_logs) | 0: ${mark(targets.failedRequestsAtLimit.pass)} |`,
    `| (c) service peak RSS (VmHWM) during (a) | ${peakRssMB} MB (idle ${serviceA.idleRssMB} MB) | < 300 MB: ${mark(targets.peakRssMB.pass)} |`,
    `| simulator RSS (not the service) | peak ${simMemoryA?.peakRssMB} MB (idle ${simIdle?.rssMB} MB) | |`,
    `| (d) SDK getAll + one upsert each, ${fmt(NAIVE_CONTACTS)} contacts | ${fmt(n.contactsPerSec ?? Number.NaN)} contacts/s (getAll ${round((n.fetchMs ?? Number.NaN) / 1000, 1)} s + upserts ${round((n.upsertMs ?? Number.NaN) / 1000, 1)} s), peak RSS ${n.peakRssMB} MB | |`,
    `| (a) ÷ (d) | ${result.ratios.sweepVsNaive}× | |`,
    `| the service's sweep of the same ${fmt(NAIVE_CONTACTS)}-contact portal ÷ (d) | ${fmt(sweepDRate)} contacts/s (${round(sweepDMs / 1000, 1)} s, peak RSS ${sweepD.peakRssMB} MB): ${result.ratios.sweepVsNaiveSamePortal}× | |`,
    `| CPU during (a): service / simulator / PostgreSQL / other | ${serviceCpuSA} s / ${simCpuSA} s / ${postgresCpuSA} s / ${result.full.otherCpuS} s in ${round(sweepA.wallMs / 1000, 1)} s wall on ${os.cpus().length} cores (machine busy ${Math.round(machineBusyA * 100)}%) | |`,
    `| mirror check | ${fmt(check.mirror.total)} rows = ${fmt(check.expected)} in HubSpot: ${check.countMatches ? 'yes' : '**NO**'}; ${check.sampled} sampled, ${check.mismatches} mismatches | |`,
    `| bench wall time | ${round(result.benchMs / 1000, 1)} s | |`,
  ];
  console.log(`\n${lines.join('\n')}\n`);
  if (problems.length > 0) {
    console.error(`problems: ${problems.join('; ')}`);
    console.error(serviceA.tail.lines.slice(-10).join('\n'));
    process.exitCode = 1;
  }
}

await guard.run(main);
