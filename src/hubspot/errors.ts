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

function parseBody(body: unknown): HubSpotErrorBody {
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as HubSpotErrorBody;
    } catch {
      return { message: body.slice(0, 200) };
    }
  }
  return (body ?? {}) as HubSpotErrorBody;
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
  return new HubSpotError({
    kind: 'network',
    message: `${what}: ${(error as Error)?.message ?? String(error)}`,
    cause: error,
  });
}
