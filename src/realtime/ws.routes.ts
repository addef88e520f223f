import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AuthGuards } from '../http/auth.ts';
import type { Hub } from './hub.ts';
import { everything, parseSubscription } from './subscriptions.ts';

const WsQuery = z.object({
  token: z
    .string()
    .optional()
    .describe('the read or admin token, where an Authorization header cannot be set'),
  since: z
    .string()
    .regex(/^\d{1,15}$/, 'since must be the seq of the last event received (digits)')
    .transform(Number)
    .optional()
    .describe('replay the events after this seq first (the seq of the last message received)'),
  subscribe: z
    .string()
    .max(2_000)
    .transform((value, context) => {
      try {
        return parseSubscription(value.split(',').map((pattern) => pattern.trim()));
      } catch (error) {
        context.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    })
    .optional()
    .describe('comma-separated event patterns, e.g. sync:*,contact:updated (default: everything)'),
});

export interface WsRoutesDeps {
  hub: Hub;
  guards: AuthGuards;
}

/** `GET /ws`: sync events as they commit, after the ones a reconnecting client missed. */
export function wsRoutes({ hub, guards }: WsRoutesDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.route({
      method: 'GET',
      url: '/ws',
      // Refused before the upgrade: a bad token or query never becomes a socket.
      onRequest: guards.requireReadFromQueryOrHeader,
      schema: {
        tags: ['realtime'],
        summary: 'WebSocket of sync and contact events (upgrade); ?since=<seq> replays missed events first',
        description:
          'Messages are {type, seq, at, data}: hello first, then sync:start|progress|complete|error, ' +
          'connection:status and contact:created|updated|deleted|restored|merged. Send ' +
          '{"subscribe":["sync:*","contact:updated"]} to narrow them. A since older than the outbox keeps ' +
          'gets a reset message. Close 4008: the client fell behind (reconnect with since). A plain GET ' +
          'without the upgrade answers 426.',
        security: [{ bearer: [] }],
        querystring: WsQuery,
      },
      // A browser or curl that asks without upgrading learns what to do instead.
      handler: async (_request, reply) => {
        reply.header('upgrade', 'websocket');
        return reply.status(426).send({
          error: {
            code: 'upgrade_required',
            message: 'GET /ws is a WebSocket: connect with a WebSocket client',
          },
        });
      },
      wsHandler: (socket, request) => {
        const { since, subscribe } = request.query;
        void hub.connect(socket, {
          role: request.role ?? 'read',
          since,
          subscription: subscribe ?? everything(),
        });
      },
    });
  };
}
