import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { AppError } from './app-error.ts';

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

// Connection-level failures from postgres.js, PGlite and Node: the database is not there right now.
const DATABASE_DOWN_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: "the database system is starting up" / "is not accepting connections"
  '53300', // too_many_connections
]);

// SQLSTATE class 08, connection exception (08000, 08001, 08003, 08004, 08006, 08P01…): the server refused or lost
// the connection. https://www.postgresql.org/docs/current/errcodes-appendix.html
const CONNECTION_EXCEPTION = /^08[0-9A-Z]{3}$/;

// What callers see whichever driver error it was: never the driver's own text (hosts, ports, user names).
export const DATABASE_UNAVAILABLE: ErrorBody = {
  error: { code: 'database_unavailable', message: 'the database is unavailable; retry later' },
};

// Fastify and its plugins answer some 4xx with only a status; give those the API's code for that status.
const STATUS_CODES: Record<number, string> = {
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  408: 'request_timeout',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  431: 'headers_too_large',
};

// Fastify's own 4xx codes, renamed to the API's vocabulary.
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_request',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_VALIDATION: 'invalid_request',
};

// drizzle wraps driver errors ("Failed query: …"), so the connection's code may sit on a cause.
function isDatabaseDown(error: unknown): boolean {
  for (let current = error; current instanceof Error; current = current.cause) {
    const code = String((current as { code?: unknown }).code);
    if (DATABASE_DOWN_CODES.has(code) || CONNECTION_EXCEPTION.test(code)) return true;
    // Node's connect to a host with several addresses fails with every attempt's error.
    if (current instanceof AggregateError && current.errors.some(isDatabaseDown)) return true;
    if (current.message === 'PGlite is closed') return true;
  }
  return false;
}

/** Maps any thrown error to the API's error shape. Only 4xx messages are shown; 5xx are logged. */
export function toErrorResponse(error: unknown): { status: number; body: ErrorBody } {
  if (error instanceof AppError)
    return { status: error.status, body: { error: { code: error.code, message: error.message } } };
  if (hasZodFastifySchemaValidationErrors(error)) {
    const details = error.validation.map((issue) => ({
      path: issue.instancePath || '/',
      message: issue.message,
    }));
    const summary = details.map((d) => `${d.path} ${d.message}`).join('; ');
    return {
      status: 400,
      body: {
        error: {
          code: 'invalid_request',
          message: `invalid ${error.validationContext}: ${summary}`,
          details,
        },
      },
    };
  }
  const fastifyError = error as Partial<FastifyError> & { code?: string };
  if (isDatabaseDown(error)) {
    return { status: 503, body: DATABASE_UNAVAILABLE };
  }
  const status = fastifyError.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const code = FASTIFY_CODES[fastifyError.code ?? ''] ?? STATUS_CODES[status] ?? 'invalid_request';
    return { status, body: { error: { code, message: fastifyError.message ?? 'bad request' } } };
  }
  return { status: 500, body: { error: { code: 'internal', message: 'internal error' } } };
}

export function handleError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { status, body } = toErrorResponse(error);
  if (status >= 500) request.log.error({ err: error }, 'request failed');
  else request.log.info({ code: body.error.code, status }, body.error.message);
  return reply.status(status).send(body);
}
