import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Clock } from './clock.ts';
import { validationError } from './errors.ts';
import { PURGE_AFTER_MS, type Purger } from './purge.ts';

const PurgeRequest = z
  .object({ archivedBefore: z.iso.datetime({ offset: true }).optional() })
  .strict()
  .default({});

/** `POST /__sim/purge`: HubSpot's 90-day purge now, for contacts deleted before `archivedBefore` (default: 90 days ago). */
export function purgeRoutes(app: FastifyInstance, deps: { purger: Purger; clock: Clock }): void {
  app.post('/__sim/purge', async (request) => {
    const parsed = PurgeRequest.safeParse(request.body ?? undefined);
    if (!parsed.success) throw validationError(z.prettifyError(parsed.error));
    const archivedBefore = parsed.data.archivedBefore
      ? Date.parse(parsed.data.archivedBefore)
      : deps.clock.now() - PURGE_AFTER_MS;
    const purged = deps.purger.purgeArchivedBefore(archivedBefore);
    return { archivedBefore: new Date(archivedBefore).toISOString(), purged: purged.map(String) };
  });
}
