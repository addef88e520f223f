import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { describe, expect, test as plainTest } from 'vitest';
import type { Clock } from '../../src/clock.ts';
import { createDatabase, type Database } from '../../src/db/client.ts';
import { asAdmin, asReader, buildTestApp } from '../helpers/app.ts';
import { createScratchDatabase, dbTest as test } from '../helpers/database.ts';
import { connect, refusal, wsUrl } from '../helpers/ws.ts';

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

async function createKey(
  app: FastifyInstance,
  name: string,
  role: 'admin' | 'read',
  headers: Record<string, string> = asAdmin,
): Promise<string> {
  const response = await app.inject({ method: 'POST', url: '/api/keys', headers, payload: { name, role } });
  expect(response.statusCode, response.body).toBe(201);
  return response.json().key;
}

async function storedKeys(database: Database) {
  return database.rows<{
    name: string;
    key_hash: string;
    last_used_at: Date | null;
    revoked_at: Date | null;
  }>(sql`select name, key_hash, last_used_at, revoked_at from api_keys order by name`);
}

async function auditOf(app: FastifyInstance, entityId: string) {
  const response = await app.inject({
    method: 'GET',
    url: `/api/audit?entity_type=api_key&entity_id=${entityId}`,
    headers: asAdmin,
  });
  return response.json().data as { operation: string; userId: string; newData: unknown }[];
}

