import { describe, expect, test } from 'vitest';
import { progressOf } from '../../src/sync/sessions/progress.ts';

const start = '2026-01-01T00:00:00.000Z';
const at = (seconds: number) => Date.parse(start) + seconds * 1000;
const running = { status: 'running', startTime: start, endTime: null, phase: 'live' };

describe('sweep progress', () => {
  test('rate is the average so far; the ETA is what remains of the total at that rate', () => {
    expect(progressOf({ ...running, seen: 2_000, total: 10_000 }, at(10))).toEqual({
      phase: 'live',
      done: 2_000,
      total: 10_000,
      percent: 20,
      ratePerSecond: 200,
      etaSeconds: 40,
    });
  });

  test('no rate in the first second, and no ETA without a total', () => {
    const early = progressOf({ ...running, seen: 100, total: 10_000 }, at(0.5));
    expect([early.ratePerSecond, early.etaSeconds, early.percent]).toEqual([null, null, 1]);
    const unknown = progressOf({ ...running, seen: 500, total: null }, at(5));
    expect([unknown.ratePerSecond, unknown.etaSeconds, unknown.percent]).toEqual([100, null, null]);
  });

  test('reading past the total stops short of 100% until the sweep completes', () => {
    const over = progressOf({ ...running, seen: 1_200, total: 1_000 }, at(10));
    expect([over.percent, over.etaSeconds]).toEqual([99, 0]);
    const done = progressOf(
      { ...running, status: 'completed', endTime: '2026-01-01T00:00:20.000Z', seen: 1_200, total: 1_000 },
      at(99),
    );
    // A finished sweep's rate is over its own duration, not until now.
    expect([done.percent, done.etaSeconds, done.ratePerSecond]).toEqual([100, 0, 60]);
  });

  test('a failed sweep keeps its percentage and has no ETA', () => {
    const failed = progressOf(
      { ...running, status: 'failed', endTime: '2026-01-01T00:00:10.000Z', seen: 500, total: 1_000 },
      at(60),
    );
    expect([failed.percent, failed.etaSeconds]).toEqual([50, null]);
  });
});
