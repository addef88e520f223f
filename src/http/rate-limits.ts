import rateLimit from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AppError } from './app-error.ts';
import { isApiPath } from './security-headers.ts';

export interface RateLimitSettings {
  /** Requests per client IP to /api in each window: generous, it only stops a runaway script. */
  api: { max: number; windowMs: number };
  /** 401 answers per client IP in each window before every further request from it is refused. */
  authFailures: { max: number; windowMs: number };
}

export const DEFAULT_RATE_LIMITS: RateLimitSettings = {
  // 10 a second on average: the dashboard makes a few calls a poll, a script paging contacts a few a second.
  api: { max: 600, windowMs: 60_000 },
  // A person mistyping a token fails a handful of times; 30 in 10 minutes is someone guessing.
  authFailures: { max: 30, windowMs: 10 * 60_000 },
};

/**
 * Never limited: HubSpot drives the webhook (up to 10 deliveries in flight, retried for a day, so a 429 there
 * only delays the mirror), and the platform's health checks must always be answered.
 */
const EXEMPT_ROUTES = new Set(['/webhooks/hubspot', '/healthz', '/readyz']);

function isExempt(request: FastifyRequest): boolean {
  // No address to count against: a socket that is already gone, or a WebSocket injected in-process.
  if (!request.ip) return true;
  const route = request.routeOptions.url;
  return route !== undefined && EXEMPT_ROUTES.has(route);
}

export const tooManyRequests = (message: string) =>
  new AppError({ code: 'rate_limited', status: 429, message });

/**
 * Per client IP (`request.ip`: the socket's address, or X-Forwarded-For's when TRUST_PROXY is on). The
 * counters live in this instance's memory: with N instances a client gets up to N times the budget.
 * A WebSocket counts once, when it asks to upgrade; its life after that is not a request.
 */
export const rateLimits = fp<{ limits?: RateLimitSettings }>(
  async (app, { limits = DEFAULT_RATE_LIMITS }) => {
    await app.register(rateLimit, {
      global: false,
      errorResponseBuilder: (_request, context) =>
        tooManyRequests(`too many requests from this address; retry in ${context.after}`),
    });

    const api = app.rateLimit({ max: limits.api.max, timeWindow: limits.api.windowMs });
    const authFailures = app.createRateLimit({
      max: limits.authFailures.max,
      timeWindow: limits.authFailures.windowMs,
    });

    // An app-level onRequest hook runs before every route's own auth guard: an address that used up its
    // failures is refused before its token is even looked at, so guessing gets nowhere.
    app.addHook('onRequest', async (request, reply) => {
      if (isExempt(request)) return;
      const failures = await authFailures(request, { increment: false });
      if (!failures.isAllowed && failures.remaining === 0) {
        const seconds = Math.max(1, failures.ttlInSeconds);
        reply.header('retry-after', seconds);
        throw tooManyRequests(`too many failed authentications from this address; retry in ${seconds} s`);
      }
      if (isApiPath(request.url)) await api.call(app, request, reply);
    });

    // Only failures count toward that budget. Webhook signature failures are HubSpot's (or a replay's) and
    // are never limited.
    app.addHook('onResponse', async (request, reply) => {
      if (reply.statusCode === 401 && !isExempt(request)) await authFailures(request);
    });
  },
  { name: 'rate-limits' },
);
