import { Writable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { createLogger, redactUrl } from '../../src/logger.ts';

/** A logger whose lines are kept, to read back what would have been written. */
function capturingLogger() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const logger = createLogger({ level: 'info', destination });
  return { logger, output: () => lines.join('') };
}

describe('log redaction', () => {
  test('api keys, authorization values and tokens are censored at the top of a line and one level down', () => {
    const { logger, output } = capturingLogger();
    logger.info({ api_key: 'key-top-1', authorization: 'Bearer top-2', token: 'top-3' }, 'top');
    logger.info(
      { call: { api_key: 'key-nested-4', authorization: 'Bearer nested-5', apiKey: 'nested-6' } },
      'nested',
    );
    logger.info({ req: { headers: { 'x-api-key': 'header-7' } } }, 'header');
    for (const secret of ['key-top-1', 'top-2', 'top-3', 'key-nested-4', 'nested-5', 'nested-6', 'header-7'])
      expect(output(), secret).not.toContain(secret);
    expect(output()).toContain('[Redacted]');
  });

  test("a request's URL is logged without the token it carries", () => {
    const { logger, output } = capturingLogger();
    logger.info({ req: { id: '1', method: 'GET', url: '/ws?%74oken=secret-ws-1' } }, 'incoming request');
    expect(output()).not.toContain('secret-ws-1');
  });
});

describe('redactUrl', () => {
  test('token parameters are found however they are percent-encoded', () => {
    expect(redactUrl('/ws?%74oken=abc&x=1')).toBe('/ws?%74oken=[Redacted]&x=1');
    expect(redactUrl('/ws?TOKEN=abc')).toBe('/ws?TOKEN=[Redacted]');
    expect(redactUrl('/ws?token%3Dabc&x=1')).toBe('/ws?[Redacted]&x=1');
    expect(redactUrl('/ws?%74%6Fken%3dabc')).toBe('/ws?[Redacted]');
    expect(redactUrl('/x?api_key=k1&hapikey=k2&refresh_token=r')).toBe(
      '/x?api_key=[Redacted]&hapikey=[Redacted]&refresh_token=[Redacted]',
    );
  });

  test('tokens in paths are censored, and nothing else is', () => {
    expect(redactUrl('/oauth/v1/refresh-tokens/na1-abcd-1234?x=1')).toBe(
      '/oauth/v1/refresh-tokens/[Redacted]?x=1',
    );
    expect(redactUrl('/oauth/v1/access-tokens/CJSP5qf1KhICAQEYs')).toBe('/oauth/v1/access-tokens/[Redacted]');
    expect(redactUrl('/api/keys/hsk_0123456789abcdef')).toBe('/api/keys/[Redacted]');
    expect(redactUrl('/things/pat-na1-11111111-2222/more')).toBe('/things/[Redacted]/more');
    expect(redactUrl('/things/%68sk_0123456789')).toBe('/things/[Redacted]');
    expect(redactUrl('/api/contacts/12345?q=hsk')).toBe('/api/contacts/12345?q=hsk');
    expect(redactUrl('/api/keys/ops-patrol')).toBe('/api/keys/ops-patrol');
  });
});
