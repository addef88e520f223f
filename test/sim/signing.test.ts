import { createHmac } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { signatureHeaders, signV1, signV2, signV3, v3Uri } from '../../src/sim/webhooks/signing.ts';

// The known vectors from HUBSPOT.md (HubSpot's own documentation examples).
const SECRET = 'yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy';
const V1_BODY =
  '[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]';

describe('webhook signing', () => {
  test('v1 matches the documented vector', () => {
    expect(signV1(SECRET, V1_BODY)).toBe('232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de');
  });

  test('v2 matches the documented vector', () => {
    expect(signV2(SECRET, 'GET', 'https://www.example.com/webhook_uri', '')).toBe(
      'eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e',
    );
  });

  test('v3 is a base64 HMAC-SHA256 over method, uri, body and timestamp', () => {
    const uri = 'https://hooks.example.com/webhooks/hubspot?portal=62515';
    const expected = createHmac('sha256', SECRET)
      .update(`POST${uri}${V1_BODY}1700000000000`)
      .digest('base64');
    expect(signV3(SECRET, 'POST', uri, V1_BODY, '1700000000000')).toBe(expected);
  });

  test('v3 decodes the escapes HubSpot decodes before hashing, and only those', () => {
    expect(v3Uri('https://x.test/a%3Ab%2Fc%3Fd%40e%21%24%27%28%29%2A%2C%3B%20')).toBe(
      "https://x.test/a:b/c?d@e!$'()*,;%20",
    );
    expect(signV3(SECRET, 'POST', 'https://x.test/a%3Ab', '[]', '1')).toBe(
      signV3(SECRET, 'POST', 'https://x.test/a:b', '[]', '1'),
    );
  });

  test('both mode carries the v1 headers and the v3 headers together', () => {
    const headers = signatureHeaders('both', {
      secret: SECRET,
      method: 'POST',
      uri: 'https://x.test/hook',
      body: V1_BODY,
      timestamp: 42,
    });
    expect(headers).toEqual({
      'X-HubSpot-Signature': '232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de',
      'X-HubSpot-Signature-Version': 'v1',
      'X-HubSpot-Signature-v3': signV3(SECRET, 'POST', 'https://x.test/hook', V1_BODY, '42'),
      'X-HubSpot-Request-Timestamp': '42',
    });
  });

  test('v2 mode signs with the method and uri and names version v2', () => {
    const headers = signatureHeaders('v2', {
      secret: SECRET,
      method: 'POST',
      uri: 'https://x.test/h',
      body: '[]',
      timestamp: 1,
    });
    expect(headers['X-HubSpot-Signature-Version']).toBe('v2');
    expect(headers['X-HubSpot-Signature']).toBe(signV2(SECRET, 'POST', 'https://x.test/h', '[]'));
    expect(headers['X-HubSpot-Signature-v3']).toBeUndefined();
  });
});
