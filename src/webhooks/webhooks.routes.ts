import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { Db } from '../db/client.ts';
import type { ErrorsRepository } from '../errors/errors.repository.ts';
import { AppError, badRequest, unauthorized } from '../http/app-error.ts';
import { verifySignature } from '../hubspot/signatures.ts';
import { parseWebhookBatch, type WebhookEvent } from '../hubspot/webhook-events.ts';
import type { DeliveryGate } from './delivery-gate.ts';
import type { InboxRepository } from './inbox.repository.ts';

export interface WebhookRoutesDeps {
  config: Pick<Config, 'HUBSPOT_CLIENT_SECRET' | 'HUBSPOT_PORTAL_ID' | 'WEBHOOK_PUBLIC_URL'>;
  db: Db;
  inbox: InboxRepository;
  errors: ErrorsRepository;
  clock: Clock;
  onAccepted?: () => void;
  /** Told of every delivery in flight, so background work can give way to answering them. */
  gate?: DeliveryGate;
}

const notConfigured = () =>
  new AppError({
    code: 'not_configured',
    status: 503,
    // 503 rather than 401: HubSpot keeps retrying for a day, so nothing is lost while the secret is set.
    message: 'HUBSPOT_CLIENT_SECRET is not set, so webhook signatures cannot be verified',
  });

/**
 * The URL HubSpot signed. Behind a TLS-terminating proxy the request looks like plain http on an inner host,
 * so WEBHOOK_PUBLIC_URL, when set, is the truth.
 */
function signedUrl(request: FastifyRequest, publicUrl: string | undefined): string {
  return publicUrl ?? `${request.protocol}://${request.host}${request.url}`;
}

export function webhookRoutes({
  config,
  db,
  inbox,
  errors,
  clock,
  onAccepted,
  gate,
}: WebhookRoutesDeps): FastifyPluginAsync {
  return async (app) => {
    // The signature covers the exact bytes HubSpot sent, so the body stays raw until it is verified.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) =>
      done(null, body),
    );

    app.post(
      '/webhooks/hubspot',
      {
        schema: {
          tags: ['webhooks'],
          summary: 'Receives a batch of HubSpot webhook events (signed v3, v2 or v1)',
        },
      },
      async (request, reply) => {
        const leave = gate?.enter();
        try {
          return await receive(request, reply);
        } finally {
          leave?.();
        }
      },
    );

    async function receive(request: FastifyRequest, reply: FastifyReply) {
      const secret = config.HUBSPOT_CLIENT_SECRET;
      if (!secret) throw notConfigured();
      const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const check = verifySignature(
        {
          method: request.method,
          url: signedUrl(request, config.WEBHOOK_PUBLIC_URL),
          rawBody,
          headers: request.headers,
        },
        secret,
        clock.now().getTime(),
      );
      if (!check.ok) {
        request.log.warn({ reason: check.reason }, 'webhook signature refused');
        throw unauthorized(`webhook signature refused: ${check.reason}`);
      }

      let body: unknown;
      try {
        const text = rawBody.toString('utf8');
        // PostgreSQL cannot store U+0000 in text or jsonb: drop it rather than fail the whole batch. JSON
        // can only carry it escaped, so the (slower) reviver runs only when the escape is there.
        body = text.includes('\\u0000')
          ? JSON.parse(text, (_key, value) =>
              typeof value === 'string' ? value.replaceAll('\u0000', '') : value,
            )
          : JSON.parse(text);
      } catch (error) {
        await errors.record({
          errorType: 'webhook.unparseable',
          errorMessage: `signed webhook body is not JSON: ${(error as Error).message}`,
          context: { rawBody: rawBody.toString('utf8').replaceAll('\u0000', ''), requestId: request.id },
        });
        throw badRequest('body is not valid JSON');
      }
      const batch = parseWebhookBatch(body);
      if (!batch) {
        await errors.record({
          errorType: 'webhook.unparseable',
          errorMessage: 'signed webhook body is not a JSON array of events',
          context: { rawBody: rawBody.toString('utf8'), requestId: request.id },
        });
        throw badRequest('body must be a JSON array of HubSpot events');
      }

      const portalId = config.HUBSPOT_PORTAL_ID;
      const ours: WebhookEvent[] = [];
      const foreign: WebhookEvent[] = [];
      for (const event of batch.valid)
        (portalId === undefined || event.portalId === portalId ? ours : foreign).push(event);
      if (foreign.length > 0) {
        await errors.record({
          errorType: 'webhook.foreign_portal',
          errorMessage: `refused ${foreign.length} event(s) for portal(s) ${[...new Set(foreign.map((e) => e.portalId))].join(', ')}; this deployment mirrors portal ${portalId}`,
          context: { events: foreign, requestId: request.id },
        });
      }
      if (batch.invalid.length > 0) {
        await errors.record({
          errorType: 'webhook.invalid_event',
          errorMessage: `${batch.invalid.length} event(s) of a batch are not valid HubSpot contact events: ${batch.invalid[0]?.message}`,
          context: { events: batch.invalid, requestId: request.id },
        });
      }

      const accepted = await inbox.insert(db, ours);
      if (accepted > 0) onAccepted?.();
      return reply.status(200).send({
        received: batch.valid.length + batch.invalid.length,
        accepted,
        duplicates: ours.length - accepted,
        rejected: foreign.length + batch.invalid.length,
      });
    }
  };
}
