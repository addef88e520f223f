export interface DeliveryGateOptions {
  /**
   * How long no delivery must have been in flight before the gate counts as quiet. Short: under a saturating
   * burst some delivery is always in flight, so this only has to bridge the gap between one answer and the
   * sender's next request; a longer one (50 ms was tried) starves apply when small deliveries come every
   * 20 ms, holding every change back for seconds.
   */
  quietMs?: number;
  now?: () => number;
}

/**
 * Counts webhook deliveries in flight so background work can give way to them. HubSpot sends at most 10
 * deliveries at once per portal and waits for each answer, so a slow answer slows every event behind it
 * (and past 5 seconds it is a timeout and a retry): when deliveries keep coming, answering them comes before
 * applying what they brought.
 * https://developers.hubspot.com/docs/api/webhooks#webhook-settings
 */
export function createDeliveryGate({ quietMs = 5, now = () => performance.now() }: DeliveryGateOptions = {}) {
  let inFlight = 0;
  let lastLeftAt = Number.NEGATIVE_INFINITY;
  let waiters: (() => void)[] = [];
  let check: NodeJS.Timeout | undefined;

  const isQuiet = () => inFlight === 0 && now() - lastLeftAt >= quietMs;

  function checkLater(): void {
    if (check || waiters.length === 0) return;
    check = setTimeout(
      () => {
        check = undefined;
        // Busy again: the delivery's end schedules the next look.
        if (inFlight > 0) return;
        if (!isQuiet()) return checkLater();
        const ready = waiters;
        waiters = [];
        for (const resolve of ready) resolve();
      },
      Math.max(1, quietMs - (now() - lastLeftAt)),
    );
  }

  return {
    /** A delivery arrived; call the returned function once it is answered. */
    enter(): () => void {
      inFlight++;
      let left = false;
      return () => {
        if (left) return;
        left = true;
        inFlight--;
        lastLeftAt = now();
        if (inFlight === 0) checkLater();
      };
    },
    /**
     * Resolves once no delivery has been in flight for `quietMs`, or after `maxWaitMs` at the latest: under
     * sustained load the work behind the gate still gets its turn.
     */
    quiet(maxWaitMs: number): Promise<void> {
      if (isQuiet()) return Promise.resolve();
      return new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters = waiters.filter((waiter) => waiter !== done);
          resolve();
        }, maxWaitMs);
        waiters.push(done);
        if (inFlight === 0) checkLater();
      });
    },
  };
}

export type DeliveryGate = ReturnType<typeof createDeliveryGate>;
