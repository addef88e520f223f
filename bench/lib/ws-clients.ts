/**
 * The bench's WebSocket clients, spread over a few worker threads (ws-client-worker.ts): connects them all,
 * reports how many of the bench's events they have received so far, and collects each client's arrival
 * times once the run is over.
 */
import { Worker } from 'node:worker_threads';
import type { ClientReport, FromWorker, ToWorker, WorkerSetup } from './ws-client-worker.ts';

export type { ClientReport } from './ws-client-worker.ts';

export interface ClientPoolOptions extends Omit<WorkerSetup, 'clients' | 'connectTimeoutMs'> {
  clients: number;
  threads: number;
  connectTimeoutMs?: number;
}

export interface ClientPool {
  connected: number;
  failures: string[];
  /** Events received so far, summed over clients (each client's first copy of each event only). */
  progress(): Promise<{ matched: number; closed: number }>;
  /** Closes every client and returns what each received, and each thread's busy share since connecting. */
  collect(): Promise<{ clients: ClientReport[]; threadBusy: number[] }>;
  terminate(): Promise<void>;
}

function ask<T extends FromWorker['type']>(
  worker: Worker,
  message: ToWorker | undefined,
  type: T,
  timeoutMs: number,
): Promise<Extract<FromWorker, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      worker.off('message', onMessage);
      reject(new Error(`a client thread did not answer ${type} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (answer: FromWorker) => {
      if (answer.type !== type) return;
      clearTimeout(timer);
      worker.off('message', onMessage);
      resolve(answer as Extract<FromWorker, { type: T }>);
    };
    worker.on('message', onMessage);
    if (message) worker.postMessage(message);
  });
}

export async function openClients(options: ClientPoolOptions): Promise<ClientPool> {
  const { clients, threads, connectTimeoutMs = 10_000, ...rest } = options;
  const n = Math.max(1, Math.min(threads, clients));
  const counts = Array.from(
    { length: n },
    (_, index) => Math.floor(clients / n) + (index < clients % n ? 1 : 0),
  );
  const workers = counts.map(
    (count) =>
      new Worker(new URL('./ws-client-worker.ts', import.meta.url), {
        workerData: { ...rest, clients: count, connectTimeoutMs } satisfies WorkerSetup,
      }),
  );
  const errors: string[] = [];
  for (const worker of workers) worker.on('error', (error) => errors.push(error.message));
  const ready = await Promise.all(
    workers.map((worker) => ask(worker, undefined, 'ready', connectTimeoutMs + 5_000)),
  );
  return {
    connected: ready.reduce((sum, answer) => sum + answer.connected, 0),
    failures: [...errors, ...ready.flatMap((answer) => answer.failures)],
    async progress() {
      const answers = await Promise.all(
        workers.map((worker) => ask(worker, { type: 'progress' }, 'progress', 5_000)),
      );
      return {
        matched: answers.reduce((sum, answer) => sum + answer.matched, 0),
        closed: answers.reduce((sum, answer) => sum + answer.closed, 0),
      };
    },
    async collect() {
      const answers = await Promise.all(
        workers.map((worker) => ask(worker, { type: 'collect' }, 'result', 15_000)),
      );
      return {
        clients: answers.flatMap((answer) => answer.clients),
        threadBusy: answers.map((answer) => answer.busy),
      };
    },
    async terminate() {
      await Promise.all(workers.map((worker) => worker.terminate()));
    },
  };
}
