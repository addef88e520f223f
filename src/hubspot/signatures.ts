import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * HubSpot webhook signatures, all three versions.
 * https://developers.hubspot.com/docs/apps/legacy-apps/authentication/validating-requests
 */

export const SIGNATURE_MAX_AGE_MS = 5 * 60_000;

export interface SignedRequest {
  method: string;
  /** The full URL HubSpot called: scheme, host, port, path and query. */
  url: string;
  rawBody: Buffer;
  headers: Record<string, string | string[] | undefined>;
}

export type SignatureCheck =
  | { ok: true; version: 'v1' | 'v2' | 'v3' }
  | { ok: false; reason: string; version?: 'v1' | 'v2' | 'v3' };

const header = (headers: SignedRequest['headers'], name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
};

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

// v3 hashes the URI with these escapes decoded (HubSpot's docs list exactly these).
const V3_DECODED_ESCAPES: Record<string, string> = {
  '%3A': ':',
  '%2F': '/',
  '%3F': '?',
  '%40': '@',
  '%21': '!',
  '%24': '$',
  '%27': "'",
  '%28': '(',
  '%29': ')',
  '%2A': '*',
  '%2C': ',',
  '%3B': ';',
};

export function decodeV3Uri(uri: string): string {
  return uri.replace(
    /%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi,
    (encoded) => V3_DECODED_ESCAPES[encoded.toUpperCase()] ?? encoded,
  );
}

export function signV1(secret: string, rawBody: Buffer | string): string {
  return createHash('sha256').update(secret).update(rawBody).digest('hex');
}

export function signV2(secret: string, method: string, uri: string, rawBody: Buffer | string): string {
  return createHash('sha256').update(secret).update(method).update(uri).update(rawBody).digest('hex');
}

export function signV3(
  secret: string,
  method: string,
  uri: string,
  rawBody: Buffer | string,
  timestamp: string,
): string {
  return createHmac('sha256', secret)
    .update(method)
    .update(decodeV3Uri(uri))
    .update(rawBody)
    .update(timestamp)
    .digest('base64');
}

/**
 * Checks a delivery's signature. v3 is preferred whenever its headers are present (webhook deliveries carry
 * v1 and v3 together); v1/v2 are the fallback for older apps and workflow webhooks.
 */
export function verifySignature(request: SignedRequest, secret: string, now: number): SignatureCheck {
  const v3 = header(request.headers, 'x-hubspot-signature-v3');
  const timestamp = header(request.headers, 'x-hubspot-request-timestamp');
  if (v3 !== undefined || timestamp !== undefined) {
    if (!v3 || !timestamp)
      return { ok: false, version: 'v3', reason: 'v3 signature or timestamp header missing' };
    const sentAt = Number(timestamp);
    if (!/^\d+$/.test(timestamp) || !Number.isSafeInteger(sentAt)) {
      return { ok: false, version: 'v3', reason: 'X-HubSpot-Request-Timestamp is not epoch milliseconds' };
    }
    if (now - sentAt > SIGNATURE_MAX_AGE_MS)
      return { ok: false, version: 'v3', reason: 'timestamp older than 5 minutes' };
    // HubSpot sets no future bound; refusing one is our own hardening against replays signed ahead of time.
    if (sentAt - now > SIGNATURE_MAX_AGE_MS)
      return { ok: false, version: 'v3', reason: 'timestamp more than 5 minutes ahead' };
    const expected = Buffer.from(
      signV3(secret, request.method, request.url, request.rawBody, timestamp),
      'base64',
    );
    // Some proxies turn the `+` of base64 into a space.
    const given = Buffer.from(v3.trim().replaceAll(' ', '+'), 'base64');
    return sameBytes(given, expected)
      ? { ok: true, version: 'v3' }
      : { ok: false, version: 'v3', reason: 'v3 signature mismatch' };
  }

  const signature = header(request.headers, 'x-hubspot-signature');
  if (!signature) return { ok: false, reason: 'no HubSpot signature headers' };
  const version = (header(request.headers, 'x-hubspot-signature-version') ?? 'v1').toLowerCase();
  if (version !== 'v1' && version !== 'v2')
    return { ok: false, reason: `unknown signature version ${version}` };
  const expectedHex =
    version === 'v1'
      ? signV1(secret, request.rawBody)
      : signV2(secret, request.method, request.url, request.rawBody);
  const given = /^[0-9a-f]{64}$/i.test(signature.trim())
    ? Buffer.from(signature.trim().toLowerCase(), 'hex')
    : Buffer.alloc(0);
  return sameBytes(given, Buffer.from(expectedHex, 'hex'))
    ? { ok: true, version }
    : { ok: false, version, reason: `${version} signature mismatch` };
}
