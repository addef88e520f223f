import { describe, expect, test } from 'vitest';
import { AppError, notFound } from '../../src/http/app-error.ts';
import { decodeCursor, encodeCursor, toPage } from '../../src/http/cursor.ts';
import { toErrorResponse } from '../../src/http/error-handler.ts';
import { redactUrl } from '../../src/logger.ts';

describe('toErrorResponse', () => {
  test('an AppError keeps its code, status and message', () => {
    expect(toErrorResponse(notFound('no contact 1'))).toEqual({
      status: 404,
      body: { error: { code: 'not_found', message: 'no contact 1' } },
    });
  });

  test('an unexpected error is a 500 that reveals nothing', () => {
    const { status, body } = toErrorResponse(new Error('password=hunter2 in a stack'));
    expect(status).toBe(500);
    expect(JSON.stringify(body)).not.toContain('hunter2');
  });

  test('a lost database connection is a 503 so callers retry', () => {
    const error = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    expect(toErrorResponse(error).status).toBe(503);
  });

  test("Fastify's body errors keep their 4xx status under the API's codes", () => {
    const tooLarge = Object.assign(new Error('Request body is too large'), {
      code: 'FST_ERR_CTP_BODY_TOO_LARGE',
      statusCode: 413,
    });
    expect(toErrorResponse(tooLarge)).toEqual({
      status: 413,
      body: { error: { code: 'payload_too_large', message: 'Request body is too large' } },
    });
  });

  test('AppError carries its cause for logs', () => {
    const cause = new Error('root');
    expect(new AppError({ code: 'x', status: 400, message: 'y', cause }).cause).toBe(cause);
  });
});

describe('cursors', () => {
  const id = '00000000-0000-4000-8000-000000000002';

  test('a cursor round-trips, microseconds included, and a forged one is a 400', () => {
    const cursor = { at: '2026-01-01T00:00:00.000123Z', id };
    expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor);
    expect(() => decodeCursor('not-a-cursor')).toThrow(expect.objectContaining({ status: 400 }));
  });

  test('a cursor that decodes but names no row we could return is a 400, not a database error', () => {
    for (const forged of [
      { at: '2026-01-01T00:00:00Z', id: 'abc' },
      { at: '0000-01-01T00:00:00Z', id },
      { at: 'yesterday', id },
      { at: '2026-01-01T00:00:00Z' },
    ]) {
      const text = Buffer.from(JSON.stringify(forged)).toString('base64url');
      expect(() => decodeCursor(text), JSON.stringify(forged)).toThrow(
        expect.objectContaining({ status: 400 }),
      );
    }
  });

  test('toPage gives a next cursor only when there is one more row', () => {
    const rows = [1, 2, 3].map((n) => ({ n, at: `2026-01-0${n}T00:00:00.000Z` }));
    const key = (row: { n: number; at: string }) => ({
      at: row.at,
      id: `00000000-0000-4000-8000-00000000000${row.n}`,
    });
    expect(toPage(rows, 3, key).nextCursor).toBeNull();
    const page = toPage(rows, 2, key);
    expect(page.data).toHaveLength(2);
    expect(decodeCursor(page.nextCursor ?? '')).toEqual({ at: rows[1]?.at, id });
  });
});

describe('redactUrl', () => {
  test('token and code query values never reach the logs', () => {
    expect(redactUrl('/ws?token=abc&x=1')).toBe('/ws?token=[Redacted]&x=1');
    expect(redactUrl('/oauth/callback?code=xyz&state=s')).toBe('/oauth/callback?code=[Redacted]&state=s');
    expect(redactUrl('/api/contacts?q=token')).toBe('/api/contacts?q=token');
  });
});