describe('named API keys over HTTP', () => {
  test('a created key is shown once, stored only as its digest, and never listed or audited', async ({
    database,
  }) => {
    const app = await buildTestApp(database);
    const created = await app.inject({
      method: 'POST',
      url: '/api/keys',
      headers: asAdmin,
      payload: { name: 'reporting', role: 'read' },
    });
    expect(created.statusCode).toBe(201);
    const body = created.json();
    expect(body).toEqual({
      name: 'reporting',
      role: 'read',
      key: expect.stringMatching(/^hsk_[A-Za-z0-9_-]{43}$/),
      createdAt: expect.any(String),
      createdBy: 'admin-token',
      lastUsedAt: null,
      revokedAt: null,
    });
    const secret: string = body.key;

    const [row] = await storedKeys(database);
    expect(row?.key_hash).toBe(createHash('sha256').update(secret).digest('hex'));
    expect(row?.key_hash).not.toContain(secret);
    const [everything] = await database.rows<{ whole: string }>(sql`select row_to_json(k)::text as whole
      from api_keys k`);
    expect(everything?.whole).not.toContain(secret.slice(4));

    const listed = await app.inject({ method: 'GET', url: '/api/keys', headers: asAdmin });
    expect(listed.json()).toEqual({
      data: [
        {
          name: 'reporting',
          role: 'read',
          createdAt: body.createdAt,
          createdBy: 'admin-token',
          lastUsedAt: null,
          revokedAt: null,
        },
      ],
      nextCursor: null,
    });
    expect(listed.body).not.toContain(secret.slice(4));
    expect(listed.body).not.toContain(row?.key_hash);

    const audit = await auditOf(app, 'reporting');
    expect(audit).toEqual([
      expect.objectContaining({
        operation: 'create',
        userId: 'admin-token',
        newData: { name: 'reporting', role: 'read' },
      }),
    ]);
    expect(JSON.stringify(audit)).not.toContain(secret.slice(4));
    await app.close();
  });

  test('a read key reads but cannot call admin routes; an admin key can, and is named in the audit', async ({
    database,
  }) => {
    const app = await buildTestApp(database);
    const readKey = await createKey(app, 'dashboards', 'read');
    const adminKey = await createKey(app, 'deploy-bot', 'admin');

    expect(
      (await app.inject({ method: 'GET', url: '/api/errors', headers: bearer(readKey) })).statusCode,
    ).toBe(200);
    for (const [method, url] of [
      ['GET', '/api/audit'],
      ['GET', '/api/keys'],
      ['POST', '/api/keys'],
      ['DELETE', '/api/keys/deploy-bot'],
    ] as const) {
      const refused = await app.inject({
        method,
        url,
        headers: bearer(readKey),
        ...(method === 'POST' ? { payload: { name: 'sneaky', role: 'admin' } } : {}),
      });
      expect([url, refused.statusCode, refused.json().error.code]).toEqual([url, 403, 'forbidden']);
    }

    expect(
      (await app.inject({ method: 'GET', url: '/api/audit', headers: bearer(adminKey) })).statusCode,
    ).toBe(200);
    await createKey(app, 'made-by-a-key', 'read', bearer(adminKey));
    expect(await auditOf(app, 'made-by-a-key')).toEqual([
      expect.objectContaining({ operation: 'create', userId: 'key:deploy-bot' }),
    ]);
    const listed = (await app.inject({ method: 'GET', url: '/api/keys', headers: bearer(adminKey) })).json();
    expect(listed.data.map((k: { name: string; createdBy: string }) => [k.name, k.createdBy])).toEqual([
      ['dashboards', 'admin-token'],
      ['deploy-bot', 'admin-token'],
      ['made-by-a-key', 'key:deploy-bot'],
    ]);

    // Neither a guess with the prefix nor the stored digest itself opens anything.
    const [stored] = await storedKeys(database);
    for (const token of ['hsk_guessed', stored?.key_hash ?? '', readKey.slice(0, -1)]) {
      const response = await app.inject({ method: 'GET', url: '/api/errors', headers: bearer(token) });
      expect(response.statusCode).toBe(401);
    }
    await app.close();
  });

  test('a bad name or role is 400 naming the rule, a duplicate is 409, an unknown name is 404', async ({
    database,
  }) => {
    const app = await buildTestApp(database);
    await createKey(app, 'ci', 'read');
    const post = (payload: unknown) =>
      app.inject({ method: 'POST', url: '/api/keys', headers: asAdmin, payload: payload as object });

    const badName = await post({ name: 'Has Spaces', role: 'read' });
    expect(badName.statusCode).toBe(400);
    expect(badName.json().error.message).toMatch(/name must be 1 to 63 characters of lowercase letters/);
    const badRole = await post({ name: 'ok', role: 'owner' });
    expect(badRole.statusCode).toBe(400);
    expect(badRole.json().error.message).toMatch(/role must be admin or read/);
    expect((await post({ name: 'ok' })).statusCode).toBe(400);
    expect((await post({ name: 'ok', role: 'read', key: 'hsk_chosen' })).statusCode).toBe(400);

    const duplicate = await post({ name: 'ci', role: 'admin' });
    expect([duplicate.statusCode, duplicate.json().error]).toEqual([
      409,
      { code: 'conflict', message: 'a key named ci already exists' },
    ]);
    const unknown = await app.inject({ method: 'DELETE', url: '/api/keys/ghost', headers: asAdmin });
    expect([unknown.statusCode, unknown.json().error.code]).toEqual([404, 'not_found']);
    const badParam = await app.inject({ method: 'DELETE', url: '/api/keys/NOPE', headers: asAdmin });
    expect(badParam.statusCode).toBe(400);
    // Still one key, with its role unchanged by the refused duplicate.
    expect((await storedKeys(database)).map((k) => k.name)).toEqual(['ci']);
    await app.close();
  });

  test('last use is recorded, at most once a minute', async ({ database }) => {
    let now = new Date('2026-05-01T09:00:00Z');
    const clock: Clock = { now: () => now };
    const app = await buildTestApp(database, { clock });
    const key = await createKey(app, 'poller', 'read');
    const lastUsed = async () => {
      const value = (await storedKeys(database))[0]?.last_used_at;
      return value ? new Date(value).toISOString() : null;
    };
    const use = () => app.inject({ method: 'GET', url: '/api/errors', headers: bearer(key) });

    expect(await lastUsed()).toBeNull();
    await use();
    expect(await lastUsed()).toBe('2026-05-01T09:00:00.000Z');
    now = new Date('2026-05-01T09:00:59Z');
    await use();
    expect(await lastUsed()).toBe('2026-05-01T09:00:00.000Z');
    now = new Date('2026-05-01T09:01:00Z');
    await use();
    expect(await lastUsed()).toBe('2026-05-01T09:01:00.000Z');
    const listed = (await app.inject({ method: 'GET', url: '/api/keys', headers: asAdmin })).json();
    expect(listed.data[0].lastUsedAt).toBe('2026-05-01T09:01:00.000Z');
    await app.close();
  });

  test('a key opens the WebSocket from ?token= or the header; a revoked one is refused', async ({
    database,
  }) => {
    const app = await buildTestApp(database);
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    const key = await createKey(app, 'wallboard', 'read');
    const byQuery = await connect(wsUrl(address, `?token=${key}`));
    const byHeader = await connect(wsUrl(address), { headers: bearer(key) });
    const hellos = await Promise.all([
      byQuery.next((m) => m.type === 'hello'),
      byHeader.next((m) => m.type === 'hello'),
    ]);
    expect(hellos.map((hello) => hello.data.role)).toEqual(['read', 'read']);
    await Promise.all([byQuery.close(), byHeader.close()]);

    await app.inject({ method: 'DELETE', url: '/api/keys/wallboard', headers: asAdmin });
    const refused = await refusal(wsUrl(address, `?token=${key}`));
    expect([refused.status, JSON.parse(refused.body).error.code]).toEqual([401, 'unauthorized']);
    await app.close();
  });
  test('the key routes are documented in the OpenAPI document, admin-only', async ({ database }) => {
    const app = await buildTestApp(database);
    const { paths } = (await app.inject({ method: 'GET', url: '/docs/json' })).json();
    expect(Object.keys(paths['/api/keys'] ?? {})).toEqual(expect.arrayContaining(['get', 'post']));
    expect(paths['/api/keys/{name}']?.delete?.security).toEqual([{ bearer: [] }]);
    expect(paths['/api/keys'].post.responses['201']).toBeDefined();
    await app.close();
  });
});

