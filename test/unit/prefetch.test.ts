import { describe, expect, test } from 'vitest';
import { prefetched } from '../../src/sync/sweep/prefetch.ts';

async function* numbers(count: number, read: number[], failAt?: number) {
  for (let i = 0; i < count; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    if (i === failAt) throw new Error(`page ${i} failed`);
    read.push(i);
    yield i;
  }
}

describe('prefetched', () => {
  test('hands over every item once, in order, grouping what was read ahead', async () => {
    const groups: number[][] = [];
    for await (const group of prefetched(numbers(20, []), 4)) {
      groups.push(group);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    expect(groups.flat()).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(groups.some((g) => g.length > 1)).toBe(true);
    expect(Math.max(...groups.map((g) => g.length))).toBeLessThanOrEqual(4);
  });

  test('never reads more than `depth` items ahead, and stops reading when the consumer leaves', async () => {
    const read: number[] = [];
    for await (const group of prefetched(numbers(100, read), 3)) {
      if (group.includes(0)) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        expect(read.length).toBeLessThanOrEqual(1 + 3 + 1);
        break;
      }
    }
    const afterLeaving = read.length;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(read.length).toBe(afterLeaving);
    expect(afterLeaving).toBeLessThan(10);
  });

  test('items read before a failure are handed over, then the failure is thrown', async () => {
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const group of prefetched(numbers(10, [], 5), 2)) seen.push(...group);
      })(),
    ).rejects.toThrow('page 5 failed');
    expect(seen).toEqual([0, 1, 2, 3, 4]);
  });
});
