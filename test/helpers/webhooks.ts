import { createHmac } from 'node:crypto';

export const WEBHOOK_SECRET = 'test-client-secret-0123456789';
export const PORTAL_ID = 62515;
export const WEBHOOK_PATH = '/webhooks/hubspot';

let nextEventId = 1;

/** A HubSpot contact event as deliveries carry it; fields not given get realistic values. */
export function hubspotEvent(
  fields: Record<string, unknown> & { subscriptionType: string; objectId: number },
) {
  return {
    eventId: nextEventId++,
    subscriptionId: 1000 + fields.subscriptionType.length,
    portalId: PORTAL_ID,
    appId: 54321,
    occurredAt: Date.now(),
    attemptNumber: 0,
    changeSource: 'CRM',
    ...fields,
  };
}

/**
 * Headers HubSpot sends with a delivery: v3 (HMAC-SHA256 of method + URL + body + timestamp, base64) and v1.
 * Written here from HubSpot's docs rather than borrowed from the service, so the two check each other.
 */
/** A `contact.propertyChange` event: `propertyName` set to `propertyValue` at `occurredAt` (epoch ms). */
export const propertyChange = (
  objectId: number,
  occurredAt: number,
  propertyName: string,
  propertyValue: string,
) =>
  hubspotEvent({
    subscriptionType: 'contact.propertyChange',
    objectId,
    occurredAt,
    propertyName,
    propertyValue,
  });

export function signedHeaders(
  body: string,
  url: string,
  { secret = WEBHOOK_SECRET, timestamp = Date.now() } = {},
) {
  const v3 = createHmac('sha256', secret).update(`POST${url}${body}${timestamp}`).digest('base64');
  return {
    'content-type': 'application/json',
    'x-hubspot-signature-v3': v3,
    'x-hubspot-request-timestamp': String(timestamp),
  };
}

/** An inject() request for a signed delivery to a test app (whose URL is http://localhost:80). */
export function delivery(
  events: unknown[],
  options: { secret?: string; timestamp?: number; url?: string } = {},
) {
  const payload = JSON.stringify(events);
  const url = options.url ?? `http://localhost:80${WEBHOOK_PATH}`;
  return {
    method: 'POST' as const,
    url: WEBHOOK_PATH,
    payload,
    headers: signedHeaders(payload, url, options),
  };
}
