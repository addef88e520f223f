import { sql } from 'drizzle-orm';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../db/client.ts';
import { readMigrationStatus } from '../db/migrate.ts';

const Readiness = z.object({
  status: z.enum(['ready', 'not_ready']),
  database: z.enum(['up', 'down']),
  migrations: z.object({ expected: z.number(), applied: z.number(), upToDate: z.boolean() }).nullable(),
  reason: z.string().optional(),
});

export const DATABASE_DOWN_REASON = 'database unreachable';

export interface HealthDeps {
  database: Database;
  migrationsFolder?: string;
  timeoutMs?: number;
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    work,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref(),
    ),
  ]);
}

export function healthRoutes({
  database,
  migrationsFolder,
  timeoutMs = 2_000,
}: HealthDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/healthz',
      {
        schema: {
          tags: ['health'],
          summary: 'Liveness: the process answers',
          response: { 200: z.object({ status: z.literal('ok') }) },
        },
      },
      async () => ({ status: 'ok' as const }),
    );

    app.get(
      '/readyz',
      {
        schema: {
          tags: ['health'],
          summary: 'Readiness: the database answers and every migration is applied',
          response: { 200: Readiness, 503: Readiness },
        },
      },
      async (request, reply) => {
        try {
          await withTimeout(database.rows(sql`select 1`), timeoutMs);
        } catch (error) {
          // The driver's message can name hosts, ports and users, and /readyz is public: the detail goes to
          // the log, the answer keeps one stable reason.
          request.log.warn({ err: error }, 'readiness: the database did not answer');
          return reply
            .status(503)
            .send({ status: 'not_ready', database: 'down', migrations: null, reason: DATABASE_DOWN_REASON });
        }
        const migrations = await readMigrationStatus(database, migrationsFolder);
        if (!migrations.upToDate) {
          const reason = `${migrations.expected - migrations.applied} migration(s) not applied; run npm run db:migrate`;
          return reply.status(503).send({ status: 'not_ready', database: 'up', migrations, reason });
        }
        return { status: 'ready' as const, database: 'up' as const, migrations };
      },
    );
  };
}
