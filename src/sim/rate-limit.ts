import type { Clock } from './clock.ts';
import { type RateLimitPolicy, rateLimited } from './errors.ts';

/** `190/10s`, `5/1s`, `100/500ms`, `1000/1m`; `off` (or `none`) disables. */
export interface RateLimitSpec {
  max: number;
  intervalMs: number;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseRateLimit(text: string): RateLimitSpec | null {
  const trimmed = text.trim().toLowerCase();
  if (trimmed === 'off' || trimmed === 'none') return null;
  const match = /^(\d+)\s*\/\s*(\d*)\s*(ms|s|m|h)$/.exec(trimmed);
  if (!match) throw new Error(`rate limit must look like 190/10s or off, got "${text}"`);
  const max = Number(match[1]);
  const count = match[2] === '' ? 1 : Number(match[2]);
  const intervalMs = count * (UNITS[match[3] as string] ?? 1000);
  if (max < 1 || intervalMs < 1) throw new Error(`rate limit must be positive, got "${text}"`);
  return { max, intervalMs };
}

/** Request times inside a rolling window: HubSpot's limits roll, they do not reset on a boundary. */
function createRollingWindow(spec: RateLimitSpec) {
  const times: number[] = [];
  let head = 0;
  return {
    spec,
    /** Records a request if one fits; answers how many remain after it. */
    take(now: number): { allowed: boolean; remaining: number } {
      while (head < times.length && (times[head] as number) <= now - spec.intervalMs) head++;
      if (head > 1024) {
        times.splice(0, head);
        head = 0;
      }
      const used = times.length - head;
      if (used >= spec.max) return { allowed: false, remaining: 0 };
      times.push(now);
      return { allowed: true, remaining: spec.max - used - 1 };
    },
  };
}

type RollingWindow = ReturnType<typeof createRollingWindow>;

export interface RateLimiterOptions {
  clock: Clock;
  /** Per private app (one per token): HubSpot's ten-secondly rolling limit, 100 or 190 per 10 s by tier. */
  api: RateLimitSpec | null;
  /** Per OAuth (public) app and installing portal: HubSpot gives 110 per 10 s. Absent: off. */
  oauth?: RateLimitSpec | null;
  /** Search's own budget (HubSpot: 5 a second per account). */
  search: RateLimitSpec | null;
  /** Requests a day per private app; OAuth apps have no daily cap. */
  daily: number | null;
}

export interface Caller {
  /** The bucket a request counts against. */
  key: string;
  oauth: boolean;
}

const DAY_MS = 86_400_000;

export function createRateLimiter(options: RateLimiterOptions) {
  const { clock } = options;
  let apiSpec = options.api;
  let oauthSpec = options.oauth ?? null;
  let searchSpec = options.search;
  let apiWindows = new Map<string, RollingWindow>();
  let oauthWindows = new Map<string, RollingWindow>();
  let searchWindows = new Map<string, RollingWindow>();
  const daily = new Map<string, { day: number; used: number }>();

  function windowFor(windows: Map<string, RollingWindow>, key: string, spec: RateLimitSpec): RollingWindow {
    let window = windows.get(key);
    if (!window) {
      window = createRollingWindow(spec);
      windows.set(key, window);
    }
    return window;
  }

  function deny(policy: RateLimitPolicy, headers: Record<string, string>): never {
    const error = rateLimited(policy);
    error.headers = headers;
    throw error;
  }

  return {
    /**
     * Counts one CRM call; returns the `X-HubSpot-RateLimit-*` headers for its answer, or throws a 429
     * (whose `extra.headers` carries the same headers).
     */
    checkApi(caller: Caller): Record<string, string> {
      const headers: Record<string, string> = {};
      const now = clock.now();
      // Each kind of app has its own limit, and the headers advertise the caller's own.
      const spec = caller.oauth ? oauthSpec : apiSpec;
      let rolling: { allowed: boolean; remaining: number } | null = null;
      if (spec) {
        rolling = windowFor(caller.oauth ? oauthWindows : apiWindows, caller.key, spec).take(now);
        headers['X-HubSpot-RateLimit-Interval-Milliseconds'] = String(spec.intervalMs);
        headers['X-HubSpot-RateLimit-Max'] = String(spec.max);
        headers['X-HubSpot-RateLimit-Remaining'] = String(rolling.remaining);
      }
      if (!caller.oauth && options.daily !== null && apiSpec) {
        const day = Math.floor(now / DAY_MS);
        let usage = daily.get(caller.key);
        if (!usage || usage.day !== day) {
          usage = { day, used: 0 };
          daily.set(caller.key, usage);
        }
        const dailyAllowed = usage.used < options.daily;
        if (dailyAllowed && rolling?.allowed !== false) usage.used++;
        headers['X-HubSpot-RateLimit-Daily'] = String(options.daily);
        headers['X-HubSpot-RateLimit-Daily-Remaining'] = String(Math.max(0, options.daily - usage.used));
        if (!dailyAllowed) deny('DAILY', headers);
      }
      if (rolling && !rolling.allowed) deny('TEN_SECONDLY_ROLLING', headers);
      return headers;
    },
    /** Search has its own secondly budget and sends no rate-limit headers. */
    checkSearch(caller: Caller): void {
      if (!searchSpec) return;
      if (!windowFor(searchWindows, caller.key, searchSpec).take(clock.now()).allowed) deny('SECONDLY', {});
    },
    /** The private apps' limit. */
    setApiLimit(spec: RateLimitSpec | null): void {
      apiSpec = spec;
      apiWindows = new Map();
    },
    setOAuthLimit(spec: RateLimitSpec | null): void {
      oauthSpec = spec;
      oauthWindows = new Map();
    },
    setSearchLimit(spec: RateLimitSpec | null): void {
      searchSpec = spec;
      searchWindows = new Map();
    },
    /** The private apps' limit. */
    get apiLimit(): RateLimitSpec | null {
      return apiSpec;
    },
    get oauthLimit(): RateLimitSpec | null {
      return oauthSpec;
    },
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;
