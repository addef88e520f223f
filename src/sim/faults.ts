import { z } from 'zod';
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
  })
  .partial()
  .strict();

export type FaultsPatch = z.infer<typeof FaultsPatch>;

export interface Faults extends WebhookFaults {
  /** Added to every API answer. */
  latencyMs: number;
  /** Share of API requests answered with a 5xx. */
  errorRate: number;
}

export function createFaults(): Faults {
  return { latencyMs: 0, errorRate: 0, dropRate: 0, duplicateRate: 0, reorderWindowMs: 0 };
}
