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

describe.skipIf(!binaries)('a database outage (quick)', () => {
  test('while PostgreSQL is down webhooks answer 503 and the service is not ready; afterwards nothing acknowledged is lost', async () => {
    const seed = chaosSeed();
    if (!cluster) throw new Error('no cluster');
    const outcome = await runOutageScenario({
      seed,
      cluster,
      stopMode: 'fast',
      outageMs: 3_000,
      changes: 250,
      perSecond: 50,
    });
    console.info(
      `outage quick seed=${seed} acknowledged=${outcome.acknowledged} answers while down=${outcome.answersWhileDown.length} ready after=${outcome.readyAfterMs} ms accepting after=${outcome.acceptingAfterMs} ms`,
    );
    expectRecovered(outcome);
  }, 60_000);
});
