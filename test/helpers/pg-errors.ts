/** The PostgreSQL error under any wrapping (drizzle wraps driver errors in its own). */
export function pgErrorOf(error: unknown): { code?: string; message: string } {
  let current: unknown = error;
  while (current instanceof Error) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return { code, message: current.message };
    current = current.cause;
  }
  return { message: String(error) };
}

/** Resolves to the PostgreSQL error a query failed with; fails the test if the query succeeded. */
export async function rejection(work: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await work;
  } catch (error) {
    return pgErrorOf(error);
  }
  throw new Error('expected the statement to be rejected, but it succeeded');
}
