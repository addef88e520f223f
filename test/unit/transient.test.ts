import { describe, expect, test } from 'vitest';
import { isTransient, retryOnConflict } from '../../src/db/transient.ts';

const pgError = (code: string) => Object.assign(new Error(`postgres ${code}`), { code });
// Drizzle wraps the driver's error: the code sits on the cause.
const wrapped = (code: string) => new Error('Failed query', { cause: pgError(code) });

describe('transient database failures', () => {
  test('are recognised through wrapping errors', () => {
    expect(isTransient(wrapped('40P01'))).toBe(true);
    expect(isTransient(pgError('CONNECTION_CLOSED'))).toBe(true);
    expect(isTransient(wrapped('23505'))).toBe(false);
    expect(isTransient('40P01')).toBe(false);
  });

  test('a deadlock is retried until the work lands', async () => {
    let calls = 0;
    const result = await retryOnConflict(async () => {
      if (++calls < 3) throw wrapped('40P01');
      return 'landed';
    });
    expect([result, calls]).toEqual(['landed', 3]);
  });

  test('gives up after the last attempt, and never retries other failures', async () => {
    let calls = 0;
    await expect(
      retryOnConflict(async () => {
        calls++;
        throw wrapped('40001');
      }, 2),
    ).rejects.toThrow('Failed query');
    expect(calls).toBe(2);

    calls = 0;
    await expect(
      retryOnConflict(async () => {
        calls++;
        throw wrapped('23505');
      }),
    ).rejects.toThrow('Failed query');
    expect(calls).toBe(1);
  });
});
