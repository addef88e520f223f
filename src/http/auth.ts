import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
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

export function createAuthGuards(tokens: AuthTokens) {
  const guard =
    (needed: Role, options: { allowQuery?: boolean } = {}) =>
    async (request: FastifyRequest) => {
      const role = roleOf(bearerToken(request, options), tokens);
      if (!role) throw unauthorized();
      if (needed === 'admin' && role !== 'admin') throw forbidden('this call needs the admin token');
      request.role = role;
    };
  return {
    requireAdmin: guard('admin'),
    requireRead: guard('read'),
    requireReadFromQueryOrHeader: guard('read', { allowQuery: true }),
  };
}

export type AuthGuards = ReturnType<typeof createAuthGuards>;

declare module 'fastify' {
  interface FastifyRequest {
    role?: Role;
  }
}
