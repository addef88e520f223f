import { createHash } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { Db } from '../db/client.ts';
import type { ErrorEntry, ErrorsRepository } from '../errors/errors.repository.ts';
import { describeError } from '../errors/sanitize.ts';
import { AppError, badRequest, unauthorized } from '../http/app-error.ts';
import { toErrorResponse } from '../http/error-handler.ts';
import { claimedSignatureVersion, type SignatureVersion, verifySignature } from '../hubspot/signatures.ts';
import {
  jsonDepth,
  MAX_BODY_DEPTH,
  MAX_EVENTS_PER_BATCH,
  parseWebhookBatch,
  type WebhookEvent,
} from '../hubspot/webhook-events.ts';
import type { DeliveryGate } from './delivery-gate.ts';
import type { InboxRepository } from './inbox.repository.ts';

export interface WebhookRoutesDeps {
  config: Pick<
    Config,
    'HUBSPOT_CLIENT_SECRET' | 'HUBSPOT_PORTAL_ID' | 'WEBHOOK_PUBLIC_URL' | 'WEBHOOK_SIGNATURE_VERSIONS'
  >;
  db: Db;
  inbox: InboxRepository;
  errors: ErrorsRepository;
  clock: Clock;
  onAccepted?: () => void;
  /** Told of every delivery in flight, so background work can give way to answering them. */
  gate?: DeliveryGate;
  /** Webhook requests read at once; beyond it, 503 (HubSpot retries). Default MAX_WEBHOOKS_IN_FLIGHT. */
  maxInFlight?: number;
}

/**
 * HubSpot keeps at most 10 deliveries in flight per installing account; twice that leaves room for a retry
 * overlapping a slow answer. Bodies are buffered (up to 1 MiB) before their signature can be checked, so
 * this bounds what unauthenticated senders can make the process hold.
 */
export const MAX_WEBHOOKS_IN_FLIGHT = 20;

/**
 * v1/v2 sign no timestamp, so nothing dates a delivery but its events. HubSpot retries a delivery up to 10
 * times over about 24 hours, and `occurredAt` keeps the event's original time, so a genuine last retry can
 * carry events a little over a day old: refusing those would lose them for good (HubSpot stops retrying).
 * 25 hours keeps every genuine retry; a replay inside that window repeats an event the inbox already holds
 * (its composite key makes it a duplicate), and one beyond it is refused.
 */
export const UNTIMED_SIGNATURE_MAX_EVENT_AGE_MS = 25 * 3_600_000;

// What the error log keeps of a refused batch: counts and a few samples, never the events' contact data.
const SAMPLES = 5;

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

/** Identifies a body in the error log without keeping it: its size and a hash to match it with a capture. */
function bodyFacts(rawBody: Buffer) {
  return { bytes: rawBody.length, sha256: createHash('sha256').update(rawBody).digest('hex') };
}

// V8 quotes the start of the text in its message; only the position is kept.
function jsonErrorReason(error: unknown): string {
  if (error instanceof RangeError) return 'nested too deep to parse';
  const position = /position (\d+)/.exec((error as Error).message)?.[1];
  return position === undefined ? 'not valid JSON' : `not valid JSON (at byte ${position})`;
}

