// Failures that say nothing about the work itself: the same transaction goes through when run again.
const TRANSIENT_CODES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '55P03', // lock_not_available
  '57P01', // admin_shutdown
  '08006', // connection_failure
  '08003', // connection_does_not_exist
  'CONNECTION_CLOSED',
  'ECONNRESET',
  'ECONNREFUSED',
]);

// PostgreSQL aborted the transaction to break a deadlock or a serialization conflict: running it again at
// once succeeds. https://www.postgresql.org/docs/current/mvcc-serialization-failure-handling.html
const RETRY_AT_ONCE = new Set(['40001', '40P01']);

const codesOf = function* (error: unknown) {
  for (let current = error; current instanceof Error; current = current.cause)
    yield String((current as { code?: unknown }).code);
};

function hasCode(error: unknown, codes: ReadonlySet<string>): boolean {
  for (const code of codesOf(error)) if (codes.has(code)) return true;
  return false;
}

export const isTransient = (error: unknown) => hasCode(error, TRANSIENT_CODES);

/** Runs `work` (a whole transaction), again when PostgreSQL aborted it to break a deadlock, up to `attempts` times. */
export async function retryOnConflict<T>(work: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= attempts || !hasCode(error, RETRY_AT_ONCE)) throw error;
      // The other transaction usually commits within milliseconds; a short random wait keeps two retries apart.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
    }
  }
}
