import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AuditRepository } from '../audit/audit.repository.ts';
import { actorOf } from '../audit/audit.routes.ts';
import type { Clock } from '../clock.ts';
import type { AuthGuards } from '../http/auth.ts';
import type { KeysRepository } from './keys.repository.ts';
import { KeyName, KeyRole, KeyView } from './keys.schemas.ts';

export interface KeysRoutesDeps {
  keys: KeysRepository;
  audit: AuditRepository;
  guards: AuthGuards;
  clock: Clock;
}

const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/** `/api/keys`: named API keys beside the bootstrap tokens. Admin only; every change is audited. */
export function keysRoutes({ keys, audit, guards, clock }: KeysRoutesDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/keys',
      {
        onRequest: guards.requireAdmin,
        schema: {
          tags: ['keys'],
          summary: 'Every named API key, revoked ones included, by name (never a secret or its digest)',
          security: [{ bearer: [] }],
          // Keys are few: one page, always; nextCursor keeps the shape of every other list.
          response: { 200: z.object({ data: z.array(KeyView), nextCursor: z.null() }) },
        },
      },
      async () => ({ data: await keys.list(), nextCursor: null }),
    );

    app.post(
      '/api/keys',
      {
        onRequest: guards.requireAdmin,
        schema: {
          tags: ['keys'],
          summary: 'Creates a named key; the answer carries its secret, which is never shown again',
          security: [{ bearer: [] }],
          body: z.object({ name: KeyName, role: KeyRole }).strict(),
          response: {
            201: KeyView.extend({
              key: z.string().describe('the secret: send it as "Authorization: Bearer <key>"'),
            }),
            409: ErrorBody,
          },
        },
      },
      async (request, reply) => {
        const actor = actorOf(request);
        const { key, secret } = await keys.create({ ...request.body, createdBy: actor.userId ?? null });
        await audit.record({
          entityType: 'api_key',
          entityId: key.name,
          operation: 'create',
          newData: { name: key.name, role: key.role },
          ...actor,
        });
        return reply.status(201).send({ ...key, key: secret });
      },
    );

    app.delete(
      '/api/keys/:name',
      {
        onRequest: guards.requireAdmin,
        schema: {
          tags: ['keys'],
          summary:
            'Revokes a key: refused at once on every instance (an open WebSocket stays until it closes)',
          security: [{ bearer: [] }],
          params: z.object({ name: KeyName }),
          response: { 200: KeyView, 404: ErrorBody },
        },
      },
      async (request) => {
        const { key, changed } = await keys.revoke(request.params.name, clock.now());
        if (changed) {
          await audit.record({
            entityType: 'api_key',
            entityId: key.name,
            operation: 'update',
            oldData: { revokedAt: null },
            newData: { revokedAt: key.revokedAt },
            ...actorOf(request),
          });
        }
        return key;
      },
    );
  };
}
