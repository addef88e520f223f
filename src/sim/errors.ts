import { randomUUID } from 'node:crypto';

/**
 * HubSpot's error envelope: `{status: "error", message, correlationId, category, subCategory?, errors?, context?}`
 * (https://developers.hubspot.com/docs/api/error-handling).
 */
export class HubSpotError extends Error {
  readonly statusCode: number;
  readonly category: string;
  readonly extra: Record<string, unknown>;
  /** Response headers that go with the error (rate-limit headers on a 429). */
  headers: Record<string, string> = {};

  constructor(statusCode: number, category: string, message: string, extra: Record<string, unknown> = {}) {
    super(message);
    this.statusCode = statusCode;
    this.category = category;
    this.extra = extra;
  }

  toBody(): Record<string, unknown> {
    return {
      status: 'error',
      message: this.message,
      correlationId: randomUUID(),
      category: this.category,
      ...this.extra,
    };
  }
}

export const contactNotFound = (id: string) =>
  new HubSpotError(404, 'OBJECT_NOT_FOUND', 'resource not found', { context: { id: [id] } });

export const routeNotFound = (method: string, url: string) =>
  new HubSpotError(404, 'OBJECT_NOT_FOUND', `Unable to route ${method} ${url}`);

export const validationError = (message: string, extra: Record<string, unknown> = {}) =>
  new HubSpotError(400, 'VALIDATION_ERROR', message, extra);

export const contactConflict = (existingId: number) =>
  new HubSpotError(409, 'CONFLICT', `Contact already exists. Existing ID: ${existingId}`);

export const missingCredentials = () =>
  new HubSpotError(
    401,
    'INVALID_AUTHENTICATION',
    'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview',
  );

export const invalidToken = () =>
  new HubSpotError(
    401,
    'INVALID_AUTHENTICATION',
    'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview',
  );

export const expiredToken = (expiredAt: number, now: number) =>
  new HubSpotError(
    401,
    'EXPIRED_AUTHENTICATION',
    `The OAuth token used to make this call expired ${Math.max(0, Math.round((now - expiredAt) / 60_000))} minute(s) ago.`,
    { context: { expiredAt: [new Date(expiredAt).toISOString()] } },
  );

export const missingScopes = (required: readonly string[]) =>
  new HubSpotError(
    403,
    'MISSING_SCOPES',
    "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.",
    {
      errors: [
        {
          message: 'One or more of the following scopes are required.',
          context: { requiredGranularScopes: [...required] },
        },
      ],
    },
  );

export type RateLimitPolicy = 'TEN_SECONDLY_ROLLING' | 'SECONDLY' | 'DAILY';

const policyMessages: Record<RateLimitPolicy, string> = {
  TEN_SECONDLY_ROLLING: 'You have reached your ten_secondly_rolling limit.',
  SECONDLY: 'You have reached your secondly limit.',
  DAILY: 'You have reached your daily limit.',
};

export const rateLimited = (policyName: RateLimitPolicy) =>
  new HubSpotError(429, 'RATE_LIMITS', policyMessages[policyName], {
    errorType: 'RATE_LIMIT',
    policyName,
    requestId: randomUUID(),
  });

/** An injected failure (see `/__sim/faults`), shaped like HubSpot's own 5xx answers. */
export const injectedFailure = (statusCode: number) =>
  new HubSpotError(
    statusCode,
    statusCode === 502 || statusCode === 504 ? 'BAD_GATEWAY' : 'INTERNAL_ERROR',
    statusCode === 503 ? 'Service Unavailable' : 'internal error',
  );
