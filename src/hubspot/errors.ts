/**
 * Every HubSpot failure as one typed error the callers can act on: wait (rate limits), stop until tomorrow
 * (the daily cap), reconnect (auth), give up on one id (not found) or retry later (server, timeout, network).
 */
export type HubSpotErrorKind =
  | 'rate_limited'
  | 'daily_limit'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'bad_request'
  | 'server'
  | 'timeout'
  | 'network';

export class HubSpotError extends Error {
  override name = 'HubSpotError';
  readonly kind: HubSpotErrorKind;
  readonly status: number | null;
  readonly policyName: string | null;
  readonly correlationId: string | null;

  constructor(init: {
    kind: HubSpotErrorKind;
    message: string;
    status?: number | null;
    policyName?: string | null;
    correlationId?: string | null;
    cause?: unknown;
  }) {
    super(init.message, { cause: init.cause });
    this.kind = init.kind;
    this.status = init.status ?? null;
    this.policyName = init.policyName ?? null;
    this.correlationId = init.correlationId ?? null;
  }

  /** Worth trying again soon, with the same request. */
  get retryable(): boolean {
    return (
      this.kind === 'rate_limited' ||
      this.kind === 'server' ||
      this.kind === 'timeout' ||
      this.kind === 'network'
    );
  }
}

interface HubSpotErrorBody {
  message?: string;
  category?: string;
  policyName?: string;
  correlationId?: string;
}

/**
 * HubSpot's own errors are JSON. Anything else came from the edge in front of it (a CDN's HTML error page, an
 * empty 502): said so in a few words, never echoed, since a whole HTML page would only bury the status.
 */
function parseBody(body: unknown): HubSpotErrorBody {
  if (typeof body !== 'string') return (body ?? {}) as HubSpotErrorBody;
  if (body.trim() === '') return { message: 'an empty answer, as from a gateway in front of HubSpot' };
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed !== null && typeof parsed === 'object') return parsed as HubSpotErrorBody;
  } catch {
    // Not JSON: described below.
  }
  return {
    message: /^\s*</.test(body)
      ? 'an HTML page, as from a gateway or CDN in front of HubSpot'
      : `a non-JSON answer: ${body.slice(0, 120)}`,
  };
}

// https://developers.hubspot.com/docs/api/error-handling: 423, 429, 477, 502, 503 and 504 are worth a retry.
function kindOf(status: number, body: HubSpotErrorBody): HubSpotErrorKind {
  if (status === 429) return body.policyName === 'DAILY' ? 'daily_limit' : 'rate_limited';
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 423 || status === 477 || status >= 500) return 'server';
  return 'bad_request';
}

/**
 * The SDK (14) throws a bare `Error` without the status when an answer has no JSON Content-Type, as a gateway's
 * empty 502 or 504 has ("Cannot parse content. No Content-Type defined."), and a SyntaxError when a JSON-typed
 * answer is not JSON. Either way HubSpot's side failed and the same call may well succeed later.
 */
function isUnreadableAnswer(error: unknown): boolean {
  if (error instanceof SyntaxError) return true;
  const message = (error as Error | undefined)?.message ?? '';
  return /cannot parse content|unsupported content type|no content-type/i.test(message);
}

/** Turns what the SDK throws (ApiException: `code`, `body`) or fetch throws into a HubSpotError. */
export function toHubSpotError(error: unknown, what: string): HubSpotError {
  if (error instanceof HubSpotError) return error;
  const status =
    typeof (error as { code?: unknown })?.code === 'number' ? (error as { code: number }).code : null;
  if (status !== null) {
    const body = parseBody((error as { body?: unknown }).body);
    return new HubSpotError({
      kind: kindOf(status, body),
      status,
      policyName: body.policyName ?? null,
      correlationId: body.correlationId ?? null,
      message: `${what}: HubSpot answered ${status}${body.message ? `: ${body.message}` : ''}`,
    });
  }
  if (isUnreadableAnswer(error)) {
    // V8's JSON message quotes the body: a page of HTML would bury the point.
    const reason = error instanceof SyntaxError ? 'its body is not valid JSON' : (error as Error).message;
    return new HubSpotError({
      kind: 'server',
      message: `${what}: HubSpot's answer could not be read (${reason}), as when a gateway in front of it fails`,
      cause: error,
    });
  }
  return new HubSpotError({
    kind: 'network',
    message: `${what}: ${(error as Error)?.message ?? String(error)}`,
    cause: error,
  });
}
