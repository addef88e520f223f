// Credentials that can end up inside error messages and stack traces (connection strings, headers, tokens).
const SECRET_PATTERNS: [RegExp, string][] = [
  [/(postgres(?:ql)?:\/\/[^:/@\s]+:)[^@\s]+@/gi, '$1[Redacted]@'],
  [/(Bearer\s+)[\w.~+/=-]+/gi, '$1[Redacted]'],
  [/\bpat-[\w-]+/gi, 'pat-[Redacted]'],
  [
    /((?:access_token|refresh_token|client_secret|code|token)["']?\s*[:=]\s*["']?)[^"'&\s,}]+/gi,
    '$1[Redacted]',
  ],
];

/** Removes credentials from text before it is stored in the error log or shown. */
export function sanitize(text: string): string {
  return SECRET_PATTERNS.reduce(
    (result, [pattern, replacement]) => result.replace(pattern, replacement),
    text,
  );
}

/**
 * What to store of an error. drizzle wraps driver errors in "Failed query: <sql> params: <values>": the
 * values may be a person's data, so the driver's own error is kept instead.
 */
export function describeError(error: unknown): { type: string; message: string; stack: string | null } {
  let shown = error;
  while (
    shown instanceof Error &&
    shown.message.startsWith('Failed query:') &&
    shown.cause instanceof Error
  ) {
    shown = shown.cause;
  }
  if (shown instanceof Error) {
    return {
      type: shown.name,
      message: sanitize(shown.message),
      stack: shown.stack ? sanitize(shown.stack) : null,
    };
  }
  return { type: 'Error', message: sanitize(String(shown)), stack: null };
}
