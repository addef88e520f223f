import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { describe, expect, test, vi } from 'vitest';
import { createAuthGuards } from '../../src/http/auth.ts';
import {
  type ActiveKey,
  dueForTouch,
  generateKeySecret,
  hashKeySecret,
  KEY_PREFIX,
} from '../../src/keys/keys.repository.ts';
import { KeyName } from '../../src/keys/keys.schemas.ts';

const tokens = { adminToken: 'admin-token-0123456789', readToken: 'read-token-0123456789' };
const NOW = new Date('2026-03-01T12:00:00Z');

function request(token: string) {
  return {
    headers: { authorization: `Bearer ${token}` },
    query: {},
    log: { warn: vi.fn() },
  } as unknown as FastifyRequest;
}

/** Guards over an in-memory key table, counting lookups and last-used writes. */
function guardsWith(stored: Record<string, ActiveKey>, { touchFails = false } = {}) {
  const findActive = vi.fn(async (secret: string) => stored[secret]);
  const touch = vi.fn(async () => {
    if (touchFails) throw new Error('database hiccup');
  });
  const guards = createAuthGuards({ ...tokens, keys: { findActive, touch }, clock: { now: () => NOW } });
  return { guards, findActive, touch };
}

const readKey: ActiveKey = { id: 'k1', name: 'reporting', role: 'read', lastUsedAt: null };
const adminKey: ActiveKey = { id: 'k2', name: 'deploy-bot', role: 'admin', lastUsedAt: NOW };

describe('key secrets', () => {
  test('a secret is the prefix and 32 random bytes of base64url, different every time', () => {
    const secrets = new Set(Array.from({ length: 50 }, generateKeySecret));
    expect(secrets.size).toBe(50);
    for (const secret of secrets) {
      expect(secret).toMatch(/^hsk_[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(secret.slice(KEY_PREFIX.length), 'base64url')).toHaveLength(32);
    }
  });

  test('what is stored is the SHA-256 digest of the secret, never the secret', () => {
    const secret = generateKeySecret();
    const stored = hashKeySecret(secret);
    expect(stored).toBe(createHash('sha256').update(secret).digest('hex'));
    expect(stored).not.toContain(secret.slice(KEY_PREFIX.length, 20));
  });

  test('last use is written at most once a minute', () => {
    expect(dueForTouch(null, NOW)).toBe(true);
    expect(dueForTouch(new Date(NOW.getTime() - 59_999), NOW)).toBe(false);
    expect(dueForTouch(new Date(NOW.getTime() - 60_000), NOW)).toBe(true);
  });

  test('a key name follows the database rule, and a refusal says what the rule is', () => {
    for (const good of ['a', 'ci', 'deploy-bot', 'team.reporting_2', 'x'.repeat(63)])
      expect(KeyName.safeParse(good).success).toBe(true);
    for (const bad of ['', 'Deploy', '-lead', '.x', 'has space', 'x'.repeat(64), 'ünï'])
      expect(KeyName.safeParse(bad).success).toBe(false);
    expect(KeyName.safeParse('Bad').error?.issues[0]?.message).toMatch(/lowercase letters, digits/);
  });
});

describe('guards with named keys', () => {
  test('the bootstrap tokens keep their roles and are never looked up in the database', async () => {
    const { guards, findActive } = guardsWith({});
    const admin = request(tokens.adminToken);
    const read = request(tokens.readToken);
    await guards.requireAdmin(admin);
    await guards.requireRead(read);
    expect([admin.role, admin.actor, read.role, read.actor]).toEqual([
      'admin',
      'admin-token',
      'read',
      'read-token',
    ]);
    expect(findActive).not.toHaveBeenCalled();
  });

  test('a key is its role, and the request names it as key:NAME', async () => {
    const { guards } = guardsWith({ hsk_read: readKey, hsk_admin: adminKey });
    const read = request('hsk_read');
    const admin = request('hsk_admin');
    await guards.requireRead(read);
    await guards.requireAdmin(admin);
    expect([read.role, read.actor, admin.role, admin.actor]).toEqual([
      'read',
      'key:reporting',
      'admin',
      'key:deploy-bot',
    ]);
  });

  test('a read key on an admin route is 403; an unknown or revoked key is 401', async () => {
    const { guards } = guardsWith({ hsk_read: readKey });
    await expect(guards.requireAdmin(request('hsk_read'))).rejects.toMatchObject({
      status: 403,
      code: 'forbidden',
    });
    await expect(guards.requireRead(request('hsk_unknown'))).rejects.toMatchObject({
      status: 401,
      code: 'unauthorized',
    });
  });

  test('a token that is not shaped like a key costs no database lookup', async () => {
    const { guards, findActive } = guardsWith({});
    await expect(guards.requireRead(request('nope-not-a-token'))).rejects.toMatchObject({ status: 401 });
    await expect(guards.requireRead(request(KEY_PREFIX))).rejects.toMatchObject({ status: 401 });
    expect(findActive).not.toHaveBeenCalled();
  });

  test('last use is written for a key unused for a minute, not for one just used', async () => {
    const { guards, touch } = guardsWith({ hsk_read: readKey, hsk_admin: adminKey });
    await guards.requireRead(request('hsk_read'));
    await guards.requireRead(request('hsk_admin'));
    expect(touch.mock.calls).toEqual([['k1', NOW]]);
  });

  test('a failed last-used write does not refuse a valid key', async () => {
    const { guards } = guardsWith({ hsk_read: readKey }, { touchFails: true });
    const req = request('hsk_read');
    await guards.requireRead(req);
    expect(req.actor).toBe('key:reporting');
    expect(req.log.warn).toHaveBeenCalledOnce();
  });
});
