import postgres from 'postgres';
import type { TestProject } from 'vitest/node';
import { createDatabase } from '../../src/db/client.ts';
import { migrateDatabase } from '../../src/db/migrate.ts';
import { databaseUrl, type TestDatabaseTarget } from './postgres-target.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    testDatabase: TestDatabaseTarget;
  }
}

async function reachable(url: string): Promise<boolean> {
  const client = postgres(url, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await client`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await client.end({ timeout: 1 });
  }
}

/** Whether a process with this id runs on this machine (EPERM: it runs, as another user). */
export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Drops the databases test runs left behind when they were interrupted (their teardown never ran): the ones
 * named after a test run whose process is gone. Safely: a database of a live run (this one, or another run
 * beside it) is kept, and so is one anybody is still connected to (no `force`: PostgreSQL refuses to drop it).
 */
export async function dropLeftoverDatabases(
  admin: postgres.Sql,
  isAlive: (pid: number) => boolean = processIsAlive,
): Promise<string[]> {
  const rows = await admin<{ datname: string }[]>`
    select datname from pg_database where datname ~ '^hs_(test|template)_[0-9]+(_|$)'`;
  const dropped: string[] = [];
  for (const { datname } of rows) {
    const pid = Number(/^hs_(?:test|template)_(\d+)/.exec(datname)?.[1]);
    if (!pid || isAlive(pid)) continue;
    try {
      await admin.unsafe(`drop database if exists "${datname}"`);
      dropped.push(datname);
    } catch {
      // In use (a run on another machine sharing this server, say): not a leftover of ours to take.
    }
  }
  return dropped;
}

/**
 * Migrates the schema once into a template database; every test then gets its own copy of it
 * (`CREATE DATABASE … TEMPLATE`, a file copy), so tests run against real PostgreSQL in isolation.
 */
export default async function setup(project: TestProject) {
  const adminUrl =
    process.env.TEST_DATABASE_URL ??
    process.env.DATABASE_URL ??
    'postgres://postgres@127.0.0.1:5432/postgres';
  if (!(await reachable(adminUrl))) {
    const where = adminUrl.replace(/\/\/[^@/]*@/, '//');
    if (process.env.CI === 'true') throw new Error(`CI=true but PostgreSQL is not reachable at ${where}`);
    console.warn(
      `PostgreSQL is not reachable at ${where}: integration tests run on in-memory PGlite instead`,
    );
    project.provide('testDatabase', { kind: 'pglite' });
    return;
  }

  const template = `hs_template_${process.pid}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  // Databases named after every run's main process (see database.ts), so an interrupted run's are found here.
  const leftovers = await dropLeftoverDatabases(admin);
  if (leftovers.length > 0)
    console.warn(`dropped ${leftovers.length} database(s) interrupted test runs left`);
  await admin.unsafe(`drop database if exists ${template} with (force)`);
  await admin.unsafe(`create database ${template}`);
  const database = await createDatabase({ url: databaseUrl(adminUrl, template), maxConnections: 1 });
  await migrateDatabase(database);
  await database.close();
  project.provide('testDatabase', { kind: 'postgres', adminUrl, template });

  return async () => {
    const leftovers = await admin<{ datname: string }[]>`
      select datname from pg_database where datname like ${`hs_test_${process.pid}_%`} or datname = ${template}`;
    for (const { datname } of leftovers)
      await admin.unsafe(`drop database if exists ${datname} with (force)`);
    await admin.end();
  };
}
