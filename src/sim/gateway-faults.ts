import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { Random } from './random.ts';

/**
 * Failures of the edge in front of HubSpot's API rather than of the API itself: a CDN's 502 or 504 with its own
 * HTML page (or nothing at all) instead of HubSpot's JSON error, and requests that are never answered. Real
 * incidents come in runs, so one failure starts a burst that takes the next requests too. HubSpot's error docs
 * list 502/504 as timeouts to retry after a pause (https://developers.hubspot.com/docs/api-reference/error-handling).
 */
export const GatewayPatch = z
  .object({
    /** Chance that a request, outside a burst, starts one. */
    rate: z.number().min(0).max(1),
    /** How many requests a burst takes, the one that started it included. */
    burst: z.number().int().min(1).max(10_000),
    /** Share of a burst's requests that get no answer at all: the socket stays open until the client gives up. */
    hangRate: z.number().min(0).max(1),
    /** What the 502/504 answers carry: a CDN's HTML error page, nothing, or either. */
    body: z.enum(['html', 'empty', 'mixed']),
    status: z.union([z.literal(502), z.literal(504), z.literal('mixed')]),
    /** One burst starting with the next request, whatever the rate (reads false again once it has started). */
    startBurst: z.boolean(),
  })
  .partial()
  .strict();

export type GatewayPatch = z.infer<typeof GatewayPatch>;
export type GatewayFaults = Required<GatewayPatch>;

export function createGatewayFaults(): GatewayFaults {
  return { rate: 0, burst: 5, hangRate: 0, body: 'mixed', status: 'mixed', startBurst: false };
}

const REASONS: Record<502 | 504, string> = { 502: 'Bad gateway', 504: 'Gateway time-out' };

function errorPage(status: 502 | 504, rayId: string): string {
  const reason = REASONS[status];
  return [
    '<!DOCTYPE html>',
    `<html lang="en"><head><meta charset="utf-8"><title>api.hubapi.com | ${status}: ${reason}</title></head>`,
    `<body><h1>Error ${status}</h1><p>${reason}: the origin web server did not answer the edge in time.</p>`,
    `<p>Ray ID: ${rayId}</p></body></html>`,
  ].join('\n');
}

/**
 * Marks a request as a person working in the portal rather than an app calling the API (tests and the demo make
 * their changes this way): the API's gateway is not on that path, so its faults never hit them.
 */
export const PORTAL_USER_HEADER = 'x-sim-portal-user';

/** Puts the gateway in front of every HubSpot route (the simulator's own `/__sim/` controls stay reachable). */
export function gatewayFaults(
  app: FastifyInstance,
  deps: { settings: () => GatewayFaults; random: Random },
): void {
  const { random } = deps;
  let burstLeft = 0;
  let applied = '';

  const pick = <T>(choice: T | 'mixed', options: readonly T[]): T =>
    choice === 'mixed' ? random.pick(options) : choice;

  async function fail(reply: FastifyReply, settings: GatewayFaults): Promise<void> {
    if (settings.hangRate > 0 && random.chance(settings.hangRate)) {
      // Never answered: the reply is taken out of Fastify's hands and nothing is written. Closing the simulator
      // (forceCloseConnections) ends the socket.
      reply.hijack();
      return;
    }
    const status = pick(settings.status, [502, 504] as const);
    if (pick(settings.body, ['html', 'empty'] as const) === 'empty') {
      await reply.code(status).removeHeader('content-type').send();
      return;
    }
    await reply
      .code(status)
      .type('text/html; charset=UTF-8')
      .send(
        errorPage(
          status,
          random
            .int(0, 2 ** 31 - 1)
            .toString(16)
            .padStart(8, '0'),
        ),
      );
  }

  app.addHook('onRequest', async (request, reply) => {
    if (request.url.startsWith('/__sim/') || request.headers[PORTAL_USER_HEADER] !== undefined) return;
    const settings = deps.settings();
    // New settings end the burst under way: a test that turns the faults off gets HubSpot back at once.
    const current = [settings.rate, settings.burst, settings.hangRate, settings.body, settings.status].join();
    if (current !== applied) {
      applied = current;
      burstLeft = 0;
    }
    if (settings.startBurst) {
      settings.startBurst = false;
      burstLeft = settings.burst;
    } else if (burstLeft === 0 && settings.rate > 0 && random.chance(settings.rate)) {
      burstLeft = settings.burst;
    }
    if (burstLeft === 0) return;
    burstLeft--;
    await fail(reply, settings);
    return reply;
  });
}
