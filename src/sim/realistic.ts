import type { GatewayPatch } from './gateway-faults.ts';

/**
 * HubSpot as it behaves in production, which the service's integration stack, `npm run demo` and the benches run
 * against. The simulator's own defaults already deliver webhooks shuffled (no ordering guarantee), make a third of
 * portal activity engagement that moves `lastmodifieddate` without a webhook, and merge the way HubSpot does
 * (additional emails, furthest lifecycle stage, oldest create date); these add what a test must be able to switch off.
 */

/** HubSpot's search shows writes "a few moments" after they happen: two seconds, the simulator's default. */
export const REALISTIC_SEARCH_LAG_MS = 2_000;

/** The edge in front of HubSpot's API fails now and then, in short runs: 502/504 pages, empty bodies, hangs. */
export const REALISTIC_GATEWAY: GatewayPatch = {
  rate: 0.004,
  burst: 3,
  hangRate: 0.05,
  body: 'mixed',
  status: 'mixed',
};
