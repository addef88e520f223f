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

export type SignatureVersion = 'v1' | 'v2' | 'v3';

/** Only v3 signs a timestamp; v1 and v2 can be replayed, so they are accepted only where configured. */
export const DEFAULT_SIGNATURE_VERSIONS: readonly SignatureVersion[] = ['v3'];

export type SignatureCheck =
  | { ok: true; version: 'v1' | 'v2' | 'v3' }
  | { ok: false; reason: string; version?: 'v1' | 'v2' | 'v3' };

const header = (headers: SignedRequest['headers'], name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/**
 * Constant-time equality of two whole values. The length check matters: timingSafeEqual throws on unequal
 * lengths, and comparing only a common prefix would let an empty or cut signature through.
 */
function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && a.length > 0 && timingSafeEqual(a, b);
}

// A SHA-256 in base64 is exactly 43 characters and one `=`; a Buffer decodes anything (skipping what is not
// base64), so the text is checked first.
const BASE64_SHA256 = /^[A-Za-z0-9+/]{43}=$/;
const HEX_SHA256 = /^[0-9a-f]{64}$/i;

/**
 * Which version a request claims, from its headers alone: lets a delivery be refused before its body is
 * read. v3 wins when any of its headers is there, as in verifySignature.
 */
export function claimedSignatureVersion(headers: SignedRequest['headers']): SignatureVersion | undefined {
  if (header(headers, 'x-hubspot-signature-v3') || header(headers, 'x-hubspot-request-timestamp'))
    return 'v3';
  if (!header(headers, 'x-hubspot-signature')) return undefined;
  const version = (header(headers, 'x-hubspot-signature-version') ?? 'v1').toLowerCase();
  return version === 'v1' || version === 'v2' ? version : undefined;
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
export function verifySignature(
  request: SignedRequest,
  secret: string,
  now: number,
  accepted: readonly SignatureVersion[] = DEFAULT_SIGNATURE_VERSIONS,
): SignatureCheck {
  const v3 = header(request.headers, 'x-hubspot-signature-v3');
  const timestamp = header(request.headers, 'x-hubspot-request-timestamp');
  if (v3 !== undefined || timestamp !== undefined) {
    if (!v3 || !timestamp)
      return { ok: false, version: 'v3', reason: 'v3 signature or timestamp header missing' };
    if (!accepted.includes('v3'))
      return {
        ok: false,
        version: 'v3',
        reason: 'v3 signatures are not accepted (WEBHOOK_SIGNATURE_VERSIONS)',
      };
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
    const text = v3.trim().replaceAll(' ', '+');
    const given = BASE64_SHA256.test(text) ? Buffer.from(text, 'base64') : Buffer.alloc(0);
    return sameBytes(given, expected)
      ? { ok: true, version: 'v3' }
      : { ok: false, version: 'v3', reason: 'v3 signature mismatch' };
  }

  const signature = header(request.headers, 'x-hubspot-signature');
  if (!signature) return { ok: false, reason: 'no HubSpot signature headers' };
  const version = (header(request.headers, 'x-hubspot-signature-version') ?? 'v1').toLowerCase();
  if (version !== 'v1' && version !== 'v2')
    return { ok: false, reason: `unknown signature version ${version}` };
  // v1 and v2 sign no time: a captured delivery (v3 headers stripped) could be replayed for ever.
  if (!accepted.includes(version))
    return {
      ok: false,
      version,
      reason: `${version} signatures are not accepted (WEBHOOK_SIGNATURE_VERSIONS)`,
    };
  const expectedHex =
    version === 'v1'
      ? signV1(secret, request.rawBody)
      : signV2(secret, request.method, request.url, request.rawBody);
  const given = HEX_SHA256.test(signature.trim())
    ? Buffer.from(signature.trim().toLowerCase(), 'hex')
    : Buffer.alloc(0);
  return sameBytes(given, Buffer.from(expectedHex, 'hex'))
    ? { ok: true, version }
    : { ok: false, version, reason: `${version} signature mismatch` };
}
