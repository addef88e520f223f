/**
 * HubSpot's side of the traffic: `concurrency` senders over keep-alive node:http sockets, each taking the next
 * pre-signed delivery as soon as its previous one is answered. Only 127.0.0.1 is ever called.
 */
import http from 'node:http';
import { type Delivery, signDelivery } from './events.ts';

export interface LoadResult {
  requests: number;
  events: number;
  /** Events in deliveries answered 200. */
  acknowledgedEvents: number;
  ms: number;
  /** Per request, ms from write to the end of the answer, in send order. */
  latencies: Float64Array;
  statuses: Record<string, number>;
  /** Sum of `accepted` in the answers (the service reports it; the bare route reports received). */
  accepted: number;
  /** Deliveries signed again because their timestamp was getting close to HubSpot's 5-minute window. */
  resigned: number;
  firstError?: string;
  startedAt: number;
}

export interface LoadOptions {
  port: number;
  deliveries: readonly Delivery[];
  concurrency: number;
  /** The URL the receiver checks the v3 signature against. */
  signedUrl: string;
  timeoutMs?: number;
  /** Stop sending after this long, whatever is left (a bound on a broken run). */
  maxMs?: number;
}

const RESIGN_AFTER_MS = 4 * 60_000;

/** One delivery POSTed to 127.0.0.1:`port`; resolves with the answer's status and body. */
export function post(
  agent: http.Agent,
  port: number,
  delivery: Delivery,
  timeoutMs: number,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/webhooks/hubspot',
        method: 'POST',
        agent,
        headers: delivery.headers,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        response.on('error', reject);
      },
    );
    request.setTimeout(timeoutMs, () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
    request.end(delivery.body);
  });
}

export async function sendAll(options: LoadOptions): Promise<LoadResult> {
  const { port, deliveries, concurrency, signedUrl } = options;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxMs = options.maxMs ?? 15 * 60_000;
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });
  const latencies = new Float64Array(deliveries.length).fill(Number.NaN);
  const statuses: Record<string, number> = {};
  let nextIndex = 0;
  let acknowledgedEvents = 0;
  let accepted = 0;
  let resigned = 0;
  let firstError: string | undefined;
  const startedAt = performance.now();

  async function sender(): Promise<void> {
    while (nextIndex < deliveries.length && performance.now() - startedAt < maxMs) {
      const index = nextIndex++;
      const delivery = deliveries[index] as Delivery;
      if (Date.now() - delivery.signedAt > RESIGN_AFTER_MS) {
        signDelivery(delivery, signedUrl);
        resigned++;
      }
      const sent = performance.now();
      try {
        const { status, text } = await post(agent, port, delivery, timeoutMs);
        latencies[index] = performance.now() - sent;
        statuses[status] = (statuses[status] ?? 0) + 1;
        if (status === 200) {
          acknowledgedEvents += delivery.events;
          const answer = JSON.parse(text) as { accepted?: number; received?: number };
          accepted += answer.accepted ?? answer.received ?? 0;
        } else firstError ??= `HTTP ${status}: ${text.slice(0, 300)}`;
      } catch (error) {
        latencies[index] = performance.now() - sent;
        statuses.error = (statuses.error ?? 0) + 1;
        firstError ??= (error as Error).message;
      }
    }
  }

  await Promise.all(Array.from({ length: concurrency }, sender));
  const ms = performance.now() - startedAt;
  agent.destroy();
  const sentCount = Math.min(nextIndex, deliveries.length);
  return {
    requests: sentCount,
    events: deliveries.slice(0, sentCount).reduce((sum, d) => sum + d.events, 0),
    acknowledgedEvents,
    ms,
    latencies: latencies.slice(0, sentCount),
    statuses,
    accepted,
    resigned,
    ...(firstError ? { firstError } : {}),
    startedAt,
  };
}

/** The q-quantile (0..1) of the finite values, nearest-rank. */
export function quantile(values: Float64Array, q: number): number {
  const sorted = values.filter(Number.isFinite).sort();
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}
