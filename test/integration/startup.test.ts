import { execFileSync, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { createDatabase, DEFAULT_STATEMENT_TIMEOUT_MS, describeDatabaseError } from '../../src/db/client.ts';
import { createScratchDatabase } from '../helpers/database.ts';
import { freePort, runNode } from '../helpers/process.ts';

/** A TCP server on loopback that accepts connections and never answers: a database host that hangs. */
let silent: Server;
let silentPort: number;
const sockets = new Set<Socket>();
beforeAll(async () => {
  silent = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  }).listen(0, '127.0.0.1');
  await once(silent, 'listening');
  silentPort = (silent.address() as { port: number }).port;
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  silent.close();
});

const ROOT = new URL('../..', import.meta.url).pathname;
const ADMIN_TOKEN = 'startup-admin-token-0123456789';
const lines = (text: string) => text.trim().split('\n').filter(Boolean);

describe('a database host that never answers', () => {
  test('fails the connection after the connect timeout instead of hanging', async () => {
    const database = await createDatabase({
      url: `postgres://postgres@127.0.0.1:${silentPort}/postgres`,
      connectTimeoutSeconds: 1,
    });
    const started = Date.now();
    const failure = await database.rows(sql`select 1`).catch((error: unknown) => error);
    await expect(Promise.reject(failure)).rejects.toMatchObject({
      cause: { code: 'CONNECT_TIMEOUT' },
    });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(describeDatabaseError(failure)).toMatch(
      /^no answer from 127\.0\.0\.1:\d+ within the connect timeout/,
    );
    await database.close();
  });

  // With the default timeout (10 s): nothing in DATABASE_URL asks for one.
  test('stops the server with one line saying the host did not answer', async () => {
    const run = runNode('src/server.ts', {
      PORT: String(await freePort()),
      HOST: '127.0.0.1',
      ADMIN_TOKEN,
      DATABASE_URL: `postgres://postgres@127.0.0.1:${silentPort}/postgres`,
    });
    const timer = setTimeout(() => run.child.kill('SIGKILL'), 15_000);
    expect(await run.exited).toBe(1);
    clearTimeout(timer);
    const output = lines(run.output());
    expect(output).toHaveLength(1);
    expect(output[0]).toContain('cannot open the database');
    expect(output[0]).toContain(`no answer from 127.0.0.1:${silentPort}`);
  }, 20_000);

  test('stops db:migrate with one line saying the host did not answer (connect_timeout from the URL)', async () => {
    const run = runNode('src/db/migrate.cli.ts', {
      DATABASE_URL: `postgres://postgres@127.0.0.1:${silentPort}/postgres?connect_timeout=1`,
    });
    const timer = setTimeout(() => run.child.kill('SIGKILL'), 15_000);
    expect(await run.exited).toBe(1);
    clearTimeout(timer);
    expect(lines(run.output())).toEqual([expect.stringContaining(`no answer from 127.0.0.1:${silentPort}`)]);
  }, 20_000);
});

describe.runIf(inject('testDatabase').kind === 'postgres')('the statement timeout', () => {
  test('is five minutes by default, and stops a statement that runs past the one given', async () => {
    const scratch = await createScratchDatabase({ empty: true });
    const service = await createDatabase({ url: scratch.url, maxConnections: 1 });
    const strict = await createDatabase({ url: scratch.url, maxConnections: 1, statementTimeoutMs: 200 });
    const unlimited = await createDatabase({ url: scratch.url, maxConnections: 1, statementTimeoutMs: 0 });
    try {
      expect(DEFAULT_STATEMENT_TIMEOUT_MS).toBe(300_000);
      expect(await service.rows(sql`show statement_timeout`)).toEqual([{ statement_timeout: '5min' }]);
      expect(await unlimited.rows(sql`show statement_timeout`)).toEqual([{ statement_timeout: '0' }]);
      await expect(strict.rows(sql`select pg_sleep(2)`)).rejects.toMatchObject({ cause: { code: '57014' } });
    } finally {
      await Promise.all([service.close(), strict.close(), unlimited.close()]);
      await scratch.drop();
    }
  });
});

describe('production without DATABASE_URL', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hs-embedded-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('db:migrate refuses the embedded database in one line, and creates nothing', async () => {
    const pgliteDir = join(dir, 'refused');
    const run = runNode('src/db/migrate.cli.ts', { NODE_ENV: 'production', PGLITE_DIR: pgliteDir });
    expect(await run.exited).toBe(1);
    expect(lines(run.output())).toEqual([
      expect.stringMatching(
        /NODE_ENV is production but DATABASE_URL is not set.*ALLOW_EMBEDDED_DATABASE=true/,
      ),
    ]);
    expect(await readdir(dir)).toEqual([]);
  });

  test('the server refuses it in one line, before opening anything', async () => {
    const run = runNode('src/server.ts', {
      NODE_ENV: 'production',
      ADMIN_TOKEN,
      PORT: String(await freePort()),
      HOST: '127.0.0.1',
      PGLITE_DIR: join(dir, 'server'),
    });
    // Were it to start instead, it must not outlive the test.
    const timer = setTimeout(() => run.child.kill('SIGKILL'), 15_000);
    expect(await run.exited).toBe(1);
    clearTimeout(timer);
    expect(lines(run.output())).toEqual([expect.stringContaining('DATABASE_URL is not set')]);
    expect(await readdir(dir)).toEqual([]);
  }, 20_000);

  test('ALLOW_EMBEDDED_DATABASE=true lets db:migrate use it', async () => {
    const run = runNode('src/db/migrate.cli.ts', {
      NODE_ENV: 'production',
      ALLOW_EMBEDDED_DATABASE: 'true',
      PGLITE_DIR: join(dir, 'allowed'),
    });
    expect(await run.exited).toBe(0);
    expect(run.output()).toContain('embedded database');
    await rm(join(dir, 'allowed'), { recursive: true, force: true });
  }, 30_000);

  test('outside production the embedded database needs no permission', async () => {
    const run = runNode('src/db/migrate.cli.ts', { PGLITE_DIR: join(dir, 'dev') });
    expect(await run.exited).toBe(0);
    await rm(join(dir, 'dev'), { recursive: true, force: true });
  }, 30_000);
});

