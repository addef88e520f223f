import { describe, expect, test } from 'vitest';
import { decodeV3Uri, signV1, signV2, signV3, verifySignature } from '../../src/hubspot/signatures.ts';

// Vectors from HubSpot's documentation of v1 and v2 signatures.
const SECRET = 'yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy';
const V1_BODY =
  '[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]';
const V1_SIGNATURE = '232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de';
const V2_SIGNATURE = 'eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e';

const URL_CALLED = 'https://sync.example.com/webhooks/hubspot';
const ALL_VERSIONS = ['v1', 'v2', 'v3'] as const;
const NOW = 1_795_000_000_000;

function v3Request(body: string, options: { url?: string; sentAt?: number; signUrl?: string } = {}) {
  const { url = URL_CALLED, sentAt = NOW } = options;
  const signUrl = options.signUrl ?? url;
  const timestamp = String(sentAt);
  return {
    method: 'POST',
    url,
    rawBody: Buffer.from(body),
    headers: {
      'x-hubspot-signature-v3': signV3(SECRET, 'POST', signUrl, body, timestamp),
      'x-hubspot-request-timestamp': timestamp,
    },
  };
}

describe('HubSpot signing vectors', () => {
  test('v1 is SHA-256 of secret + body', () => {
    expect(signV1(SECRET, V1_BODY)).toBe(V1_SIGNATURE);
  });

  test('v2 is SHA-256 of secret + method + URI + body', () => {
    expect(signV2(SECRET, 'GET', 'https://www.example.com/webhook_uri', '')).toBe(V2_SIGNATURE);
  });
});

