import { describe, expect, test, vi } from 'vitest';
import { createDeliveryGate } from '../../src/webhooks/delivery-gate.ts';

describe('the delivery gate', () => {
  test('is quiet at once when no delivery has been seen', async () => {
    const gate = createDeliveryGate({ quietMs: 50 });
    await expect(gate.quiet(10_000)).resolves.toBeUndefined();
  });

  test('opens only once no delivery has been in flight for the quiet period', async () => {
    vi.useFakeTimers();
    try {
      let clock = 0;
      const gate = createDeliveryGate({ quietMs: 50, now: () => clock });
      const first = gate.enter();
      const second = gate.enter();
      let opened = false;
      void gate.quiet(10_000).then(() => {
        opened = true;
      });
      first();
      clock = 100;
      await vi.advanceTimersByTimeAsync(100);
      expect(opened).toBe(false);
      second();
      clock = 130;
      await vi.advanceTimersByTimeAsync(30);
      expect(opened).toBe(false);
      // A new delivery inside the quiet period starts it again.
      const third = gate.enter();
      third();
      clock = 160;
      await vi.advanceTimersByTimeAsync(30);
      expect(opened).toBe(false);
      clock = 220;
      await vi.advanceTimersByTimeAsync(60);
      expect(opened).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  test('gives way after the longest wait even if deliveries never stop', async () => {
    vi.useFakeTimers();
    try {
      const gate = createDeliveryGate({ quietMs: 50, now: () => 0 });
      gate.enter();
      let opened = false;
      void gate.quiet(1_000).then(() => {
        opened = true;
      });
      await vi.advanceTimersByTimeAsync(999);
      expect(opened).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      expect(opened).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  test('by default, small deliveries every 20 ms leave room to apply between them', async () => {
    vi.useFakeTimers();
    try {
      let clock = 0;
      const gate = createDeliveryGate({ now: () => clock });
      let openedAt: number | undefined;
      // Each delivery is answered in 3 ms; the next comes 17 ms later.
      const deliverEvery20ms = async () => {
        for (let i = 0; i < 50 && openedAt === undefined; i++) {
          const leave = gate.enter();
          clock += 3;
          await vi.advanceTimersByTimeAsync(3);
          leave();
          clock += 17;
          await vi.advanceTimersByTimeAsync(17);
        }
      };
      const delivering = deliverEvery20ms();
      await vi.advanceTimersByTimeAsync(1);
      void gate.quiet(10_000).then(() => {
        openedAt = clock;
      });
      await delivering;
      expect(openedAt).toBeDefined();
      expect(openedAt).toBeLessThan(50);
    } finally {
      vi.useRealTimers();
    }
  });
});
