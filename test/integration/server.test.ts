import { randomBytes } from 'node:crypto';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { describe, expect, test } from 'vitest';
import { createConnectionsRepository } from '../../src/connections/connections.repository.ts';
import { createTokenCipher, keyIdOf } from '../../src/connections/token-cipher.ts';
import { MIGRATIONS_FOLDER } from '../../src/db/migrate.ts';
import { createScratchDatabase } from '../helpers/database.ts';
import { freePort, runNode, waitFor } from '../helpers/process.ts';

async function readyStatus(port: number): Promise<number | undefined> {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`);
  return response.status === 200 ? 200 : undefined;
}

describe('the server process', () => {
  test('a bad PORT stops start-up with one line naming it', async () => {
    const run = runNode('src/server.ts', { PORT: 'notaport' });
    expect(await run.exited).toBe(1);
    const lines = run.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/PORT/);
  });

  test('a bad encryption key is named without echoing the secret', async () => {
    const run = runNode('src/server.ts', { TOKEN_ENCRYPTION_KEY: 'c2VjcmV0LXRvby1zaG9ydA==' });
    expect(await run.exited).toBe(1);
    expect(run.output()).toContain('TOKEN_ENCRYPTION_KEY');
    expect(run.output()).not.toContain('c2VjcmV0LXRvby1zaG9ydA');
  });

  test('a key that cannot open the stored tokens stops start-up loudly, naming the key it needs', async () => {
    const scratch = await createScratchDatabase();
    const database = await scratch.open();
    try {
      const sealedWith = randomBytes(32);
      const cipher = createTokenCipher([sealedWith]);
      await createConnectionsRepository().replace(database.db, {
        accessToken: cipher.encrypt('access'),
        refreshToken: cipher.encrypt('refresh'),
        expiresAt: new Date(Date.now() + 1_800_000),
        tokenKeyId: cipher.currentKeyId ?? '',
        portalId: 1,
        scopes: [],
      });
      const env: Record<string, string> = {
        TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        HUBSPOT_CLIENT_ID: 'id',
        HUBSPOT_CLIENT_SECRET: 'secret',
        HOST: '127.0.0.1',
        PORT: String(await freePort()),
      };
      if (scratch.url) env.DATABASE_URL = scratch.url;
      else return; // the embedded database lives in the test process: nothing for a child to open
      const run = runNode('src/server.ts', env);
      expect(await run.exited).toBe(1);
      expect(run.output()).toContain('TOKEN_ENCRYPTION_KEY cannot open the stored HubSpot tokens');
      expect(run.output()).toContain(keyIdOf(sealedWith));
    } finally {
      await database.close();
      await scratch.drop();
    }
  });

  test('with no database configured it serves on the embedded one, logs its generated admin token once, and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const run = runNode('src/server.ts', { PORT: String(port), HOST: '127.0.0.1', PGLITE_DIR: 'memory://' });
    try {
      await waitFor(() => readyStatus(port));
      const tokens = [...run.output().matchAll(/admin token is (\S+?)"/g)].map((m) => m[1]);
      expect(tokens).toHaveLength(1);
      const authed = await fetch(`http://127.0.0.1:${port}/api/errors`, {
        headers: { authorization: `Bearer ${tokens[0]}` },
      });
      expect(authed.status).toBe(200);
    } finally {
      run.child.kill('SIGTERM');
    }
    expect(await run.exited).toBe(0);
    expect(run.output()).toContain('shutting down');
  });

  test('against PostgreSQL it migrates an empty database at start-up', async () => {
    const scratch = await createScratchDatabase({ empty: true });
    const port = await freePort();
    const env: Record<string, string> = {
      PORT: String(port),
      HOST: '127.0.0.1',
      ADMIN_TOKEN: 'x'.repeat(32),
    };
    if (scratch.url) env.DATABASE_URL = scratch.url;
    else env.PGLITE_DIR = 'memory://';
    const run = runNode('src/server.ts', env);
    try {
      await waitFor(() => readyStatus(port));
      const shipped = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER }).length;
      expect(run.output()).toContain(`"applied":${shipped}`);
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
      await scratch.drop();
    }
  });
});
