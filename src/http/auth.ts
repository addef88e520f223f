import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { type Clock, systemClock } from '../clock.ts';
import { dueForTouch, type KeysRepository, looksLikeKey } from '../keys/keys.repository.ts';
import { forbidden, unauthorized } from './app-error.ts';

export type Role = 'admin' | 'read';

export interface AuthTokens {
  adminToken: string;
  readToken?: string | undefined;
}

// Hashing first gives both sides the same length, so the comparison time says nothing about the token.
function sameToken(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The bearer token of a request: `Authorization: Bearer …`, or `?token=` where a header cannot be set. */
export function bearerToken(request: FastifyRequest, { allowQuery = false } = {}): string | undefined {
  const header = request.headers.authorization;
  if (header) {
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    return match?.[1]?.trim();
  }
  if (!allowQuery) return undefined;
  const query = request.query as Record<string, unknown> | undefined;
  return typeof query?.token === 'string' ? query.token : undefined;
}

/** What a token may do: the admin token can do everything, the read token only reads. */
export function roleOf(token: string | undefined, tokens: AuthTokens): Role | undefined {
  if (!token) return undefined;
  if (sameToken(token, tokens.adminToken)) return 'admin';
  if (tokens.readToken && sameToken(token, tokens.readToken)) return 'read';
  return undefined;
}

/** Who a token is: its role, and the name the audit trail gives it. */
export interface Principal {
  role: Role;
  /** `admin-token` / `read-token` for the bootstrap tokens, `key:NAME` for a named key. */
  actor: string;
}

export interface AuthGuardsDeps extends AuthTokens {
  /** Named API keys; without them only the bootstrap tokens work. */
  keys?: Pick<KeysRepository, 'findActive' | 'touch'> | undefined;
  clock?: Clock;
}

export function createAuthGuards({ keys, clock = systemClock, ...tokens }: AuthGuardsDeps) {
  /**
   * The bootstrap tokens first (constant-time), then named keys. Keys are read from the database on every
   * request, never cached, so a key revoked on one instance is refused at once by every instance.
   */
  async function resolve(request: FastifyRequest, token: string | undefined): Promise<Principal | undefined> {
    const role = roleOf(token, tokens);
    if (role) return { role, actor: `${role}-token` };
    if (!token || !keys || !looksLikeKey(token)) return undefined;
    const key = await keys.findActive(token);
    if (!key) return undefined;
    const now = clock.now();
    if (dueForTouch(key.lastUsedAt, now)) {
      // A failed last-used write must not refuse a valid key: it is a hint for operators, not the check.
      await keys.touch(key.id, now).catch((error: unknown) => {
        request.log.warn({ err: error, key: key.name }, "could not record the key's last use");
      });
    }
    return { role: key.role, actor: `key:${key.name}` };
  }

  const guard =
    (needed: Role, options: { allowQuery?: boolean } = {}) =>
    async (request: FastifyRequest) => {
      const principal = await resolve(request, bearerToken(request, options));
      if (!principal) throw unauthorized();
      if (needed === 'admin' && principal.role !== 'admin')
        throw forbidden('this call needs the admin token or an admin key');
      request.role = principal.role;
      request.actor = principal.actor;
    };
  return {
    requireAdmin: guard('admin'),
    requireRead: guard('read'),
    requireReadFromQueryOrHeader: guard('read', { allowQuery: true }),
    requireAdminFromQueryOrHeader: guard('admin', { allowQuery: true }),
  };
}

export type AuthGuards = ReturnType<typeof createAuthGuards>;

declare module 'fastify' {
  interface FastifyRequest {
    role?: Role;
    /** Who made the request, for the audit trail: see `Principal.actor`. */
    actor?: string;
  }
}
