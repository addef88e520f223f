import helmet from '@fastify/helmet';
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

/** True for the JSON API under /api (known routes and unknown ones alike). */
export function isApiPath(url: string): boolean {
  const path = url.split('?')[0] ?? '';
  return path === '/api' || path.startsWith('/api/');
}

/**
 * /docs keeps swagger-ui's own policy (`staticCSP: true`: its scripts, styles and images), made as strict as
 * the rest about framing, and without upgrade-insecure-requests, which would break /docs on a plain-HTTP
 * address (a local run, a private network).
 */
export function docsPolicy(header: string): string {
  return header
    .replace("frame-ancestors 'self'", "frame-ancestors 'none'")
    .replace(/\s*upgrade-insecure-requests;?/, '');
}

/**
 * The headers every answer carries. The API only ever answers JSON, so its policy allows nothing to load and
 * no page to frame it. Pages set their own, tighter-fitting policy on top: the dashboard
 * (dashboard.routes.ts, which allows its own scripts and the import map's hash) and /docs (swagger-ui's
 * `staticCSP`), both still with `frame-ancestors 'none'`.
 */
export const securityHeaders = fp(
  async (app) => {
    await app.register(helmet, {
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'none'"],
          baseUri: ["'none'"],
          formAction: ["'none'"],
          frameAncestors: ["'none'"],
        },
      },
      // frame-ancestors for browsers that predate it.
      frameguard: { action: 'deny' },
      // The dashboard may be opened with ?token=: never pass an address on as a referrer.
      referrerPolicy: { policy: 'no-referrer' },
    });

    // Contacts, history, audit, errors, sessions, keys and connections must not stay in a browser's or a
    // proxy's cache once the token that fetched them is gone: nothing under /api is stored.
    app.addHook('onSend', async (request: FastifyRequest, reply) => {
      if (isApiPath(request.url)) reply.header('cache-control', 'no-store');
    });
  },
  { name: 'security-headers' },
);