describe('an old Node.js', () => {
  const oldNode = '/usr/bin/node';
  const oldVersion = (() => {
    try {
      return execFileSync(oldNode, ['--version'], { encoding: 'utf8' }).trim();
    } catch {
      return undefined;
    }
  })();
  const major = Number(oldVersion?.slice(1).split('.')[0] ?? 99);

  test.skipIf(major >= 22)('is refused by the preflight in one line naming the version needed', () => {
    const result = spawnSync(oldNode, ['src/preflight.mjs'], { cwd: ROOT, encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(lines(result.stderr)).toEqual([
      `hubspot-sync needs Node.js 22.18 or newer (24 recommended); this is Node.js ${oldVersion?.slice(1)}`,
    ]);
  });

  test('the Node.js running the tests passes the preflight in silence', () => {
    const result = spawnSync(process.execPath, ['src/preflight.mjs'], { cwd: ROOT, encoding: 'utf8' });
    expect([result.status, result.stdout, result.stderr]).toEqual([0, '', '']);
  });

  test('every npm script that runs the TypeScript sources, or vitest, runs the preflight first', async () => {
    const { scripts } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    const needing = Object.entries(scripts).filter(([, command]) =>
      /\bnode\b.*\.ts\b|^vitest\b|&& vitest\b/.test(command),
    );
    expect(needing.map(([name]) => name)).toEqual(
      expect.arrayContaining(['start', 'test', 'db:migrate', 'sim', 'demo']),
    );
    for (const [name, command] of needing) expect(command, name).toMatch(/^node src\/preflight\.mjs && /);
  });
});

describe('the simulator and demo command lines', () => {
  const run = (script: string, args: string[]) =>
    spawnSync(process.execPath, [script, ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 20_000,
      killSignal: 'SIGKILL',
    });

  test.each([
    [['--port', 'abc'], /^hubspot-sim: --port: expected a whole number from 0 to 65535, got "abc"/],
    [['--contacts', 'many'], /^hubspot-sim: --contacts: expected a whole number/],
    [['--batch', '500'], /^hubspot-sim: --batch: expected a whole number from 1 to 100/],
    [['--signature', 'v9'], /^hubspot-sim: --signature: expected one of both, v3, v2, v1/],
    [['--rate-limit', 'lots'], /^hubspot-sim: --rate-limit: /],
    [['--no-such-flag'], /^hubspot-sim: Unknown option '--no-such-flag'/],
    [['--port'], /^hubspot-sim: Option '--port <value>' argument missing/],
  ])('npm run sim -- %j is refused in one line with exit 2', (args, message) => {
    const result = run('src/sim/cli.ts', args);
    expect(result.status).toBe(2);
    expect(lines(result.stderr)).toEqual([expect.stringMatching(message)]);
    expect(result.stdout).toBe('');
  });

  test.each([
    [['--port', 'abc'], /^hubspot-sync demo: --port: expected a whole number from 1 to 65535, got "abc"/],
    [['--changes-per-second', 'lots'], /^hubspot-sync demo: --changes-per-second: expected a number/],
    [['--changes-per-second', '-1'], /--changes-per-second/],
    [['--contacts', '1.5'], /^hubspot-sync demo: --contacts: expected a whole number/],
    [['--api-latency-ms', 'slow'], /^hubspot-sync demo: --api-latency-ms: /],
    [['--port', '4010'], /--port and --sim-port are both 4010/],
    [['--nope'], /^hubspot-sync demo: Unknown option '--nope'/],
  ])('npm run demo -- %j is refused in one line with exit 2, before anything starts', (args, message) => {
    const result = run('src/demo/main.ts', args);
    expect(result.status).toBe(2);
    expect(lines(result.stderr)).toEqual([expect.stringMatching(message)]);
    expect(result.stdout).toBe('');
  });

  test.each([
    ['src/sim/cli.ts', 'npm run sim', '--search-lag-ms'],
    ['src/demo/main.ts', 'npm run demo', '--changes-per-second'],
  ])('%s --help prints its usage and exits 0', (script, usage, flag) => {
    for (const help of ['--help', '-h']) {
      const result = run(script, [help]);
      expect(result.status).toBe(0);
      expect(result.stdout).toContain(`Usage: ${usage} -- [options]`);
      expect(result.stdout).toContain(flag);
      expect(result.stderr).toBe('');
    }
  });
});
