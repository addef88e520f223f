import { onTestFailed } from 'vitest';

/** The run's seed: CHAOS_SEED to replay a failure, otherwise a fresh one. Printed when the test fails. */
export function chaosSeed(): number {
  const given = process.env.CHAOS_SEED;
  const seed = given ? Number(given) : Math.floor(Math.random() * 2 ** 31);
  if (!Number.isInteger(seed)) throw new Error(`CHAOS_SEED must be an integer, got "${given}"`);
  onTestFailed(() => {
    console.error(`chaos seed ${seed}: replay with CHAOS_SEED=${seed}`);
  });
  return seed;
}

/** mulberry32: a small, fast, seedable generator; every random choice of a chaos run comes from it. */
export function seededRandom(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  return {
    next,
    /** A whole number in [min, max]. */
    between: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
  };
}
