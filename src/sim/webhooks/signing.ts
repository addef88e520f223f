import { createHash, createHmac } from 'node:crypto';

/**
 * HubSpot's webhook signatures (https://developers.hubspot.com/docs/api/webhooks/validating-requests).
 * v1: sha256 hex of secret + body. v2: sha256 hex of secret + method + uri + body.
 * v3: base64 HMAC-SHA256 keyed by the secret over method + uri + body + timestamp.
 */
export type SignatureMode = 'both' | 'v3' | 'v2' | 'v1';

export function signV1(secret: string, body: string): string {
  return createHash('sha256')
    .update(secret + body, 'utf8')
    .digest('hex');
}

export function signV2(secret: string, method: string, uri: string, body: string): string {
  return createHash('sha256')
    .update(secret + method + uri + body, 'utf8')
    .digest('hex');
}

// HubSpot decodes these escapes in the URI before hashing for v3 (per copies of its docs page).
const V3_DECODED: Record<string, string> = {
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

export function v3Uri(uri: string): string {
  return uri.replace(
    /%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi,
    (encoded) => V3_DECODED[encoded.toUpperCase()] ?? encoded,
  );
}

export function signV3(secret: string, method: string, uri: string, body: string, timestamp: string): string {
  return createHmac('sha256', secret)
    .update(method + v3Uri(uri) + body + timestamp, 'utf8')
    .digest('base64');
}

/** The headers one delivery carries; `both` is what HubSpot's webhooks API sends: v1 and v3 together. */
export function signatureHeaders(
  mode: SignatureMode,
  input: { secret: string; method: string; uri: string; body: string; timestamp: number },
): Record<string, string> {
  const headers: Record<string, string> = {};
  if (mode === 'v1' || mode === 'both') {
    headers['X-HubSpot-Signature'] = signV1(input.secret, input.body);
    headers['X-HubSpot-Signature-Version'] = 'v1';
  }
  if (mode === 'v2') {
    headers['X-HubSpot-Signature'] = signV2(input.secret, input.method, input.uri, input.body);
    headers['X-HubSpot-Signature-Version'] = 'v2';
  }
  if (mode === 'v3' || mode === 'both') {
    const timestamp = String(input.timestamp);
    headers['X-HubSpot-Signature-v3'] = signV3(input.secret, input.method, input.uri, input.body, timestamp);
    headers['X-HubSpot-Request-Timestamp'] = timestamp;
  }
  return headers;
}
