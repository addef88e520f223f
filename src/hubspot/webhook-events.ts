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

const truncate = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}…` : text);

/** One event of a delivery. Unknown fields are kept: HubSpot adds fields over time. */
export const WebhookEvent = z
  .object({
    eventId: z.number().int(),
    subscriptionId: z.number().int(),
    portalId: id,
    appId: z.number().int().optional(),
    occurredAt: z.number().int().positive(),
    subscriptionType: z.enum(CONTACT_SUBSCRIPTION_TYPES, {
      // The input is the sender's text: shown cut short, since the message goes to the error log.
      error: (issue) =>
        `subscriptionType ${truncate(JSON.stringify(issue.input) ?? 'undefined', 60)} is not a contact event this service applies`,
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
    if (
      event.subscriptionType === 'contact.associationChange' &&
      (event.associationType === undefined || event.toObjectId === undefined)
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['toObjectId'],
        message: 'an associationChange event needs associationType and toObjectId',
      });
    }
  });
export type WebhookEvent = z.infer<typeof WebhookEvent>;

/** HubSpot sends "under 100" events a delivery: a longer array is not HubSpot, and is refused whole. */
export const MAX_EVENTS_PER_BATCH = 100;
/** A HubSpot event nests two levels (the event, `mergedObjectIds`); a little room for new fields, no more. */
export const MAX_EVENT_DEPTH = 8;
/** A whole body nested deeper than this is refused with a 400 (it is not HubSpot's, and would cost a stack). */
export const MAX_BODY_DEPTH = 64;
/**
 * An event "happening" more than this ahead of our clock is refused: applying keeps the newest `occurredAt`
 * per property, so a far-future value would pin the property against every real change after it.
 */
export const MAX_EVENT_FUTURE_MS = 5 * 60_000;

/** What is kept of an event that is refused: where it was and its identifiers, never its contact data. */
export interface InvalidEvent {
  index: number;
  message: string;
  eventId?: number;
  objectId?: number;
  subscriptionType?: string;
}

export interface ParsedBatch {
  valid: WebhookEvent[];
  invalid: InvalidEvent[];
}

export interface BatchRules {
  /** Our clock, epoch ms. */
  now: number;
  /** Refuse events older than this (set for deliveries signed without a timestamp, v1/v2). */
  maxAgeMs?: number | undefined;
}

/**
 * How deep a parsed JSON value nests, walked without recursion (a hostile body must not cost the stack);
 * stops counting once past `limit`.
 */
export function jsonDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (current === null || typeof current !== 'object') continue;
    const level = depth + 1;
    if (level > deepest) deepest = level;
    if (deepest > limit) return deepest;
    for (const child of Object.values(current)) stack.push([child, level]);
  }
  return deepest;
}

/**
 * Why PostgreSQL could not store this event as jsonb, if it could not: a lone UTF-16 surrogate (jsonb refuses
 * the escape JSON.stringify writes for it) or U+0000 in a key (NULs in values are dropped on parsing).
 */
function unstorable(event: unknown): string | undefined {
  const stack: unknown[] = [event];
  while (stack.length > 0) {
    const current = stack.pop();
    if (typeof current === 'string') {
      if (LONE_SURROGATE.test(current)) return 'a text value holds a lone UTF-16 surrogate';
      continue;
    }
    if (current === null || typeof current !== 'object') continue;
    for (const [key, child] of Object.entries(current)) {
      if (key.includes('\u0000')) return 'a field name holds U+0000';
      if (LONE_SURROGATE.test(key)) return 'a field name holds a lone UTF-16 surrogate';
      stack.push(child);
    }
  }
  return undefined;
}

// In a `u` regex a surrogate pair is one code point: only lone surrogates are in category Cs.
const LONE_SURROGATE = /\p{Cs}/u;

const safeNumber = (value: unknown) => (Number.isSafeInteger(value) ? (value as number) : undefined);

function identify(payload: unknown): Omit<InvalidEvent, 'index' | 'message'> {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return {};
  const { eventId, objectId, subscriptionType } = payload as Record<string, unknown>;
  const ids: Omit<InvalidEvent, 'index' | 'message'> = {};
  const event = safeNumber(eventId);
  const object = safeNumber(objectId);
  if (event !== undefined) ids.eventId = event;
  if (object !== undefined) ids.objectId = object;
  if (typeof subscriptionType === 'string' && !LONE_SURROGATE.test(subscriptionType))
    ids.subscriptionType = truncate(subscriptionType.replaceAll('\u0000', ''), 60);
  return ids;
}

function check(payload: unknown, { now, maxAgeMs }: BatchRules): WebhookEvent | string {
  if (jsonDepth(payload, MAX_EVENT_DEPTH) > MAX_EVENT_DEPTH)
    return `event: nested deeper than ${MAX_EVENT_DEPTH} levels`;
  const problem = unstorable(payload);
  if (problem) return `event: ${problem}`;
  const result = WebhookEvent.safeParse(payload);
  if (!result.success) {
    return result.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.join('.') || 'event'}: ${i.message}`)
      .join('; ');
  }
  const event = result.data;
  if (event.occurredAt - now > MAX_EVENT_FUTURE_MS)
    return `occurredAt: more than ${MAX_EVENT_FUTURE_MS / 60_000} minutes ahead of this server's clock`;
  if (maxAgeMs !== undefined && now - event.occurredAt > maxAgeMs)
    return `occurredAt: older than ${maxAgeMs / 3_600_000} hours, refused in a delivery signed without a timestamp (v1/v2)`;
  return event;
}

/**
 * Validates each event on its own, so one malformed event never costs HubSpot the others. The caller caps
 * the batch length first (MAX_EVENTS_PER_BATCH). Returns undefined when the body is not a JSON array at all.
 */
export function parseWebhookBatch(body: unknown, rules: BatchRules): ParsedBatch | undefined {
  if (!Array.isArray(body)) return undefined;
  const parsed: ParsedBatch = { valid: [], invalid: [] };
  body.forEach((payload, index) => {
    const result = check(payload, rules);
    if (typeof result === 'string')
      parsed.invalid.push({ index, message: truncate(result, 300), ...identify(payload) });
    else parsed.valid.push(result);
  });
  return parsed;
}
