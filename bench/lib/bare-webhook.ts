/**
 * What every bare ceiling server does before its own work: a Fastify app that keeps JSON bodies raw, and the
 * service's own v3 signature check over them (the part no webhook receiver can skip).
 */
import Fastify, { type FastifyRequest } from 'fastify';
import { verifySignature } from '../../src/hubspot/signatures.ts';

export function bareWebhookApp() {
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) =>
    done(null, body),
  );
  return app;
}

/** The raw body when the delivery's signature verifies, or the reason it does not. */
export function verifiedBody(
  request: FastifyRequest,
  secret: string,
): { body: Buffer } | { refused: string } {
  const rawBody = request.body as Buffer;
  const check = verifySignature(
    {
      method: request.method,
      url: `${request.protocol}://${request.host}${request.url}`,
      rawBody,
      headers: request.headers,
    },
    secret,
    Date.now(),
  );
  return check.ok ? { body: rawBody } : { refused: check.reason };
}