export function webhookRoutes({
  config,
  db,
  inbox,
  errors,
  clock,
  onAccepted,
  gate,
  maxInFlight = MAX_WEBHOOKS_IN_FLIGHT,
}: WebhookRoutesDeps): FastifyPluginAsync {
  let inFlight = 0;

  /**
   * Runs before the body is read: a request that cannot be verified, or one too many, costs no buffering.
   */
  async function admit(request: FastifyRequest, reply: FastifyReply) {
    if (!config.HUBSPOT_CLIENT_SECRET) throw notConfigured();
    const version = claimedSignatureVersion(request.headers);
    if (version === undefined) {
      request.log.warn('webhook without HubSpot signature headers refused');
      throw unauthorized('webhook signature refused: no HubSpot signature headers (v3, or v1/v2)');
    }
    if (!config.WEBHOOK_SIGNATURE_VERSIONS.includes(version)) {
      throw unauthorized(
        `webhook signature refused: ${version} signatures are not accepted (WEBHOOK_SIGNATURE_VERSIONS)`,
      );
    }
    if (inFlight >= maxInFlight) {
      reply.header('retry-after', '1');
      throw new AppError({
        code: 'unavailable',
        status: 503,
        message: `more than ${maxInFlight} webhook deliveries in flight; retry later`,
      });
    }
    inFlight++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      inFlight--;
    };
    // 'close' also comes when the sender goes away or the request times out mid-body.
    reply.raw.once('close', release);
    reply.raw.once('finish', release);
  }

  return async (app) => {
    // The signature covers the exact bytes HubSpot sent, so the body stays raw until it is verified.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) =>
      done(null, body),
    );

    app.post(
      '/webhooks/hubspot',
      {
        onRequest: admit,
        schema: {
          tags: ['webhooks'],
          summary: 'Receives a batch of HubSpot webhook events (signed v3, v2 or v1)',
        },
      },
      async (request, reply) => {
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
          config.WEBHOOK_SIGNATURE_VERSIONS,
        );
        if (!check.ok) {
          request.log.warn({ reason: check.reason }, 'webhook signature refused');
          throw unauthorized(`webhook signature refused: ${check.reason}`);
        }
        // Only a verified delivery holds the apply workers back: unsigned posts must not be able to stall them.
        const leave = gate?.enter();
        try {
          return await receive(request, reply, rawBody, check.version);
        } finally {
          leave?.();
        }
      },
    );

    /**
     * Database work of a delivery. A failure is answered without its cause: drizzle's "Failed query" carries
     * the parameters, that is the whole batch, and the error handler would log it.
     */
    async function guarded<T>(request: FastifyRequest, work: () => Promise<T>): Promise<T> {
      try {
        return await work();
      } catch (error) {
        const { status } = toErrorResponse(error);
        const { type, message } = describeError(error);
        request.log.error({ errorType: type, reason: message.slice(0, 500) }, 'webhook delivery not stored');
        if (status === 503)
          throw new AppError({
            code: 'unavailable',
            status,
            message: 'the database is unavailable; retry later',
          });
        throw new AppError({ code: 'internal', status: 500, message: 'the delivery could not be stored' });
      }
    }

    async function refuse(request: FastifyRequest, entry: ErrorEntry, answer: string): Promise<never> {
      request.log.warn({ errorType: entry.errorType, context: entry.context }, entry.errorMessage);
      await guarded(request, () => errors.record(entry));
      throw badRequest(answer);
    }

    async function receive(
      request: FastifyRequest,
      reply: FastifyReply,
      rawBody: Buffer,
      version: SignatureVersion,
    ) {
      const facts = { requestId: request.id, signatureVersion: version, ...bodyFacts(rawBody) };
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
        const reason = jsonErrorReason(error);
        return refuse(
          request,
          {
            errorType: 'webhook.unparseable',
            errorMessage: `signed webhook body is ${reason}`,
            context: facts,
          },
          `body is ${reason}`,
        );
      }
      // Checked before anything walks the events: each step below is bounded by these two.
      if (jsonDepth(body, MAX_BODY_DEPTH) > MAX_BODY_DEPTH) {
        return refuse(
          request,
          {
            errorType: 'webhook.unparseable',
            errorMessage: `signed webhook body nests deeper than ${MAX_BODY_DEPTH} levels`,
            context: facts,
          },
          `body nests deeper than ${MAX_BODY_DEPTH} levels; HubSpot events are flat`,
        );
      }
      if (!Array.isArray(body)) {
        return refuse(
          request,
          {
            errorType: 'webhook.unparseable',
            errorMessage: 'signed webhook body is not a JSON array of events',
            context: facts,
          },
          'body must be a JSON array of HubSpot events',
        );
      }
      if (body.length > MAX_EVENTS_PER_BATCH) {
        return refuse(
          request,
          {
            errorType: 'webhook.batch_too_large',
            errorMessage: `signed webhook batch of ${body.length} events; HubSpot sends at most ${MAX_EVENTS_PER_BATCH}`,
            context: { ...facts, events: body.length },
          },
          `a batch holds at most ${MAX_EVENTS_PER_BATCH} events; this one has ${body.length}`,
        );
      }
      const batch = parseWebhookBatch(body, {
        now: clock.now().getTime(),
        maxAgeMs: version === 'v3' ? undefined : UNTIMED_SIGNATURE_MAX_EVENT_AGE_MS,
      });
      if (!batch) throw badRequest('body must be a JSON array of HubSpot events');

      const portalId = config.HUBSPOT_PORTAL_ID;
      const ours: WebhookEvent[] = [];
      const foreign: WebhookEvent[] = [];
      for (const event of batch.valid)
        (portalId === undefined || event.portalId === portalId ? ours : foreign).push(event);
      if (foreign.length > 0) {
        const portals = [...new Set(foreign.map((e) => e.portalId))];
        await guarded(request, () =>
          errors.record({
            errorType: 'webhook.foreign_portal',
            errorMessage: `refused ${foreign.length} event(s) for portal(s) ${portals.slice(0, SAMPLES).join(', ')}${portals.length > SAMPLES ? ', …' : ''}; this deployment mirrors portal ${portalId}`,
            context: {
              ...facts,
              count: foreign.length,
              samples: foreign.slice(0, SAMPLES).map(({ eventId, objectId, portalId, subscriptionType }) => ({
                eventId,
                objectId,
                portalId,
                subscriptionType,
              })),
            },
          }),
        );
      }
      if (batch.invalid.length > 0) {
        await guarded(request, () =>
          errors.record({
            errorType: 'webhook.invalid_event',
            errorMessage: `${batch.invalid.length} event(s) of a batch are not valid HubSpot contact events: ${batch.invalid[0]?.message}`,
            context: { ...facts, count: batch.invalid.length, samples: batch.invalid.slice(0, SAMPLES) },
          }),
        );
      }

      const accepted = await guarded(request, () => inbox.insert(db, ours));
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
