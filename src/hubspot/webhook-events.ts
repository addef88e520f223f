import { z } from 'zod';

/** The contact subscription types this service applies. https://developers.hubspot.com/docs/api/webhooks */
export const CONTACT_SUBSCRIPTION_TYPES = [
  'contact.creation',
  'contact.deletion',
  'contact.propertyChange',
  'contact.merge',
  'contact.restore',
  'contact.privacyDeletion',
  'contact.associationChange',
] as const;
export type ContactSubscriptionType = (typeof CONTACT_SUBSCRIPTION_TYPES)[number];

const id = z.number().int().positive();

/** One event of a delivery. Unknown fields are kept: HubSpot adds fields over time. */
export const WebhookEvent = z
  .object({
    eventId: z.number().int(),
    subscriptionId: z.number().int(),
    portalId: id,
    appId: z.number().int().optional(),
    occurredAt: z.number().int().positive(),
    subscriptionType: z.enum(CONTACT_SUBSCRIPTION_TYPES, {
      error: (issue) =>
        `subscriptionType ${JSON.stringify(issue.input)} is not a contact event this service applies`,
    }),
    attemptNumber: z.number().int().min(0).optional(),
    objectId: id,
    changeSource: z.string().optional(),
    changeFlag: z.string().optional(),
    sourceId: z.string().nullish(),
    propertyName: z.string().min(1).optional(),
    // HubSpot sends every value as a string; an emptied property arrives as "".
    propertyValue: z.string().optional(),
    primaryObjectId: id.optional(),
    mergedObjectIds: z.array(id).optional(),
    newObjectId: id.optional(),
    numberOfPropertiesMoved: z.number().int().optional(),
    associationType: z.string().optional(),
    fromObjectId: id.optional(),
    toObjectId: id.optional(),
    associationRemoved: z.boolean().optional(),
    isPrimaryAssociation: z.boolean().optional(),
  })
  .loose()
  .superRefine((event, ctx) => {
    if (event.subscriptionType === 'contact.propertyChange' && event.propertyName === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['propertyName'],
        message: 'a propertyChange event needs propertyName',
      });
    }
    if (
      event.subscriptionType === 'contact.merge' &&
      (!event.primaryObjectId || !event.mergedObjectIds?.length)
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['mergedObjectIds'],
        message: 'a merge event needs primaryObjectId and mergedObjectIds',
      });
    }
  });
export type WebhookEvent = z.infer<typeof WebhookEvent>;

export interface ParsedBatch {
  valid: WebhookEvent[];
  invalid: { index: number; payload: unknown; message: string }[];
}

/**
 * Validates each event on its own, so one malformed event never costs HubSpot the others.
 * Returns undefined when the body is not a JSON array at all.
 */
export function parseWebhookBatch(body: unknown): ParsedBatch | undefined {
  if (!Array.isArray(body)) return undefined;
  const parsed: ParsedBatch = { valid: [], invalid: [] };
  body.forEach((payload, index) => {
    const result = WebhookEvent.safeParse(payload);
    if (result.success) parsed.valid.push(result.data);
    else {
      const message = result.error.issues
        .map((i) => `${i.path.join('.') || 'event'}: ${i.message}`)
        .join('; ');
      parsed.invalid.push({ index, payload, message });
    }
  });
  return parsed;
}
