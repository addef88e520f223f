/** HubSpot's answer to a batch call: `COMPLETE`, its results, and (207) the errors of the inputs that failed. */
export function batchEnvelope(startedAt: string, results: unknown[], errors: Record<string, unknown>[] = []) {
  const envelope: Record<string, unknown> = {
    status: 'COMPLETE',
    results,
    startedAt,
    completedAt: new Date().toISOString(),
  };
  if (errors.length > 0) {
    envelope.numErrors = errors.length;
    envelope.errors = errors;
  }
  return envelope;
}
