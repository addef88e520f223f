import { z } from 'zod';
import { createGatewayFaults, type GatewayFaults, GatewayPatch } from './gateway-faults.ts';
import type { WebhookFaults } from './webhooks/deliverer.ts';

/** What `/__sim/faults` can switch on; every field is optional and only those given change. */
export const FaultsPatch = z
  .object({
    latencyMs: z.number().min(0).max(60_000),
    errorRate: z.number().min(0).max(1),
    /** The private apps' ten-secondly limit. */
    rateLimit: z.string(),
    // Not in CONTRACT.md: the OAuth app's ten-secondly limit (HubSpot: 110/10s).
    oauthRateLimit: z.string(),
    dropRate: z.number().min(0).max(1),
    duplicateRate: z.number().min(0).max(1),
    reorderWindowMs: z.number().min(0).max(600_000),
    // Not in CONTRACT.md: how far search trails writes.
    searchLagMs: z.number().min(0).max(600_000),
    // Not in CONTRACT.md: events of other portals that installed the app, mixed into the batches.
    foreignPortalRate: z.number().min(0).max(1),
    // Not in CONTRACT.md: the CDN in front of the API failing (see gateway-faults.ts); only the fields given change.
    gateway: GatewayPatch,
  })
  .partial()
  .strict();

export type FaultsPatch = z.infer<typeof FaultsPatch>;

export interface Faults extends WebhookFaults {
  /** Added to every API answer. */
  latencyMs: number;
  /** Share of API requests answered with a 5xx. */
  errorRate: number;
  gateway: GatewayFaults;
}

/**
 * HubSpot guarantees no delivery order (https://developers.hubspot.com/docs/api-reference/latest/webhooks/guide),
 * so by default events are held back up to this long and arrive naturally shuffled.
 */
export const DEFAULT_REORDER_WINDOW_MS = 400;

export function createFaults(): Faults {
  return {
    latencyMs: 0,
    errorRate: 0,
    dropRate: 0,
    duplicateRate: 0,
    reorderWindowMs: DEFAULT_REORDER_WINDOW_MS,
    foreignPortalRate: 0,
    gateway: createGatewayFaults(),
  };
}
