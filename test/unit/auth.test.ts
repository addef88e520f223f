import type { FastifyRequest } from 'fastify';
import { describe, expect, test } from 'vitest';
import { bearerToken, roleOf } from '../../src/http/auth.ts';

const tokens = { adminToken: 'admin-token-0123456789', readToken: 'read-token-0123456789' };
const request = (headers: Record<string, string>, query: Record<string, string> = {}) =>
  ({ headers, query }) as unknown as FastifyRequest;

describe('roleOf', () => {
  test('the admin token is admin and the read token is read', () => {
    expect(roleOf(tokens.adminToken, tokens)).toBe('admin');
    expect(roleOf(tokens.readToken, tokens)).toBe('read');
  });

  test('anything else, including a prefix or an extension of a token, has no role', () => {
    for (const given of [
      undefined,
      '',
      'admin-token',
      `${tokens.adminToken}x`,
      tokens.adminToken.toUpperCase(),
    ]) {
      expect(roleOf(given, tokens)).toBeUndefined();
    }
  });

  test('with no read token configured only the admin token works', () => {
    expect(roleOf(tokens.readToken, { adminToken: tokens.adminToken })).toBeUndefined();
  });
});

describe('bearerToken', () => {
  test('reads "Authorization: Bearer", case-insensitively', () => {
    expect(bearerToken(request({ authorization: 'bearer abc' }))).toBe('abc');
    expect(bearerToken(request({ authorization: 'Basic abc' }))).toBeUndefined();
  });

  test('takes ?token= only where asked to (dashboards and WebSockets)', () => {
    expect(bearerToken(request({}, { token: 'abc' }))).toBeUndefined();
    expect(bearerToken(request({}, { token: 'abc' }), { allowQuery: true })).toBe('abc');
  });
});
