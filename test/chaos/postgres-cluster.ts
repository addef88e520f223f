import { execFile, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { freePort } from '../helpers/process.ts';

const run = promisify(execFile);
const POSTGRES_BIN_ROOT = '/usr/lib/postgresql';

/** A PostgreSQL cluster of the test's own, in a temp dir on a free port, that it can stop and start at will. */
export interface PostgresCluster {
  /** `postgres://postgres@127.0.0.1:PORT/postgres` */
  url: string;
  /** A new, empty database on the cluster (it must be running); answers its URL. */
  createDatabase(): Promise<string>;
  start(): Promise<void>;
  /** `fast` disconnects clients and shuts down cleanly; `immediate` is a crash (recovery at the next start). */
  stop(mode: 'fast' | 'immediate'): Promise<void>;
  /** Stops it (if running) and deletes its files. */
  destroy(): Promise<void>;
}

/** The newest installed PostgreSQL server's bin directory (Debian's layout), if there is one. */
export function postgresServerBinaries(): string | undefined {
  let versions: string[];
  try {
    versions = readdirSync(POSTGRES_BIN_ROOT).filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  return newest === undefined ? undefined : join(POSTGRES_BIN_ROOT, newest, 'bin');
}

async function osUser(name: string): Promise<{ uid: number; gid: number }> {
  const line = (await readFile('/etc/passwd', 'utf8')).split('\n').find((l) => l.startsWith(`${name}:`));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) throw new Error(`no ${name} OS user to run PostgreSQL as`);
  return { uid: Number(uid), gid: Number(gid) };
}

/**
 * initdb refuses to run as root, and the tests do: as root the cluster's commands run as the `postgres` OS
 * user (runuser), in a temp dir handed to it; as anyone else, as that user.
 */
export async function createPostgresCluster(): Promise<PostgresCluster> {
  const bin = postgresServerBinaries();
  if (!bin) throw new Error(`no PostgreSQL server binaries under ${POSTGRES_BIN_ROOT} (initdb, pg_ctl)`);
  const dir = await mkdtemp(join(tmpdir(), 'hs-chaos-pg-'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { uid, gid } = await osUser('postgres');
    await chown(dir, uid, gid);
  }
  const command = (tool: string, args: string[]) =>
    asRoot
      ? (['runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]] as const)
      : ([join(bin, tool), args] as const);
  const exec = async (tool: string, args: string[]) => {
    const [file, argv] = command(tool, args);
    try {
      await run(file, [...argv], { cwd: dir, timeout: 60_000 });
    } catch (error) {
      const { stderr, stdout } = error as { stderr?: string; stdout?: string };
      throw new Error(`${tool} ${args.join(' ')} failed: ${stderr || stdout || (error as Error).message}`);
    }
  };

  const data = join(dir, 'data');
  const port = await freePort();
  await exec('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  const serverOptions = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50`;
  let running = false;
  let databases = 0;

  const cluster: PostgresCluster = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async createDatabase() {
      const name = `chaos_${++databases}`;
      const admin = postgres(cluster.url, { max: 1, onnotice: () => {} });
      try {
        await admin.unsafe(`create database ${name}`);
      } finally {
        await admin.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    async start() {
      await exec('pg_ctl', ['-D', data, '-o', serverOptions, '-l', join(dir, 'server.log'), '-w', 'start']);
      running = true;
    },
    async stop(mode) {
      await exec('pg_ctl', ['-D', data, '-m', mode, '-w', 'stop']);
      running = false;
    },
    async destroy() {
      process.off('exit', stopAtExit);
      if (running) await cluster.stop('immediate').catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
  // Should the test process end without its afterAll (an interrupted run), no server is left running.
  function stopAtExit() {
    if (!running) return;
    const [file, argv] = command('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
    spawnSync(file, [...argv]);
  }
  process.once('exit', stopAtExit);
  return cluster;
}
