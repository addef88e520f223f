import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import type { SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import * as schema from './schema/index.ts';

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

/** What the rest of the code sees of the database, whichever driver is underneath. */
export interface Database {
  readonly kind: 'postgres' | 'pglite';
  readonly db: Db;
  /** Runs raw SQL and returns its rows, the same shape on both drivers. */
  rows<T extends Record<string, unknown>>(query: SQL): Promise<T[]>;
  /**
   * Runs `work` holding a session-level advisory lock, waiting for it if needed. `exec` runs raw SQL on
   * the very connection that holds the lock (so `begin`/`commit` through it form one transaction).
   */
  withAdvisoryLock<T>(key: bigint, work: (exec: RawExec) => Promise<T>): Promise<T>;
  /**
   * Runs `work` if the session-level advisory lock `key` is free, holding it (on a connection of its own)
   * until `work` settles; returns `{ acquired: false }` at once when another session holds it.
   */
  tryWithAdvisoryLock<T>(
    key: bigint,
    work: () => Promise<T>,
  ): Promise<{ acquired: true; value: T } | { acquired: false }>;
  /** Calls `onNotify` on every NOTIFY on `channel`, from any instance; resolves to an unsubscribe. */
  listen(channel: string, onNotify: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** Rows of a `db.execute()` result: postgres.js returns an array, PGlite an object holding one. */
export function resultRows<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

export type RawExec = (text: string, params?: unknown[]) => Promise<Record<string, unknown>[]>;

export interface DatabaseOptions {
  url?: string | undefined;
  pgliteDir?: string;
  maxConnections?: number;
  /** postgres.js prints NOTICEs by default; migrations raise harmless ones ("already exists, skipping"). */
  onNotice?: (message: string) => void;
  /**
   * Seconds to wait for a connection to be ready. Without a limit, a host that drops packets (a wrong
   * address, a firewall) leaves start-up hanging in silence for the operating system's TCP timeout.
   */
  connectTimeoutSeconds?: number;
  /** Longest a statement may run, in milliseconds; 0 for no limit (`db:migrate`). */
  statementTimeoutMs?: number;
}

export const DEFAULT_CONNECT_TIMEOUT_SECONDS = 10;
/**
 * The service's statements are short (a webhook batch, a sweep's 1,000-row upsert: milliseconds to a few
 * seconds; the largest, a full sweep's archive pass over a million contacts, well under a minute). Five
 * minutes stops a statement stuck on a lock or a runaway plan without cutting any of them short. A migration
 * can take longer on a large table: `db:migrate` (the release command) runs without a limit.
 */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 5 * 60_000;

/**
 * Why the process must not open the embedded database, or undefined when it may. In production an embedded
 * database is a private mirror per machine (lost on redeploy, invisible to the others): refused unless
 * ALLOW_EMBEDDED_DATABASE says it is meant.
 */
export function embeddedDatabaseRefusal(config: {
  DATABASE_URL?: string | undefined;
  ALLOW_EMBEDDED_DATABASE: boolean;
  nodeEnv: string | undefined;
}): string | undefined {
  if (config.DATABASE_URL || config.nodeEnv !== 'production' || config.ALLOW_EMBEDDED_DATABASE)
    return undefined;
  return 'NODE_ENV is production but DATABASE_URL is not set: refusing to use the embedded database (each machine would keep its own private copy); set DATABASE_URL, or ALLOW_EMBEDDED_DATABASE=true if that is meant';
}

/** One line saying why the database could not be reached, for start-up and `db:migrate`. */
export function describeDatabaseError(error: unknown): string {
  // Drizzle wraps the driver's error ("Failed query: …"); the driver's says what went wrong.
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  if (cause instanceof Error) return describeDatabaseError(cause);
  const { code, address, port, message } = (error ?? {}) as {
    code?: unknown;
    address?: unknown;
    port?: unknown;
    message?: unknown;
  };
  const where = typeof address === 'string' ? `${address}${port ? `:${port}` : ''}` : 'the database host';
  if (code === 'CONNECT_TIMEOUT')
    return `no answer from ${where} within the connect timeout: check the host and port in DATABASE_URL, and that a firewall lets the connection through`;
  return typeof message === 'string' ? message : String(error);
}

export async function createDatabase(options: DatabaseOptions): Promise<Database> {
  return options.url
    ? createPostgresDatabase(options.url, options)
    : createPgliteDatabase(options.pgliteDir ?? 'memory://');
}

function createPostgresDatabase(url: string, options: DatabaseOptions): Database {
  const client = postgres(url, {
    max: options.maxConnections ?? 10,
    // libpq's `?connect_timeout=N` in DATABASE_URL, when given, wins over the default.
    ...(options.connectTimeoutSeconds === undefined && /[?&]connect_timeout=/.test(url)
      ? {}
      : { connect_timeout: options.connectTimeoutSeconds ?? DEFAULT_CONNECT_TIMEOUT_SECONDS }),
    onnotice: (notice) => options.onNotice?.(String(notice.message)),
    // The driver's own reconnect delay grows to 20 s; after a database restart the service should be back
    // within a couple of seconds of it, not tens (seconds; `retries` counts the failed attempts in a row).
    backoff: (retries) => Math.min(0.1 * 2 ** retries, 2),
    // Supabase's pooler (transaction mode) does not support prepared statements across transactions.
    prepare: !/pooler\.supabase\.com:6543/.test(url),
    // Short OLTP statements never repay JIT compilation, which stale statistics on a growing table invite.
    // Statements are prepared, but planned afresh each time: a generic plan made while a table was empty
    // (a first import) would keep scanning it whole once it holds a million rows.
    connection: {
      application_name: 'hubspot-sync',
      jit: 'off',
      plan_cache_mode: 'force_custom_plan',
      statement_timeout: options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS,
    },
  });
  const db = drizzlePostgres({ client: preparingStatements(client), schema }) as unknown as Db;
  return {
    kind: 'postgres',
    db,
    async rows(query) {
      return resultRows(await db.execute(query));
    },
    async withAdvisoryLock(key, work) {
      const reserved = await client.reserve();
      try {
        await reserved`select pg_advisory_lock(${key.toString()}::bigint)`;
        try {
          return await work((text, params) => reserved.unsafe(text, params as never[]) as never);
        } finally {
          await reserved`select pg_advisory_unlock(${key.toString()}::bigint)`;
        }
      } finally {
        reserved.release();
      }
    },
    async tryWithAdvisoryLock(key, work) {
      const reserved = await client.reserve();
      try {
        const [row] = await reserved`select pg_try_advisory_lock(${key.toString()}::bigint) as acquired`;
        if (!row?.acquired) return { acquired: false };
        try {
          return { acquired: true, value: await work() };
        } finally {
          await reserved`select pg_advisory_unlock(${key.toString()}::bigint)`.catch(() => {});
        }
      } finally {
        reserved.release();
      }
    },
    async listen(channel, onNotify) {
      const { unlisten } = await client.listen(channel, () => onNotify());
      return unlisten;
    },
    async close() {
      await client.end({ timeout: 5 });
    },
  };
}

/**
 * Drizzle runs raw `execute()` SQL unprepared, and postgres.js then describes every statement with parameters
 * before binding it: two round trips and a fresh parse and plan for each webhook delivery. Our statements
 * are fixed texts with their data in parameters, so preparing them once per connection is safe; a pooler
 * that cannot keep prepared statements turns `prepare` off for the whole client, which still wins.
 */
function preparingStatements(sql: postgres.Sql): postgres.Sql {
  return new Proxy(sql, {
    get(target, property, receiver) {
      if (property === 'unsafe')
        return (text: string, params?: unknown[], options?: postgres.UnsafeQueryOptions) =>
          target.unsafe(text, params as never, { ...options, prepare: true });
      if (property === 'begin' || property === 'savepoint')
        return (...args: unknown[]) => {
          const work = args.pop() as (inner: postgres.Sql) => unknown;
          const run = Reflect.get(target, property, receiver) as (...a: unknown[]) => unknown;
          return run.call(target, ...args, (inner: postgres.Sql) => work(preparingStatements(inner)));
        };
      return Reflect.get(target, property, receiver);
    },
  });
}

async function createPgliteDatabase(dir: string): Promise<Database> {
  if (!dir.includes('://')) await mkdir(dir, { recursive: true });
  const client = await PGlite.create(dir);
  const db = drizzlePglite({ client, schema }) as unknown as Db;
  // The embedded database has one process: its "advisory locks" only need to exclude this process's own tasks.
  const heldLocks = new Set<bigint>();
  return {
    kind: 'pglite',
    db,
    async rows(query) {
      return resultRows(await db.execute(query));
    },
    // One embedded database belongs to one process, which PGlite serialises: no lock is needed.
    async withAdvisoryLock(_key, work) {
      return work(async (text, params) => (await client.query<Record<string, unknown>>(text, params)).rows);
    },
    async tryWithAdvisoryLock(key, work) {
      if (heldLocks.has(key)) return { acquired: false };
      heldLocks.add(key);
      try {
        return { acquired: true, value: await work() };
      } finally {
        heldLocks.delete(key);
      }
    },
    async listen(channel, onNotify) {
      return client.listen(channel, () => onNotify());
    },
    async close() {
      await client.close();
    },
  };
}
