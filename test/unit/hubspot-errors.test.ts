import { describe, expect, test } from 'vitest';
import { toHubSpotError } from '../../src/hubspot/errors.ts';

/** What the SDK (14) throws for an answer with a status: an ApiException carrying `code`, `body`, `headers`. */
const apiException = (code: number, body: string) =>
  Object.assign(new Error(`HTTP-Code: ${code}`), { code, body });

describe('what HubSpot (or the gateway in front of it) answered, as a typed error', () => {
  test("a gateway's HTML 502 is a retryable server error that names the status, not the page", () => {
    const error = toHubSpotError(
      apiException(502, '<!DOCTYPE html><html><h1>502</h1></html>'),
      'list contacts',
    );
    expect(error).toMatchObject({ kind: 'server', status: 502, retryable: true });
    expect(error.message).toBe(
      'list contacts: HubSpot answered 502: an HTML page, as from a gateway or CDN in front of HubSpot',
    );
  });

  test('an empty 504 body is said to be empty', () => {
    const error = toHubSpotError(apiException(504, ''), 'batch read contacts');
    expect(error).toMatchObject({ kind: 'server', status: 504, retryable: true });
    expect(error.message).toMatch(/504: an empty answer/);
  });

  test('HubSpot’s own JSON errors keep their message, category and policy', () => {
    const body = JSON.stringify({
      status: 'error',
      message: 'You have reached your daily limit.',
      policyName: 'DAILY',
      correlationId: 'c-1',
    });
    const error = toHubSpotError(apiException(429, body), 'search contacts');
    expect(error).toMatchObject({
      kind: 'daily_limit',
      status: 429,
      policyName: 'DAILY',
      correlationId: 'c-1',
    });
    expect(error.message).toBe('search contacts: HubSpot answered 429: You have reached your daily limit.');
  });

  test("the SDK's bare Error for an answer without Content-Type is a retryable server error, not a network one", () => {
    const error = toHubSpotError(
      new Error('Cannot parse content. No Content-Type defined.'),
      'list contacts',
    );
    expect(error).toMatchObject({ kind: 'server', status: null, retryable: true });
    expect(error.message).toMatch(
      /^list contacts: HubSpot's answer could not be read \(Cannot parse content/,
    );
  });

  test('a JSON-typed answer that is not JSON is a retryable server error whose message does not quote the body', () => {
    let syntax: unknown;
    try {
      JSON.parse('<html><body>Bad gateway</body></html>');
    } catch (error) {
      syntax = error;
    }
    const error = toHubSpotError(syntax, 'list contacts');
    expect(error).toMatchObject({ kind: 'server', retryable: true });
    expect(error.message).not.toContain('<');
    expect(error.message).toMatch(/its body is not valid JSON/);
  });

  test('a refused connection stays a network error', () => {
    const refused = new TypeError('fetch failed', {
      cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    });
    expect(toHubSpotError(refused, 'list contacts')).toMatchObject({ kind: 'network', retryable: true });
  });

  test('a 400 stays a bad request, whatever its body', () => {
    expect(toHubSpotError(apiException(400, '<html>Bad request</html>'), 'x')).toMatchObject({
      kind: 'bad_request',
      retryable: false,
    });
  });
});
