/**
 * The bench's HTTP ceiling: a bare Fastify route that does only what no webhook receiver can skip — verify the
 * v3 signature over the raw body (the service's own verifySignature) and parse the JSON — then answers 200.
 * Run as a child process (`BARE_SECRET`, `PORT`); it reports its port over IPC once listening.
 */
import { bareWebhookApp, verifiedBody } from './bare-webhook.ts';

const secret = process.env.BARE_SECRET ?? '';
const app = bareWebhookApp();

app.post('/webhooks/hubspot', async (request, reply) => {
  const verified = verifiedBody(request, secret);
  if ('refused' in verified) return reply.status(401).send({ error: verified.refused });
  const rawBody = verified.body;
  let body: unknown;
  try {
    body = JSON.parse(rawBody.toString('utf8'));
  } catch {
    return reply.status(400).send({ error: 'body is not JSON' });
  }
  return reply.status(200).send({ received: Array.isArray(body) ? body.length : 0 });
});

const address = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
process.send?.({ ready: true, port: Number(new URL(address).port) });
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
