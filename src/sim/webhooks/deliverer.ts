import type { Random } from '../random.ts';
import { createDueQueue } from './due-queue.ts';
import type { WebhookEvent } from './events.ts';
import type { RetrySchedule } from './retry-schedule.ts';
import { type SignatureMode, signatureHeaders } from './signing.ts';

/**
 * Delivers events the way HubSpot does (https://developers.hubspot.com/docs/api-reference/latest/webhooks/guide):
 * POSTed JSON arrays of at most `batchSize` events, at most `maxInFlight` requests at once, a `timeoutMs` answer
 * timeout, and retries on HubSpot's schedule (see retry-schedule.ts) with `attemptNumber` rising from 0.
 */
export interface WebhookFaults {
  /** Share of events lost for good. */
  dropRate: number;
  /** Share of events sent twice. */
  duplicateRate: number;
  /**
   * Events are held back a random 0..reorderWindowMs, so they arrive shuffled: HubSpot promises no order, and
   * batches sent side by side finish in any order. 0 keeps the order the changes were made in.
   */
  reorderWindowMs: number;
  /** Share of events joined by an event of another portal that installed the same app (see foreign-portals.ts). */
  foreignPortalRate: number;
}

export interface DelivererOptions {
  url: string | null;
  /**
   * The URL the signatures name, when it is not the one POSTed to: HubSpot signs the target URL it was configured
   * with, while a TLS-terminating proxy in front of the receiver forwards to an internal address.
   */
  signedUrl?: string | null;
  clientSecret: string;
  signature: SignatureMode;
  batchSize: number;
  maxInFlight: number;
  timeoutMs: number;
  retry: RetrySchedule;
  random: Random;
  faults: () => WebhookFaults;
  /** Makes another portal's copy of an event, for `foreignPortalRate`. */
  foreignEvent?: (event: WebhookEvent) => WebhookEvent;
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
  /** Tries made so far; the next one carries it as `attemptNumber`. */
  attempt: number;
  dueAt: number;
}

/** Puts `attemptNumber` where HubSpot puts it: right after `subscriptionType`. */
export function withAttemptNumber(event: WebhookEvent, attemptNumber: number): Record<string, unknown> {
  const { eventId, subscriptionId, portalId, appId, occurredAt, subscriptionType, ...rest } = event;
  return { eventId, subscriptionId, portalId, appId, occurredAt, subscriptionType, attemptNumber, ...rest };
}

/** A 429 may name its own wait; HubSpot has honoured it (https://community.hubspot.com/t5/APIs-Integrations/Webhooks-response/m-p/277653). */
function retryAfterMs(response: Response): number {
  if (response.status !== 429) return 0;
  const seconds = Number(response.headers.get('retry-after'));
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 0;
}

export function createDeliverer(options: DelivererOptions) {
  const { random } = options;
  let url = options.url;
  let ready: Pending[] = [];
  const delayed = createDueQueue<Pending>();
  let inFlight = 0;
  let inFlightEvents = 0;
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

  const pendingCount = () => ready.length + delayed.size + inFlightEvents;

  function stats(): DeliveryStats {
    return { delivered, failed, pending: pendingCount(), dropped, requests };
  }

  function settleDrains(): void {
    if (pendingCount() > 0 && !stopped) return;
    for (const resolve of drainWaiters.splice(0)) resolve();
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
    const earliest = delayed.nextDueAt;
    if (earliest === undefined || stopped) return;
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
    for (const item of delayed.takeDue(Date.now())) ready.push(item);
    while (inFlight < options.maxInFlight && ready.length > 0) {
      const batch = ready.slice(0, options.batchSize);
      ready = ready.slice(batch.length);
      void send(batch);
    }
    armTimer();
    settleDrains();
  }

  /** Whether the receiver took the batch; a failure is a connection error, a timeout or any non-2xx answer. */
  async function post(target: string, batch: Pending[]): Promise<{ ok: boolean; waitAtLeastMs: number }> {
    const body = JSON.stringify(batch.map((item) => withAttemptNumber(item.event, item.attempt)));
    const headers = signatureHeaders(options.signature, {
      secret: options.clientSecret,
      method: 'POST',
      uri: options.signedUrl ?? target,
      body,
      timestamp: Date.now(),
    });
    try {
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
      return { ok: response.status >= 200 && response.status < 300, waitAtLeastMs: retryAfterMs(response) };
    } catch {
      return { ok: false, waitAtLeastMs: 0 };
    }
  }

  async function send(batch: Pending[]): Promise<void> {
    inFlight++;
    inFlightEvents += batch.length;
    requests++;
    const outcome = url ? await post(url, batch) : { ok: false, waitAtLeastMs: 0 };
    inFlight--;
    inFlightEvents -= batch.length;
    if (stopped) return settleDrains();
    if (outcome.ok) {
      delivered += batch.length;
    } else {
      // Today's docs retry every 4xx and 5xx alike, as well as connection failures and timeouts
      // (https://developers.hubspot.com/docs/api-reference/latest/webhooks/guide); older docs spared
      // 400, 401, 403, 404 and 405, which HubSpot no longer lists.
      const now = Date.now();
      for (const item of batch) {
        const attempt = item.attempt + 1;
        if (!options.retry.hasAnotherAttempt(attempt)) {
          failed++;
          continue;
        }
        const wait = Math.max(options.retry.delayMs(attempt), outcome.waitAtLeastMs);
        delayed.push({ event: item.event, attempt, dueAt: now + wait });
      }
    }
    pump();
  }

  function hold(item: Pending): void {
    if (item.dueAt > Date.now()) delayed.push(item);
    else ready.push(item);
  }

  return {
    enqueue(events: WebhookEvent[]): void {
      if (!url || stopped || events.length === 0) return;
      const faults = options.faults();
      const now = Date.now();
      const heldFor = () => (faults.reorderWindowMs > 0 ? random.next() * faults.reorderWindowMs : 0);
      for (const event of events) {
        if (faults.dropRate > 0 && random.chance(faults.dropRate)) {
          dropped++;
          continue;
        }
        const copies = faults.duplicateRate > 0 && random.chance(faults.duplicateRate) ? 2 : 1;
        for (let copy = 0; copy < copies; copy++) hold({ event, attempt: 0, dueAt: now + heldFor() });
        if (options.foreignEvent && faults.foreignPortalRate > 0 && random.chance(faults.foreignPortalRate)) {
          hold({ event: options.foreignEvent(event), attempt: 0, dueAt: now + heldFor() });
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
      delayed.clear();
      settleDrains();
    },
  };
}

export type Deliverer = ReturnType<typeof createDeliverer>;
