import { sql } from 'drizzle-orm';
import { expect, inject, test } from 'vitest';
import { createSimulator } from '../../src/sim/simulator.ts';
import { createScratchDatabase } from '../helpers/database.ts';
import { freePort, runNode, waitFor } from '../helpers/process.ts';
import { mirrorDifferences, PRIVATE_APP_TOKEN, simulatorTruth } from '../helpers/stack.ts';

type SessionRow = {
  session_id: string;
  status: string;
  seen_count: number;
  error_message: string | null;
};

// A real process killed with SIGKILL mid-sweep; two processes can only share a real PostgreSQL.
test.runIf(inject('testDatabase').kind === 'postgres')(
  'a sweep killed midway is marked failed by the next instance, which resumes it from its checkpoint',
  async () => {
    const scratch = await createScratchDatabase({ empty: true });
    const simulator = await createSimulator({ contacts: 20_000, rateLimit: '40/1s', logErrors: false });
    const database = await scratch.open();
    const env = async () => ({
      PORT: String(await freePort()),
      HOST: '127.0.0.1',
      DATABASE_URL: scratch.url ?? '',
      HUBSPOT_API_BASE: simulator.url,
      HUBSPOT_ACCESS_TOKEN: PRIVATE_APP_TOKEN,
      ADMIN_TOKEN: 'resume-admin-token-0123456789',
      RECONCILE_INTERVAL: '0',
      FULL_RECONCILE_INTERVAL: '24h',
    });
    const sessions = () =>
      database.rows<SessionRow>(
        sql`select session_id, status, seen_count, error_message from sync_sessions order by created_at`,
      );
    try {
      // No full sweep has ever completed, so the first instance starts one by itself.
      const first = runNode('src/server.ts', await env());
      await waitFor(async () => ((await sessions())[0]?.seen_count ?? 0) > 3000 || undefined, 30_000);
      first.child.kill('SIGKILL');
      await first.exited;
      const [killed] = await sessions();
      expect(killed?.status).toBe('running');

      const second = runNode('src/server.ts', await env());
      try {
        const [, resumed] = await waitFor(async () => {
          const rows = await sessions();
          return rows[1]?.status === 'completed' ? rows : undefined;
        }, 60_000);
        const [interrupted] = await sessions();
        expect(interrupted).toMatchObject({
          status: 'failed',
          error_message: expect.stringContaining('interrupted'),
        });
        // Every listed contact was counted exactly once across the two sessions: the second began where the first stopped.
        const listed = (await simulatorTruth(simulator)).filter((c) => !c.mergedInto).length;
        expect((interrupted?.seen_count ?? 0) + (resumed?.seen_count ?? 0)).toBe(listed);
        expect(resumed?.seen_count).toBeLessThan(listed);
        expect(await mirrorDifferences({ simulator, database })).toEqual([]);
      } finally {
        second.child.kill('SIGTERM');
        await second.exited;
      }
    } finally {
      await simulator.stop();
      await database.close();
      await scratch.drop();
    }
  },
  120_000,
);
