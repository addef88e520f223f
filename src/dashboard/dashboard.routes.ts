import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';

export interface DashboardOptions {
  /** The folder of the page's own files (index.html, the stylesheet, the modules). */
  publicDir?: string;
}

/**
 * The browser modules the page imports by bare name, served from node_modules as they are published. The
 * import map in public/index.html points `preact`, `preact/hooks`, `htm` and `htm/preact` at these paths.
 */
const VENDOR_MODULES: Record<string, string> = {
  'preact.mjs': 'preact',
  'preact-hooks.mjs': 'preact/hooks',
  'htm.mjs': 'htm',
  'htm-preact.mjs': 'htm/preact',
};

const DEFAULT_PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));

/** The hash of the page's one inline script (its import map), so the CSP can allow exactly that script. */
function importMapHash(publicDir: string): string {
  const page = readFileSync(join(publicDir, 'index.html'), 'utf8');
  const importMap = /<script type="importmap">([\s\S]*?)<\/script>/.exec(page)?.[1];
  if (importMap === undefined) throw new Error(`${join(publicDir, 'index.html')} has no import map`);
  return `'sha256-${createHash('sha256').update(importMap).digest('base64')}'`;
}

function pageSecurityHeaders(scriptHash: string): Record<string, string> {
  return {
    // The token lives in sessionStorage: allow only our own scripts, and no framing of the page.
    'content-security-policy': [
      "default-src 'self'",
      `script-src 'self' ${scriptHash}`,
      "connect-src 'self'",
      "img-src 'self' data:",
      "object-src 'none'",
      "base-uri 'none'",
      "form-action 'self'",
      "frame-ancestors 'none'",
    ].join('; '),
    // The page may be opened with ?token=: never send that address on to anyone as a referrer.
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
  };
}

/** The operators' dashboard: static files served as they are, no build step, nothing from a CDN. */
export function dashboardRoutes({
  publicDir = DEFAULT_PUBLIC_DIR,
}: DashboardOptions = {}): FastifyPluginAsync {
  return async (app) => {
    // A build that left the page's files behind still serves the API; it only says what is missing.
    if (!existsSync(join(publicDir, 'index.html'))) {
      app.log.warn({ publicDir }, 'the dashboard is not served: its files are missing');
      return;
    }
    const securityHeaders = pageSecurityHeaders(importMapHash(publicDir));
    // Within this plugin only: the API's own responses are left as they are.
    app.addHook('onSend', async (_request, reply) => {
      reply.headers(securityHeaders);
    });

    // One route per file found at start-up (no wildcard), so the page never shadows /api, /ws, /docs or the
    // JSON 404 of an unknown path.
    await app.register(fastifyStatic, {
      root: publicDir,
      prefix: '/',
      wildcard: false,
      index: 'index.html',
      schemaHide: true,
    });

    for (const [file, specifier] of Object.entries(VENDOR_MODULES)) {
      const path = fileURLToPath(import.meta.resolve(specifier));
      app.get(`/vendor/${file}`, { schema: { hide: true } }, (_request, reply) =>
        reply.sendFile(basename(path), dirname(path)),
      );
    }
  };
}
