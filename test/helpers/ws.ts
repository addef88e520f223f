import { once } from 'node:events';
import WebSocket from 'ws';

export interface Message {
  type: string;
  seq: number;
  at: string;
  data: Record<string, unknown>;
}

/** A real WebSocket client that keeps every message it receives, with ways to wait for them. */
export interface Listener {
  socket: WebSocket;
  messages: Message[];
  /** Events only: the outbox's messages, without hello, reset and replies. */
  events(): Message[];
  /** Resolves with the first message (after the ones already taken) that `test` accepts. */
  next(test: (message: Message) => boolean, timeoutMs?: number): Promise<Message>;
  closed: Promise<{ code: number; reason: string }>;
  close(): Promise<void>;
}

const CONTROL = new Set(['hello', 'reset', 'subscribed', 'error']);

export function listen(socket: WebSocket): Listener {
  const messages: Message[] = [];
  const waiters: { test: (message: Message) => boolean; resolve: (message: Message) => void }[] = [];
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as Message;
    messages.push(message);
    for (const waiter of [...waiters]) {
      if (waiter.test(message)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(message);
      }
    }
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    socket.on('close', (code, reason) => resolve({ code, reason: String(reason) }));
  });
  return {
    socket,
    messages,
    events: () => messages.filter((message) => !CONTROL.has(message.type)),
    next(test, timeoutMs = 10_000) {
      const seen = messages.find(test);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          const types = messages.map((m) => `${m.type}#${m.seq}`).join(', ');
          reject(new Error(`no matching WebSocket message within ${timeoutMs} ms; got: ${types}`));
        }, timeoutMs);
        waiters.push({
          test,
          resolve: (message) => {
            clearTimeout(timer);
            resolve(message);
          },
        });
      });
    },
    closed,
    async close() {
      if (socket.readyState === WebSocket.CLOSED) return;
      socket.close();
      await closed;
    },
  };
}

/** Connects to `url` (ws://…), resolving once open; rejects with the HTTP status when the upgrade is refused. */
export async function connect(url: string, options: WebSocket.ClientOptions = {}): Promise<Listener> {
  const socket = new WebSocket(url, options);
  const listener = listen(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => {
        body += chunk;
      });
      response.on('end', () =>
        reject(
          Object.assign(new Error(`upgrade refused: ${response.statusCode}`), {
            status: response.statusCode,
            body,
          }),
        ),
      );
    });
    socket.once('error', reject);
  });
  return listener;
}

/** The HTTP status and body of a refused upgrade. */
export async function refusal(url: string, options: WebSocket.ClientOptions = {}) {
  try {
    const listener = await connect(url, options);
    await listener.close();
    return { status: 101, body: '' };
  } catch (error) {
    const { status, body } = error as { status?: number; body?: string };
    if (status === undefined) throw error;
    return { status, body: body ?? '' };
  }
}

export const wsUrl = (httpAddress: string, query = '') => `${httpAddress.replace(/^http/, 'ws')}/ws${query}`;

export { once };
