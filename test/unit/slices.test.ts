import { describe, expect, test } from 'vitest';
import { inSlices } from '../../src/db/query.ts';

describe('inSlices', () => {
  test('sends every row once, in order, 100 at most a statement, all before the first answer', async () => {
    const rows = Array.from({ length: 250 }, (_, i) => i);
    const sent: number[][] = [];
    let answered = 0;
    const result = await inSlices(rows, async (slice) => {
      sent.push([...slice]);
      // Every slice is sent before any answer comes back: they share one round trip when pipelined.
      expect(answered).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 5));
      answered++;
      return slice.map((row) => row * 2);
    });
    expect(sent.map((slice) => slice.length)).toEqual([100, 100, 50]);
    expect(sent.flat()).toEqual(rows);
    expect(result).toEqual(rows.map((row) => row * 2));
  });

  test('a small batch is one statement', async () => {
    let calls = 0;
    await inSlices([1, 2, 3], async (slice) => {
      calls++;
      return [...slice];
    });
    expect(calls).toBe(1);
  });
});