describe('verifySignature', () => {
  test('accepts the documented v1 delivery and rejects a tampered body', () => {
    const headers = { 'x-hubspot-signature': V1_SIGNATURE, 'x-hubspot-signature-version': 'v1' };
    const request = { method: 'POST', url: URL_CALLED, rawBody: Buffer.from(V1_BODY), headers };
    expect(verifySignature(request, SECRET, NOW, ALL_VERSIONS)).toEqual({ ok: true, version: 'v1' });
    const tampered = { ...request, rawBody: Buffer.from(V1_BODY.replace('123', '124')) };
    expect(verifySignature(tampered, SECRET, NOW, ALL_VERSIONS)).toMatchObject({
      ok: false,
      reason: 'v1 signature mismatch',
    });
  });

  test('accepts the documented v2 request, which signs the method and URL', () => {
    const headers = {
      'x-hubspot-signature': V2_SIGNATURE.toUpperCase(),
      'x-hubspot-signature-version': 'v2',
    };
    const request = {
      method: 'GET',
      url: 'https://www.example.com/webhook_uri',
      rawBody: Buffer.alloc(0),
      headers,
    };
    expect(verifySignature(request, SECRET, NOW, ALL_VERSIONS)).toEqual({ ok: true, version: 'v2' });
    expect(
      verifySignature({ ...request, url: 'https://www.example.com/other' }, SECRET, NOW, ALL_VERSIONS).ok,
    ).toBe(false);
  });

  test('accepts a fresh v3 signature', () => {
    expect(verifySignature(v3Request(V1_BODY), SECRET, NOW)).toEqual({ ok: true, version: 'v3' });
  });

  test('v3 wins over v1 when both are present, so a valid v1 cannot rescue a bad v3', () => {
    const request = v3Request(V1_BODY);
    const headers = {
      ...request.headers,
      'x-hubspot-signature-v3': 'AAAA',
      'x-hubspot-signature': V1_SIGNATURE,
    };
    expect(verifySignature({ ...request, headers }, SECRET, NOW)).toMatchObject({ ok: false, version: 'v3' });
  });

  test('rejects a tampered v3 body, signature, URL or secret', () => {
    const good = v3Request(V1_BODY);
    const signature = good.headers['x-hubspot-signature-v3'];
    const flipped = (signature[0] === 'A' ? 'B' : 'A') + signature.slice(1);
    expect(verifySignature({ ...good, rawBody: Buffer.from(`${V1_BODY} `) }, SECRET, NOW).ok).toBe(false);
    expect(
      verifySignature(
        { ...good, headers: { ...good.headers, 'x-hubspot-signature-v3': flipped } },
        SECRET,
        NOW,
      ).ok,
    ).toBe(false);
    expect(
      verifySignature({ ...good, url: 'https://evil.example.com/webhooks/hubspot' }, SECRET, NOW).ok,
    ).toBe(false);
    expect(verifySignature(good, 'another-secret', NOW).ok).toBe(false);
  });

  test('accepts a v3 signature whose "+" a proxy turned into a space', () => {
    let body = V1_BODY;
    let request = v3Request(body);
    for (let i = 0; !request.headers['x-hubspot-signature-v3'].includes('+'); i++) {
      body = `${V1_BODY}${' '.repeat(i)}`;
      request = v3Request(body);
    }
    const spaced = request.headers['x-hubspot-signature-v3'].replaceAll('+', ' ');
    const headers = { ...request.headers, 'x-hubspot-signature-v3': spaced };
    expect(verifySignature({ ...request, headers }, SECRET, NOW)).toEqual({ ok: true, version: 'v3' });
  });

  test('rejects a v3 timestamp more than 5 minutes old or ahead, accepts one just inside', () => {
    const minutes = (n: number) => n * 60_000;
    expect(verifySignature(v3Request(V1_BODY, { sentAt: NOW - minutes(5) - 1 }), SECRET, NOW)).toMatchObject({
      ok: false,
      reason: 'timestamp older than 5 minutes',
    });
    expect(verifySignature(v3Request(V1_BODY, { sentAt: NOW + minutes(5) + 1 }), SECRET, NOW)).toMatchObject({
      ok: false,
      reason: 'timestamp more than 5 minutes ahead',
    });
    expect(verifySignature(v3Request(V1_BODY, { sentAt: NOW - minutes(4) }), SECRET, NOW).ok).toBe(true);
  });

  test('rejects missing headers, a half v3 pair and an unknown version', () => {
    const base = { method: 'POST', url: URL_CALLED, rawBody: Buffer.from(V1_BODY) };
    expect(verifySignature({ ...base, headers: {} }, SECRET, NOW)).toMatchObject({ ok: false });
    expect(
      verifySignature({ ...base, headers: { 'x-hubspot-request-timestamp': String(NOW) } }, SECRET, NOW),
    ).toMatchObject({
      ok: false,
      reason: 'v3 signature or timestamp header missing',
    });
    const v9 = { 'x-hubspot-signature': V1_SIGNATURE, 'x-hubspot-signature-version': 'v9' };
    expect(verifySignature({ ...base, headers: v9 }, SECRET, NOW)).toMatchObject({ ok: false });
  });

  test('v3 hashes the URI with HubSpot’s listed escapes decoded', () => {
    expect(decodeV3Uri('https://x.example.com/hook%3Fa%3Db%2Cc%20d')).toBe(
      'https://x.example.com/hook?a%3Db,c%20d',
    );
    const url = 'https://x.example.com/hook?tag=a%2Cb';
    const request = v3Request(V1_BODY, { url, signUrl: 'https://x.example.com/hook?tag=a,b' });
    expect(verifySignature(request, SECRET, NOW).ok).toBe(true);
  });

  test('v1 and v2 are refused unless configured, since they sign no time and could be replayed', () => {
    const v1 = { 'x-hubspot-signature': V1_SIGNATURE, 'x-hubspot-signature-version': 'v1' };
    const request = { method: 'POST', url: URL_CALLED, rawBody: Buffer.from(V1_BODY), headers: v1 };
    expect(verifySignature(request, SECRET, NOW)).toMatchObject({ ok: false, version: 'v1' });
    expect(verifySignature(request, SECRET, NOW, ['v3'])).toMatchObject({ ok: false, version: 'v1' });
    expect(verifySignature(request, SECRET, NOW, ['v1'])).toEqual({ ok: true, version: 'v1' });
    // A v3 delivery stays v3 only when v3 is accepted: a v1-only deployment does not take it either.
    expect(verifySignature(v3Request(V1_BODY), SECRET, NOW, ['v1'])).toMatchObject({ ok: false });
  });

  test('a signature is compared whole: empty, cut, non-hex or padded ones never pass', () => {
    const base = { method: 'POST', url: URL_CALLED, rawBody: Buffer.from(V1_BODY) };
    const v1 = (signature: string) =>
      verifySignature(
        { ...base, headers: { 'x-hubspot-signature': signature, 'x-hubspot-signature-version': 'v1' } },
        SECRET,
        NOW,
        ALL_VERSIONS,
      ).ok;
    expect(v1(V1_SIGNATURE)).toBe(true);
    // Each of these shares a prefix (maybe the empty one) with the right signature.
    for (const forged of [
      'not-hex',
      'zz',
      V1_SIGNATURE.slice(0, 8),
      V1_SIGNATURE.slice(0, 63),
      `${V1_SIGNATURE}00`,
    ])
      expect(v1(forged), forged).toBe(false);

    const good = v3Request(V1_BODY);
    const signature = good.headers['x-hubspot-signature-v3'];
    const v3 = (forged: string) =>
      verifySignature(
        { ...good, headers: { ...good.headers, 'x-hubspot-signature-v3': forged } },
        SECRET,
        NOW,
      ).ok;
    expect(v3(signature)).toBe(true);
    for (const forged of [
      signature.slice(0, 4),
      signature.slice(0, 40),
      signature.slice(0, -1),
      '!!!!',
      `${signature}!!`,
      `${signature}AAAA`,
    ])
      expect(v3(forged), forged).toBe(false);
  });
});