describe('revocation', () => {
  plainTest('a key revoked on one instance is refused at once by another on the same database', async () => {
    const scratch = await createScratchDatabase();
    const databaseA = await scratch.open();
    // Two connection pools on one PostgreSQL database; the PGlite fallback has one database per process.
    const databaseB = scratch.url ? await scratch.open() : databaseA;
    const instanceA = await buildTestApp(databaseA);
    const instanceB = await buildTestApp(databaseB);
    try {
      const key = await createKey(instanceA, 'integration', 'admin');
      const readOnB = () => instanceB.inject({ method: 'GET', url: '/api/audit', headers: bearer(key) });
      expect((await readOnB()).statusCode).toBe(200);
      expect((await readOnB()).statusCode).toBe(200);

      const revoked = await instanceA.inject({
        method: 'DELETE',
        url: '/api/keys/integration',
        headers: { ...asAdmin, 'user-agent': 'ops-console/1.0' },
      });
      expect(revoked.statusCode).toBe(200);
      expect(revoked.json()).toMatchObject({
        name: 'integration',
        role: 'admin',
        revokedAt: expect.any(String),
      });

      const refused = await readOnB();
      expect([refused.statusCode, refused.json().error.code]).toEqual([401, 'unauthorized']);
      expect(
        (await instanceA.inject({ method: 'GET', url: '/api/audit', headers: bearer(key) })).statusCode,
      ).toBe(401);

      // Revoking again changes nothing and audits nothing new.
      const again = await instanceB.inject({
        method: 'DELETE',
        url: '/api/keys/integration',
        headers: asAdmin,
      });
      expect(again.json().revokedAt).toBe(revoked.json().revokedAt);
      const audit = await auditOf(instanceB, 'integration');
      expect(audit.map((entry) => [entry.operation, entry.userId])).toEqual([
        ['update', 'admin-token'],
        ['create', 'admin-token'],
      ]);
      expect(audit[0]?.newData).toEqual({ revokedAt: revoked.json().revokedAt });
      const listed = (await instanceB.inject({ method: 'GET', url: '/api/keys', headers: asReader }))
        .statusCode;
      expect(listed).toBe(403);
    } finally {
      await instanceA.close();
      await instanceB.close();
      if (databaseB !== databaseA) await databaseB.close();
      await databaseA.close();
      await scratch.drop();
    }
  });
});

