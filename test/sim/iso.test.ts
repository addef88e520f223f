import fc from 'fast-check';
import { expect, test } from 'vitest';
import { isoFromMs } from '../../src/sim/iso.ts';

test('isoFromMs formats every millisecond from 1970 to 9999 exactly like Date.toISOString', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 253_402_300_799_999 }), (ms) => {
      expect(isoFromMs(ms)).toBe(new Date(ms).toISOString());
    }),
    { numRuns: 20_000 },
  );
  for (const ms of [0, 951_782_400_000, 951_868_800_000, 1_709_164_800_000, 4_102_444_799_999]) {
    expect(isoFromMs(ms)).toBe(new Date(ms).toISOString());
  }
});
