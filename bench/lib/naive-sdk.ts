/**
 * What a user of the SDK writes first: `client.crm.contacts.getAll()`, then one postgres.js upsert per contact.
 * A bench child process (so its RSS is its own): `NAIVE_SIM_URL`, `NAIVE_DATABASE_URL`, `NAIVE_TABLE` (a copy
 * of the contacts table), `NAIVE_PROPERTIES` (csv). Sends `{ result }` over IPC, then exits.
 */
import { Client } from '@hubspot/api-client';
import postgres from 'postgres';

export interface NaiveResult {
  contacts: number;
  fetchMs: number;
  upsertMs: number;
  totalMs: number;
  rssAfterFetchMB: number;
  peakRssMB: number;
  heapUsedAfterFetchMB: number;
}

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
const table = process.env.NAIVE_TABLE ?? 'contacts_naive';
const properties = (process.env.NAIVE_PROPERTIES ?? 'email,firstname,lastname').split(',');
const client = new Client({ accessToken: 'pat-na1-bench', basePath: process.env.NAIVE_SIM_URL ?? '' });
const sql = postgres(process.env.NAIVE_DATABASE_URL ?? '', { max: 1, onnotice: () => {} });

try {
  const started = performance.now();
  const contacts = await client.crm.contacts.getAll(100, undefined, properties);
  const fetched = performance.now();
  const afterFetch = process.memoryUsage();
  for (const contact of contacts) {
    await sql`insert into ${sql(table)} (hubspot_id, data, last_sync, sync_status)
      values (${contact.id}, ${sql.json(contact.properties as never)}, now(), 'synced')
      on conflict (hubspot_id) do update set data = excluded.data, last_sync = excluded.last_sync`;
  }
  const done = performance.now();
  const result: NaiveResult = {
    contacts: contacts.length,
    fetchMs: fetched - started,
    upsertMs: done - fetched,
    totalMs: done - started,
    rssAfterFetchMB: mb(afterFetch.rss),
    heapUsedAfterFetchMB: mb(afterFetch.heapUsed),
    peakRssMB: mb(process.resourceUsage().maxRSS * 1024),
  };
  process.send?.({ result });
} catch (error) {
  process.send?.({ error: (error as Error).stack ?? String(error) });
} finally {
  await sql.end({ timeout: 5 });
  process.disconnect?.();
}
