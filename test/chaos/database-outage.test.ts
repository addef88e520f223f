import { afterAll, beforeAll, describe, test } from 'vitest';
import { expectRecovered, runOutageScenario } from './outage-scenario.ts';
import { createPostgresCluster, type PostgresCluster, postgresServerBinaries } from './postgres-cluster.ts';
import { chaosSeed } from './seed.ts';

// The outage needs a server of the test's own to stop: initdb and pg_ctl on this machine.
const binaries = postgresServerBinaries();
if (!binaries)
  console.warn('no PostgreSQL server binaries (initdb, pg_ctl): the database outage scenario is skipped');

let cluster: PostgresCluster | undefined;
beforeAll(async () => {
  if (!binaries) return;
  cluster = await createPostgresCluster();
  await cluster.start();
});
afterAll(async () => {
  await cluster?.destroy();
});

describe.skipIf(!binaries)('a database outage', () => {
  for (const stopMode of ['fast', 'immediate'] as const) {
    test(`PostgreSQL gone for 8 s (pg_ctl stop -m ${stopMode}) mid-stream: 503s meanwhile, nothing acknowledged lost after`, async () => {
      const seed = chaosSeed();
      if (!cluster) throw new Error('no cluster');
      const outcome = await runOutageScenario({
        seed,
        cluster,
        stopMode,
        outageMs: 8_000,
        changes: 600,
        perSecond: 40,
      });
      console.info(
        `outage ${stopMode} seed=${seed} acknowledged=${outcome.acknowledged} answers while down=${outcome.answersWhileDown.length} ready after=${outcome.readyAfterMs} ms accepting after=${outcome.acceptingAfterMs} ms`,
      );
      expectRecovered(outcome);
    }, 180_000);
  }
});
