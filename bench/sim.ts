/**
 * Simulator benchmark: seeding a 1,000,000-contact portal, then listing every contact through the official SDK
 * at 100 a page with the rate limit off. Prints a table and writes bench/results/sim.json.
 * `BENCH_CONTACTS=100000 node bench/sim.ts` for a quicker run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@hubspot/api-client';
import { createSimulator } from '../src/sim/simulator.ts';

const CONTACTS = Number(process.env.BENCH_CONTACTS ?? 1_000_000);
const PAGE = 100;
const resultsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

function memory() {
  globalThis.gc?.();
  const usage = process.memoryUsage();
  return { rssMB: mb(usage.rss), heapUsedMB: mb(usage.heapUsed) };
}

const baseline = memory();
let started = performance.now();
const simulator = await createSimulator({ contacts: CONTACTS, rateLimit: 'off', logErrors: true });
const seedMs = performance.now() - started;
const afterSeed = memory();

// Seeded contacts are generated from their index when read; a full pass shows what reading them all costs.
started = performance.now();
let live = 0;
for (const contact of simulator.portal.scan()) if (!contact.archived) live++;
const fullScanMs = performance.now() - started;

const client = new Client({ accessToken: 'pat-na1-bench', basePath: simulator.url });
started = performance.now();
let pages = 0;
let listed = 0;
let after: string | undefined;
do {
  const page = await client.crm.contacts.basicApi.getPage(PAGE, after);
  pages++;
  listed += page.results.length;
  after = page.paging?.next?.after;
} while (after);
const listMs = performance.now() - started;
const afterList = memory();
await simulator.stop();

if (listed !== live) throw new Error(`listed ${listed} contacts but the portal has ${live} live ones`);

const result = {
  name: 'sim',
  contacts: CONTACTS,
  liveContacts: live,
  seed: {
    ms: round(seedMs),
    rssMB: afterSeed.rssMB,
    heapUsedMB: afterSeed.heapUsedMB,
    baselineRssMB: baseline.rssMB,
  },
  fullScan: { ms: round(fullScanMs), contactsPerSec: Math.round(CONTACTS / (fullScanMs / 1000)) },
  listAllViaSdk: {
    pageSize: PAGE,
    pages,
    contacts: listed,
    ms: round(listMs),
    pagesPerSec: round(pages / (listMs / 1000)),
    contactsPerSec: Math.round(listed / (listMs / 1000)),
  },
  afterList: afterList,
  peakRssMB: mb(process.resourceUsage().maxRSS * 1024),
  node: process.version,
  at: new Date().toISOString(),
};

mkdirSync(resultsDir, { recursive: true });
writeFileSync(path.join(resultsDir, 'sim.json'), `${JSON.stringify(result, null, 2)}\n`);

console.table({
  'seed portal': {
    figure: `${result.seed.ms} ms`,
    note: `RSS ${afterSeed.rssMB} MB, heap ${afterSeed.heapUsedMB} MB`,
  },
  'read every contact once': {
    figure: `${result.fullScan.ms} ms`,
    note: `${result.fullScan.contactsPerSec} contacts/s`,
  },
  'list all via SDK': {
    figure: `${round(listMs / 1000, 2)} s for ${pages} pages`,
    note: `${result.listAllViaSdk.pagesPerSec} pages/s, ${result.listAllViaSdk.contactsPerSec} contacts/s`,
  },
  'after listing': { figure: `RSS ${afterList.rssMB} MB`, note: `heap ${afterList.heapUsedMB} MB` },
  'peak RSS': { figure: `${result.peakRssMB} MB`, note: '' },
});
