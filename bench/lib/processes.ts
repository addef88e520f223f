/** Child processes of the bench: start, wait for, measure and stop them. */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { PORTAL_ID, SECRET } from './events.ts';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The last lines a child wrote, to show when something goes wrong; the first few also go to stderr live. */
export class OutputTail {
  readonly lines: string[] = [];
  private echoed = 0;
  private readonly label: string;
  private readonly echo: number;
  constructor(label: string, echo = 20) {
    this.label = label;
    this.echo = echo;
  }
  attach(child: ChildProcess): void {
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (text: string) => {
        for (const line of text.split('\n')) {
          if (!line.trim()) continue;
          this.lines.push(line);
          if (this.lines.length > 50) this.lines.shift();
          if (this.echoed++ < this.echo) process.stderr.write(`[${this.label}] ${line.slice(0, 400)}\n`);
        }
      });
    }
  }
}

/** The Node flags `npm start` runs the service with, so the bench measures what production runs. */
export function startFlags(cwd: string): string[] {
  const pkg = JSON.parse(readFileSync(path.join(cwd, 'package.json'), 'utf8')) as {
    scripts: { start: string };
  };
  return pkg.scripts.start.split(/\s+/).filter((word) => word.startsWith('--'));
}

export function startService(script: string, cwd: string, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [...startFlags(cwd), script], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Forks a bench helper that reports `{ ready, port }` over IPC once listening. */
export async function startHelper(
  script: string,
  env: Record<string, string>,
  timeoutMs = 30_000,
): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(script, [], { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${script} did not start within ${timeoutMs} ms`)),
      timeoutMs,
    );
    child.once('message', (message: { port?: number }) => {
      clearTimeout(timer);
      if (message.port) resolve(message.port);
      else reject(new Error(`${script} sent ${JSON.stringify(message)}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code} before listening`));
    });
  });
  return { child, port };
}

export async function waitReady(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const started = Date.now();
  let last = '';
  while (Date.now() - started < timeoutMs) {
    if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode} while starting`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      last = `${response.status} ${await response.text()}`;
      if (response.status === 200) return;
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(100);
  }
  throw new Error(`${url} not ready within ${timeoutMs} ms (last: ${last})`);
}

/** SIGTERM, then SIGKILL if it has not gone within `graceMs`. */
export async function stopChild(child: ChildProcess | undefined, graceMs = 10_000): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** VmHWM (peak resident set) and VmRSS of a live process, in MB, from /proc. */
export function memoryOf(pid: number | undefined): { peakRssMB: number; rssMB: number } | undefined {
  if (!pid) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) =>
      Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
    return { peakRssMB: Math.round(kb('VmHWM') / 102.4) / 10, rssMB: Math.round(kb('VmRSS') / 102.4) / 10 };
  } catch {
    return undefined;
  }
}

/** User + system CPU seconds a process has used so far (utime + stime from /proc/<pid>/stat). */
export function cpuSecondsOf(pid: number | undefined): number {
  if (!pid) return Number.NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/**
 * User + system CPU seconds used so far by every live process whose name (`comm`) is `name`, e.g. all of
 * PostgreSQL's backends: what the machine spent there, apart from what other tenants spent.
 */
export function cpuSecondsByName(name: string): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) !== name) continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

/**
 * How the ingest and latency benches start the service: production mode on its own database, webhooks
 * signed with the bench's secret, no sweep schedule, and NODE_OPTIONS from BENCH_SERVICE_NODE_OPTIONS.
 */
export function benchServiceEnv(
  databaseUrl: string,
  port: number,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    NODE_ENV: 'production',
    DATABASE_URL: databaseUrl,
    HUBSPOT_CLIENT_SECRET: SECRET,
    HUBSPOT_PORTAL_ID: String(PORTAL_ID),
    ADMIN_TOKEN: 'bench-admin-token-0123456789',
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    RECONCILE_INTERVAL: '0',
    FULL_RECONCILE_INTERVAL: '0',
    ...(process.env.BENCH_SERVICE_NODE_OPTIONS
      ? { NODE_OPTIONS: process.env.BENCH_SERVICE_NODE_OPTIONS }
      : {}),
    ...extra,
  };
}
