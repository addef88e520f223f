import { type Server, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyBaseLogger, FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { handleError } from './error-handler.ts';

interface ClientError {
  status: number;
  code: string;
  message: string;
}

/** What Node's HTTP parser refused, in the API's words. */
export function describeClientError(error: NodeJS.ErrnoException): ClientError {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      // The request line counts toward the limit too, so an over-long URL lands here as well.
      return {
        status: 431,
        code: 'headers_too_large',
        message: 'the request line and headers are over 16 KiB; send a shorter URL or fewer headers',
      };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, code: 'request_timeout', message: 'the request did not arrive in time' };
    default:
      return { status: 400, code: 'invalid_request', message: 'the request is not valid HTTP' };
  }
}

/**
 * Answers the requests Node refuses before Fastify sees them (431, 408, 400) with the API's error shape,
 * instead of Fastify's default `{"error","message","statusCode"}`. Replaces the listener Fastify added.
 */
export function shapeClientErrors(server: Server, log: FastifyBaseLogger): void {
  server.removeAllListeners('clientError');
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    // A reset connection has no one left to answer (https://nodejs.org/api/http.html#event-clienterror).
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const { status, code, message } = describeClientError(error);
    log.debug({ err: error, status }, 'client error');
    if (socket.writable) {
      const body = JSON.stringify({ error: { code, message } });
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
          'Content-Type: application/json; charset=utf-8\r\n' +
          `Content-Length: ${Buffer.byteLength(body)}\r\n` +
          'Connection: close\r\n\r\n' +
          body,
      );
    }
    socket.destroy(error);
  });
}

/**
 * For Fastify's `frameworkErrors` option: the router's own refusals (a path parameter over `maxParamLength`
 * is 414, a malformed percent-encoding 400) go through the API's error handler like any other error.
 */
export function handleFrameworkError(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  return handleError(error, request, reply);
}
