/** Time as the simulator sees it: pass a fake one in tests to expire tokens without sleeping. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
