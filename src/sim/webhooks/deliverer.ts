import type { Random } from '../random.ts';
import type { WebhookEvent } from './events.ts';
import { type SignatureMode, signatureHeaders } from './signing.ts';

/**
 * Delivers events the way HubSpot does (https://developers.hubspot.com/docs/api/webhooks): POSTed JSON arrays of
 * at most `batchSize` events, at most `maxInFlight` requests at once, a `timeoutMs` answer timeout, and retries
 * with growing randomised delays up to `maxAttempts` tries, `attemptNumber` rising from 0. HubSpot's schedule
 * spreads 10 tries over about a day; here it is scaled so the first retry comes after `retryBaseMs`.
 */
export interface WebhookFaults {
  /** Share of events lost for good. */
  dropRate: number;
  /** Share of events sent twice. */
  duplicateRate: number;
  /** Events are held back a random 0..reorderWindowMs, so they arrive shuffled. */
  reorderWindowMs: number;
}

export interface DelivererOptions {
  url: string | null;
  clientSecret: string;
  signature: SignatureMode;
  batchSize: number;
  maxInFlight: number;
  timeoutMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  random: Random;
  faults: () => WebhookFaults;
  userAgent?: string;
}

export interface DeliveryStats {
  /** Events answered with a 2xx (duplicates count each time). */
  delivered: number;
  /** Events that used up every attempt. */
  failed: number;
  /** Events still owed: queued, waiting for a retry, or in flight. */
  pending: number;
  /** Events lost on purpose by `dropRate`. */
  dropped: number;
  /** POSTs made, retries included. */
  requests: number;
}

interface Pending {
  event: WebhookEvent;
  attempt: number;
  dueAt: number;
}

/** Puts `attemptNumber` where HubSpot puts it: right after `subscriptionType`. */
export function withAttemptNumber(event: WebhookEvent, attemptNumber: number): Record<string, unknown> {
  const { eventId, subscriptionId, portalId, appId, occurredAt, subscriptionType, ...rest } = event;
  return { eventId, subscriptionId, portalId, appId, occurredAt, subscriptionType, attemptNumber, ...rest };
}

