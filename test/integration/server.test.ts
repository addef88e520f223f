import { readMigrationFiles } from 'drizzle-orm/migrator';
import { describe, expect, test } from 'vitest';
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
