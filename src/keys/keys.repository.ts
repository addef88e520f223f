import { createHash, randomBytes } from 'node:crypto';
import { and, asc, eq, isNull, lte, or } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { apiKeys } from '../db/schema/index.ts';
import { keyExists, keyNotFound } from './keys.errors.ts';
import type { KeyView } from './keys.schemas.ts';

export type KeyRole = (typeof apiKeys.$inferSelect)['role'];

/** Secrets start with this, so a leaked one is recognisable (secret scanners, logs) and lookups can skip other tokens. */
export const KEY_PREFIX = 'hsk_';

// last_used_at is a hint for operators, not an access log: one write a minute per key is plenty.
export const LAST_USED_RESOLUTION_MS = 60_000;

/** A new secret: 32 random bytes, base64url, behind the prefix. Shown once, then only its digest is kept. */
export function generateKeySecret(): string {
  return `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/**
 * The stored form of a secret. A plain SHA-256 is enough (no salt, no slow hash): the secret is 256 random
 * bits, not a password, and the digest being the lookup key means no comparison leaks timing.
 */
export function hashKeySecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function looksLikeKey(token: string): boolean {
  return token.startsWith(KEY_PREFIX) && token.length > KEY_PREFIX.length;
}

/** The key a valid secret names: what auth needs, never the digest. */
export interface ActiveKey {
  id: string;
  name: string;
  role: KeyRole;
  lastUsedAt: Date | null;
}

const viewColumns = {
  name: apiKeys.name,
  role: apiKeys.role,
  createdAt: apiKeys.createdAt,
  createdBy: apiKeys.createdBy,
  lastUsedAt: apiKeys.lastUsedAt,
  revokedAt: apiKeys.revokedAt,
};

type ViewRow = {
  name: string;
  role: KeyRole;
  createdAt: Date;
  createdBy: string | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
};

export function toKeyView(row: ViewRow): KeyView {
  return {
    name: row.name,
    role: row.role,
    createdAt: row.createdAt.toISOString(),
    createdBy: row.createdBy,
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}

export function createKeysRepository({ db }: { db: Db }) {
  return {
    /** Stores a new key and returns its secret, the only time it exists outside the caller's hands. */
    async create({
      name,
      role,
      createdBy,
    }: {
      name: string;
      role: KeyRole;
      createdBy: string | null;
    }): Promise<{ key: KeyView; secret: string }> {
      const secret = generateKeySecret();
      const [row] = await db
        .insert(apiKeys)
        .values({ name, role, createdBy, keyHash: hashKeySecret(secret) })
        .onConflictDoNothing({ target: apiKeys.name })
        .returning(viewColumns);
      if (!row) throw keyExists(name);
      return { key: toKeyView(row), secret };
    },

    /** Every key, revoked ones included, by name. Never the digest. */
    async list(): Promise<KeyView[]> {
      const rows = await db.select(viewColumns).from(apiKeys).orderBy(asc(apiKeys.name));
      return rows.map(toKeyView);
    },

    /**
     * Revokes a key from `at` on. Idempotent: revoking a revoked key keeps its first revocation time and
     * says so (`changed: false`), so the audit trail records each revocation once.
     */
    async revoke(name: string, at: Date): Promise<{ key: KeyView; changed: boolean }> {
      const [revoked] = await db
        .update(apiKeys)
        .set({ revokedAt: at })
        .where(and(eq(apiKeys.name, name), isNull(apiKeys.revokedAt)))
        .returning(viewColumns);
      if (revoked) return { key: toKeyView(revoked), changed: true };
      const [existing] = await db.select(viewColumns).from(apiKeys).where(eq(apiKeys.name, name));
      if (!existing) throw keyNotFound(name);
      return { key: toKeyView(existing), changed: false };
    },

    /** The unrevoked key a secret belongs to, read from the database each time so a revocation holds at once. */
    async findActive(secret: string): Promise<ActiveKey | undefined> {
      const [row] = await db
        .select({ id: apiKeys.id, name: apiKeys.name, role: apiKeys.role, lastUsedAt: apiKeys.lastUsedAt })
        .from(apiKeys)
        .where(and(eq(apiKeys.keyHash, hashKeySecret(secret)), isNull(apiKeys.revokedAt)));
      return row;
    },

    /**
     * Records a use at `at`, unless one was recorded within the last minute: callers skip the call when the
     * key they read is fresh, and the condition here keeps concurrent requests from writing it twice.
     */
    async touch(id: string, at: Date): Promise<void> {
      const staleBefore = new Date(at.getTime() - LAST_USED_RESOLUTION_MS);
      await db
        .update(apiKeys)
        .set({ lastUsedAt: at })
        .where(and(eq(apiKeys.id, id), or(isNull(apiKeys.lastUsedAt), lte(apiKeys.lastUsedAt, staleBefore))));
    },
  };
}

export type KeysRepository = ReturnType<typeof createKeysRepository>;

/** Whether a key read at `at` is due a last-used write (so most requests write nothing). */
export function dueForTouch(lastUsedAt: Date | null, at: Date): boolean {
  return !lastUsedAt || at.getTime() - lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS;
}
