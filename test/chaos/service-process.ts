import { freePort, runNode, type Started, waitFor } from '../helpers/process.ts';

export const CHAOS_SECRET = 'chaos-client-secret-0123456789';
export const CHAOS_PORTAL = 777003;
export const CHAOS_ADMIN_TOKEN = 'chaos-admin-token-0123456789';
export const CHAOS_PRIVATE_APP_TOKEN = 'pat-na1-c4a05000-1111-2222-3333-444444444444';

export interface ServiceProcessOptions {
  databaseUrl: string;
  hubspotApiBase: string;
  /** Default: a free one. */
  port?: number;
  /** Extra or overriding environment (RECONCILE_INTERVAL, HUBSPOT_ACCESS_TOKEN, …). */
  env?: Record<string, string>;
}

/** `src/server.ts` as a child process on one fixed port, so it can be killed and started again at the same address. */
export interface ServiceProcess {
  url: string;
  /** Starts it (again) and resolves once /readyz answers 200. */
  start(): Promise<void>;
  /** SIGKILL: no graceful shutdown, no chance to finish what it holds. */
  kill(): Promise<void>;
  /** SIGTERM and wait for the exit (a no-op when it is not running). */
  stop(): Promise<void>;
  /** Whether the current run is still alive. */
  running(): boolean;
  /** Everything every run printed, for a failure message. */
  output(): string;
}

export async function createServiceProcess(options: ServiceProcessOptions): Promise<ServiceProcess> {
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const env = {
    HOST: '127.0.0.1',
    PORT: String(port),
    DATABASE_URL: options.databaseUrl,
    HUBSPOT_API_BASE: options.hubspotApiBase,
    HUBSPOT_CLIENT_SECRET: CHAOS_SECRET,
    HUBSPOT_PORTAL_ID: String(CHAOS_PORTAL),
    HUBSPOT_ACCESS_TOKEN: CHAOS_PRIVATE_APP_TOKEN,
    ADMIN_TOKEN: CHAOS_ADMIN_TOKEN,
    RECONCILE_INTERVAL: '0',
    FULL_RECONCILE_INTERVAL: '0',
    LOG_LEVEL: 'warn',
    ...options.env,
  };
  let current: Started | undefined;
  let previousOutput = '';

  async function ready(): Promise<true | undefined> {
    const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) });
    return response.status === 200 ? true : undefined;
  }

  async function end(signal: NodeJS.Signals): Promise<void> {
    const run = current;
    if (!run) return;
    current = undefined;
    previousOutput += run.output();
    if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill(signal);
    await run.exited;
  }

  return {
    url,
    async start() {
      await end('SIGKILL');
      current = runNode('src/server.ts', env);
      const run = current;
      const exitedEarly = run.exited.then((code) => {
        throw new Error(`the service exited with ${code} before it was ready:\n${run.output()}`);
      });
      await Promise.race([
        waitFor(ready, 30_000).catch((error: unknown) => {
          throw new Error(`the service did not become ready: ${(error as Error).message}\n${run.output()}`);
        }),
        exitedEarly,
      ]);
    },
    kill: () => end('SIGKILL'),
    stop: () => end('SIGTERM'),
    running: () =>
      current !== undefined && current.child.exitCode === null && current.child.signalCode === null,
    output: () => previousOutput + (current?.output() ?? ''),
  };
}
