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