const run = promisify(execFile);
const CLI = new URL('../../src/keys/keys.cli.ts', import.meta.url).pathname;

describe('npm run keys', () => {
  plainTest(
    'the CLI creates, lists and revokes keys that the service honours and then refuses',
    async () => {
      const scratch = await createScratchDatabase();
      const pgliteDir = scratch.url ? undefined : await mkdtemp(join(tmpdir(), 'keys-cli-'));
      const env = {
        PATH: process.env.PATH ?? '',
        ...(scratch.url ? { DATABASE_URL: scratch.url } : { PGLITE_DIR: pgliteDir ?? '' }),
      };
      const cli = async (...args: string[]) => {
        try {
          const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env });
          return { code: 0, stdout, stderr };
        } catch (error) {
          const failed = error as { code: number; stdout: string; stderr: string };
          return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
        }
      };
      // The embedded database belongs to one process at a time: the app opens it only between CLI runs.
      const withApp = async (work: (app: FastifyInstance) => Promise<void>) => {
        const database = scratch.url
          ? await createDatabase({ url: scratch.url, maxConnections: 2 })
          : await createDatabase({ pgliteDir: pgliteDir ?? '' });
        const app = await buildTestApp(database);
        try {
          await work(app);
        } finally {
          await app.close();
          await database.close();
        }
      };
      try {
        const created = await cli('create', 'nightly-export', '--role', 'read');
        expect(created.code, created.stderr).toBe(0);
        const secret = /^(hsk_[A-Za-z0-9_-]{43})$/m.exec(created.stdout)?.[1];
        expect(secret, created.stdout).toBeDefined();
        expect(created.stdout).toMatch(/will not be shown again/);

        const listed = await cli('list');
        expect(listed.code).toBe(0);
        expect(listed.stdout).toMatch(/^NAME\s+ROLE\s+CREATED\s+CREATED BY\s+LAST USED\s+REVOKED$/m);
        expect(listed.stdout).toMatch(/^nightly-export\s+read\s+\S+\s+cli:\S+\s+never\s+-$/m);
        expect(listed.stdout).not.toContain(secret?.slice(4));
        expect(listed.stdout).not.toContain(
          createHash('sha256')
            .update(secret ?? '')
            .digest('hex'),
        );

        await withApp(async (app) => {
          const read = await app.inject({ method: 'GET', url: '/api/errors', headers: bearer(secret ?? '') });
          expect(read.statusCode).toBe(200);
          const audit = await auditOf(app, 'nightly-export');
          expect(audit).toEqual([
            expect.objectContaining({ operation: 'create', userId: expect.stringMatching(/^cli/) }),
          ]);
        });

        const used = await cli('list');
        expect(used.stdout).not.toMatch(/^nightly-export.*never/m);

        const duplicate = await cli('create', 'nightly-export', '--role', 'admin');
        expect([duplicate.code, duplicate.stderr.trim()]).toEqual([
          1,
          'a key named nightly-export already exists',
        ]);
        const revoked = await cli('revoke', 'nightly-export');
        expect([revoked.code, revoked.stdout.trim()]).toEqual([0, 'revoked key nightly-export']);

        await withApp(async (app) => {
          const refused = await app.inject({
            method: 'GET',
            url: '/api/errors',
            headers: bearer(secret ?? ''),
          });
          expect(refused.statusCode).toBe(401);
        });

        const unknown = await cli('revoke', 'ghost');
        expect([unknown.code, unknown.stderr.trim()]).toEqual([1, 'no key named ghost']);
        for (const args of [
          [],
          ['create', 'x'],
          ['create', 'x', '--role', 'owner'],
          ['create', 'Bad', '--role', 'read'],
          ['frob'],
        ]) {
          const bad = await cli(...args);
          expect(bad.code, args.join(' ')).toBe(2);
          expect(bad.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
        }
        expect((await cli('create', 'Bad', '--role', 'read')).stderr).toMatch(/lowercase letters, digits/);
      } finally {
        await scratch.drop();
        if (pgliteDir) await rm(pgliteDir, { recursive: true, force: true });
      }
      // A dozen Node processes, each opening the database: slow on a shared CI machine.
    },
    120_000,
  );
});
