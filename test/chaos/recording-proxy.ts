import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';

export interface RecordedDelivery {
  /** When the service's answer came back (epoch ms). */
  at: number;
  status: number;
  /** `portalId:subscriptionId:eventId` of each event, HubSpot's key for an event. */
  events: string[];
}

export interface RecordingProxy {
  url: string;
  deliveries: RecordedDelivery[];
  close(): Promise<void>;
}

async function bodyOf(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export const eventKey = (event: { portalId: number; subscriptionId: number; eventId: number }) =>
  `${event.portalId}:${event.subscriptionId}:${event.eventId}`;

/**
 * Stands between the simulator and the service and writes down what the service answered to each webhook
 * delivery, so a test knows exactly which events were acknowledged. The service must be told the public URL
 * (WEBHOOK_PUBLIC_URL) since HubSpot signs the address it posts to, which is this proxy's.
 */
export async function createRecordingProxy(target: string): Promise<RecordingProxy> {
  const deliveries: RecordedDelivery[] = [];
  const server = createServer(async (request, response) => {
    const body = await bodyOf(request);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (typeof value === 'string' && name !== 'host' && name !== 'connection') headers[name] = value;
    }
    let events: string[] = [];
    try {
      events = (JSON.parse(body.toString('utf8')) as Parameters<typeof eventKey>[0][]).map(eventKey);
    } catch {
      // Not ours to judge: the service answers it.
    }
    try {
      const answer = await fetch(`${target}${request.url ?? ''}`, { method: request.method, headers, body });
      const text = await answer.text();
      deliveries.push({ at: Date.now(), status: answer.status, events });
      response.writeHead(answer.status, {
        'content-type': answer.headers.get('content-type') ?? 'text/plain',
      });
      response.end(text);
    } catch {
      // The service is not there: what HubSpot would see is a connection failure.
      deliveries.push({ at: Date.now(), status: 0, events });
      response.destroy();
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    deliveries,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close').catch(() => {});
    },
  };
}
