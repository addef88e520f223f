/**
 * HubSpot's side of the traffic at a fixed rate rather than as fast as answers come (http-load.ts): delivery k
 * is due when the deliveries before it hold `eventsPerSec` × elapsed seconds of events, and goes out then, or
 * as soon as one of the `concurrency` requests in flight is answered (HubSpot's cap of 10). Records when each
 * delivery's POST started, on the wall clock `epochNow` that worker threads share. Only 127.0.0.1 is called.
 */
import http from 'node:http';
import type { Delivery } from './events.ts';
import { post } from './http-load.ts';

/** Epoch milliseconds with sub-millisecond resolution, comparable between the threads of one process. */
export const epochNow = () => performance.timeOrigin + performance.now();

export interface PacedOptions {
  port: number;
  deliveries: readonly Delivery[];
  eventsPerSec: number;
  concurrency: number;
  timeoutMs?: number;
}

export interface PacedResult {
  requests: number;
  events: number;
  acknowledgedEvents: number;
  /** Sum of `accepted` in the answers. */
  accepted: number;
  /** From the first POST to the last answer. */
  ms: number;
  /** Per delivery, `epochNow()` when its POST started. */
  startedAt: Float64Array;
  /** Per delivery, ms from the POST's start to the end of its answer. */
  latencies: Float64Array;
  /** Per delivery, how much later than due it started (the cap on requests in flight, or a busy loop). */
  lateMs: Float64Array;
  statuses: Record<string, number>;
  firstError?: string;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function sendPaced(options: PacedOptions): Promise<PacedResult> {
  const { port, deliveries, eventsPerSec, concurrency } = options;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });
  const startedAt = new Float64Array(deliveries.length).fill(Number.NaN);
  const latencies = new Float64Array(deliveries.length).fill(Number.NaN);
  const lateMs = new Float64Array(deliveries.length).fill(Number.NaN);
  const statuses: Record<string, number> = {};
  let acknowledgedEvents = 0;
  let accepted = 0;
  let firstError: string | undefined;
  const inFlight = new Set<Promise<void>>();

  const t0 = performance.now();
  let eventsBefore = 0;
  for (const [index, delivery] of deliveries.entries()) {
    const due = t0 + (eventsBefore / eventsPerSec) * 1000;
    eventsBefore += delivery.events;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait - 0.5);
    while (performance.now() < due) await new Promise<void>((resolve) => setImmediate(resolve));
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
    lateMs[index] = performance.now() - due;
    startedAt[index] = epochNow();
    const sent = performance.now();
    const request = post(agent, port, delivery, timeoutMs)
      .then(({ status, text }) => {
        statuses[status] = (statuses[status] ?? 0) + 1;
        if (status === 200) {
          acknowledgedEvents += delivery.events;
          accepted += (JSON.parse(text) as { accepted?: number }).accepted ?? 0;
        } else firstError ??= `HTTP ${status}: ${text.slice(0, 300)}`;
      })
      .catch((error: unknown) => {
        statuses.error = (statuses.error ?? 0) + 1;
        firstError ??= (error as Error).message;
      })
      .finally(() => {
        latencies[index] = performance.now() - sent;
        inFlight.delete(request);
      });
    inFlight.add(request);
  }
  await Promise.all(inFlight);
  const ms = performance.now() - t0;
  agent.destroy();
  return {
    requests: deliveries.length,
    events: eventsBefore,
    acknowledgedEvents,
    accepted,
    ms,
    startedAt,
    latencies,
    lateMs,
    statuses,
    ...(firstError ? { firstError } : {}),
  };
}