export function createDeliverer(options: DelivererOptions) {
  const { random } = options;
  let url = options.url;
  let ready: Pending[] = [];
  let delayed: Pending[] = [];
  let inFlight = 0;
  let delivered = 0;
  let failed = 0;
  let dropped = 0;
  let requests = 0;
  let timer: NodeJS.Timeout | null = null;
  let timerAt = Number.POSITIVE_INFINITY;
  let pumpScheduled = false;
  let stopped = false;
  const abort = new AbortController();
  const drainWaiters: (() => void)[] = [];

  let inFlightEvents = 0;
  const pendingCount = () => ready.length + delayed.length + inFlightEvents;

  function stats(): DeliveryStats {
    return { delivered, failed, pending: pendingCount(), dropped, requests };
  }

  function settleDrains(): void {
    if (pendingCount() > 0 && !stopped) return;
    for (const resolve of drainWaiters.splice(0)) resolve();
  }

  function retryDelay(attempt: number): number {
    return options.retryBaseMs * 2 ** (attempt - 1) * (1 + random.next() * 0.5);
  }

  function schedulePump(): void {
    // Deferred so that the events of one tick travel together, as HubSpot batches them.
    if (pumpScheduled || stopped) return;
    pumpScheduled = true;
    setImmediate(() => {
      pumpScheduled = false;
      pump();
    });
  }

  function armTimer(): void {
    if (delayed.length === 0 || stopped) return;
    let earliest = Number.POSITIVE_INFINITY;
    for (const item of delayed) earliest = Math.min(earliest, item.dueAt);
    if (timer && timerAt <= earliest) return;
    if (timer) clearTimeout(timer);
    timerAt = earliest;
    timer = setTimeout(
      () => {
        timer = null;
        timerAt = Number.POSITIVE_INFINITY;
        pump();
      },
      Math.max(0, earliest - Date.now()),
    );
  }

  function pump(): void {
    if (stopped) return;
    const now = Date.now();
    if (delayed.length > 0) {
      const stillWaiting: Pending[] = [];
      for (const item of delayed) (item.dueAt <= now ? ready : stillWaiting).push(item);
      delayed = stillWaiting;
    }
    while (inFlight < options.maxInFlight && ready.length > 0) {
      const batch = ready.slice(0, options.batchSize);
      ready = ready.slice(batch.length);
      void send(batch);
    }
    armTimer();
    settleDrains();
  }

  async function send(batch: Pending[]): Promise<void> {
    inFlight++;
    inFlightEvents += batch.length;
    requests++;
    let ok = false;
    let retryAfterMs = 0;
    const target = url;
    try {
      if (!target) throw new Error('no webhook url');
      const body = JSON.stringify(batch.map((item) => withAttemptNumber(item.event, item.attempt)));
      const headers = signatureHeaders(options.signature, {
        secret: options.clientSecret,
        method: 'POST',
        uri: target,
        body,
        timestamp: Date.now(),
      });
      const response = await fetch(target, {
        method: 'POST',
        body,
        headers: {
          'Content-Type': 'application/json',
          'User-Agent': options.userAgent ?? 'HubSpot Connect 2.0 (http://dev.hubspot.com/)',
          ...headers,
        },
        signal: AbortSignal.any([abort.signal, AbortSignal.timeout(options.timeoutMs)]),
      });
      await response.arrayBuffer().catch(() => undefined);
      ok = response.status >= 200 && response.status < 300;
      const retryAfter = Number(response.headers.get('retry-after'));
      if (response.status === 429 && retryAfter > 0) retryAfterMs = retryAfter * 1000;
    } catch {
      ok = false;
    }
    inFlight--;
    inFlightEvents -= batch.length;
    if (stopped) return settleDrains();
    if (ok) {
      delivered += batch.length;
    } else {
      const now = Date.now();
      for (const item of batch) {
        const attempt = item.attempt + 1;
        if (attempt >= options.maxAttempts) {
          failed++;
          continue;
        }
        delayed.push({
          event: item.event,
          attempt,
          dueAt: now + Math.max(retryDelay(attempt), retryAfterMs),
        });
      }
    }
    pump();
  }

  return {
    enqueue(events: WebhookEvent[]): void {
      if (!url || stopped || events.length === 0) return;
      const faults = options.faults();
      const now = Date.now();
      for (const event of events) {
        if (faults.dropRate > 0 && random.chance(faults.dropRate)) {
          dropped++;
          continue;
        }
        const copies = faults.duplicateRate > 0 && random.chance(faults.duplicateRate) ? 2 : 1;
        for (let copy = 0; copy < copies; copy++) {
          const hold = faults.reorderWindowMs > 0 ? random.next() * faults.reorderWindowMs : 0;
          const item = { event, attempt: 0, dueAt: now + hold };
          (hold > 0 ? delayed : ready).push(item);
        }
      }
      schedulePump();
      armTimer();
    },
    /** Resolves once nothing is owed (or after `timeoutMs`), with the counts. */
    async drain(timeoutMs?: number): Promise<DeliveryStats> {
      if (pendingCount() > 0 && !stopped) {
        await new Promise<void>((resolve) => {
          drainWaiters.push(resolve);
          if (timeoutMs !== undefined) setTimeout(resolve, timeoutMs).unref();
        });
      }
      return stats();
    },
    stats,
    setUrl(next: string | null): void {
      url = next;
    },
    get url(): string | null {
      return url;
    },
    stop(): void {
      stopped = true;
      if (timer) clearTimeout(timer);
      abort.abort();
      ready = [];
      delayed = [];
      settleDrains();
    },
  };
}

export type Deliverer = ReturnType<typeof createDeliverer>;
