import type { WebSocket } from 'ws';
import { z } from 'zod';
import type { Database } from '../db/client.ts';
import type { Role } from '../http/auth.ts';
import type { Logger } from '../logger.ts';
import type { OutboxMessage, OutboxRepository } from './outbox.ts';
import type { OutboxRelay } from './relay.ts';
import { MAX_PATTERNS, matches, parseSubscription, type Subscription } from './subscriptions.ts';

/** Close codes a dashboard can act on (4000–4999 are the application's own). */
export const CLOSE_LAGGED = 4008;
export const CLOSE_GOING_AWAY = 1001;

export interface HubOptions {
  database: Database;
  outbox: OutboxRepository;
  relay: Pick<OutboxRelay, 'head' | 'recentAfter'>;
  logger: Logger;
  /** Names this instance in `hello`, so a dashboard can tell which one it reached. */
  instance: string;
  /** A client whose unsent data passes this is cut off as lagged: the server never buffers without bound. */
  maxBufferedBytes?: number;
  /** Events held for a client while its catch-up is read; more than this and it is cut off as lagged. */
  maxPendingEvents?: number;
  /** A client that has not answered the previous ping by the next one is dropped. */
  heartbeatMs?: number;
  replayPageSize?: number;
  now?: () => Date;
}

export interface ConnectOptions {
  role: Role;
  /** The last sequence number the client has; undefined for a client that only wants what comes next. */
  since?: number | undefined;
  subscription: Subscription;
}

interface Client {
  socket: WebSocket;
  role: Role;
  subscription: Subscription;
  /** Every event up to this sequence number has been sent or passed over (not subscribed to). */
  position: number;
  /** While the catch-up is being read, live events wait here. */
  pending: OutboxMessage[] | undefined;
  alive: boolean;
  closing: boolean;
}

/**
 * Runs `send` with the client's TCP socket corked, so a batch of frames leaves in one write rather than one
 * system call each: at a thousand events a second to fifty clients that is most of the fan-out's cost.
 * (`ws` exposes no batching of its own; `_socket` is its documented-in-source underlying socket.)
 */
function corked(socket: WebSocket, send: () => void): void {
  const raw = (socket as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
  raw?.cork();
  try {
    send();
  } finally {
    raw?.uncork();
  }
}

const ClientMessage = z.object({
  subscribe: z.array(z.string().max(100)).max(MAX_PATTERNS),
});

/** A client's message, or an error saying what a valid one looks like. */
function parseClientMessage(data: unknown): z.infer<typeof ClientMessage> {
  let raw: unknown;
  try {
    raw = JSON.parse(String(data));
  } catch {
    throw new Error('messages must be JSON, e.g. {"subscribe":["sync:*","contact:updated"]}');
  }
  const parsed = ClientMessage.safeParse(raw);
  if (!parsed.success)
    throw new Error(`expected {"subscribe":["pattern", …]} with at most ${MAX_PATTERNS} patterns`);
  return parsed.data;
}

/**
 * The WebSocket clients of one instance. The relay hands it every committed event once, in order; it sends
 * each to the clients that subscribe to it, first replaying what a reconnecting client missed.
 */
export function createHub(options: HubOptions) {
  const { database, outbox, relay, logger, instance } = options;
  const maxBufferedBytes = options.maxBufferedBytes ?? 4 * 1024 * 1024;
  const maxPendingEvents = options.maxPendingEvents ?? 20_000;
  const replayPageSize = options.replayPageSize ?? 500;
  const now = options.now ?? (() => new Date());
  const clients = new Set<Client>();

  const frame = (type: string, seq: number, data: unknown) =>
    JSON.stringify({ type, seq, at: now().toISOString(), data });

  function cutOff(client: Client, code: number, reason: string): void {
    if (client.closing) return;
    client.closing = true;
    client.pending = undefined;
    clients.delete(client);
    client.socket.close(code, reason);
    // A peer that reads nothing never completes the closing handshake: let go of it.
    setTimeout(() => client.socket.terminate(), 5_000).unref();
  }

  function sendRaw(client: Client, text: string): void {
    if (!client.closing) client.socket.send(text);
  }

  /**
   * Cuts the client off when what it left unread passes the limit. Checked once per batch, before it is sent:
   * a batch is at most a relay page, so a client never holds more than the limit and one page.
   */
  function lagging(client: Client): boolean {
    if (client.socket.bufferedAmount <= maxBufferedBytes) return false;
    logger.info({ instance, buffered: client.socket.bufferedAmount }, 'WebSocket client lagged; cut off');
    cutOff(client, CLOSE_LAGGED, 'lagged: reconnect with ?since=<last seq>');
    return true;
  }

  /** Sends the events after the client's position that it subscribes to, and moves its position. */
  function sendEvents(client: Client, messages: readonly OutboxMessage[], texts?: Map<number, string>): void {
    if (client.closing || lagging(client)) return;
    for (const message of messages) {
      if (message.seq <= client.position) continue;
      client.position = message.seq;
      if (!matches(client.subscription, message.type)) continue;
      sendRaw(client, texts?.get(message.seq) ?? JSON.stringify(message));
    }
  }

  /** Waits while the client's unsent data is over half the limit, so a catch-up never floods memory. */
  async function drained(client: Client): Promise<void> {
    for (let waited = 0; client.socket.bufferedAmount > maxBufferedBytes / 2; waited += 10) {
      if (client.closing) return;
      if (waited > 10_000) {
        cutOff(client, CLOSE_LAGGED, 'lagged: the catch-up was not read');
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async function catchUp(client: Client, since: number): Promise<void> {
    const { oldest, newest } = await outbox.bounds(database.db);
    // After a reset the client reloads its state, which then holds every event up to `newest`.
    const reloadedAt = Math.max(newest, relay.head);
    if (since > reloadedAt) {
      sendRaw(
        client,
        frame('reset', reloadedAt, {
          reason: 'since_ahead',
          message: `since=${since} is past the newest event (${reloadedAt}); reload and continue live`,
          oldest,
        }),
      );
      client.position = reloadedAt;
      return;
    }
    if (oldest > 0 && since < oldest - 1) {
      sendRaw(
        client,
        frame('reset', reloadedAt, {
          reason: 'since_too_old',
          message: `events after ${since} are no longer kept (the oldest is ${oldest}); reload and continue live`,
          oldest,
        }),
      );
      client.position = reloadedAt;
      return;
    }
    // Another instance's relay may be ahead of ours: events up to `since` are simply not sent again.
    client.position = since;
    for (;;) {
      if (client.closing) return;
      const held = relay.recentAfter(client.position);
      if (held) {
        sendEvents(client, held);
        return;
      }
      const page = await outbox.between(database.db, client.position, relay.head, replayPageSize);
      if (page.length === 0) {
        client.position = Math.max(client.position, relay.head);
        return;
      }
      sendEvents(client, page);
      await drained(client);
    }
  }

  function onMessage(client: Client, data: unknown): void {
    try {
      const { subscribe } = parseClientMessage(data);
      client.subscription = parseSubscription(subscribe);
      sendRaw(client, frame('subscribed', client.position, { subscribe: client.subscription.patterns }));
    } catch (error) {
      const message = (error as Error).message;
      sendRaw(client, frame('error', client.position, { code: 'bad_message', message }));
    }
  }

  const heartbeat = setInterval(() => {
    for (const client of clients) {
      if (!client.alive) {
        logger.info({ instance }, 'WebSocket client did not answer a ping; dropped');
        clients.delete(client);
        client.closing = true;
        client.socket.terminate();
        continue;
      }
      client.alive = false;
      client.socket.ping();
    }
  }, options.heartbeatMs ?? 30_000);
  heartbeat.unref();

  return {
    async connect(socket: WebSocket, { role, since, subscription }: ConnectOptions): Promise<void> {
      const client: Client = {
        socket,
        role,
        subscription,
        position: relay.head,
        pending: since === undefined ? undefined : [],
        alive: true,
        closing: false,
      };
      clients.add(client);
      socket.on('pong', () => {
        client.alive = true;
      });
      socket.on('message', (data) => onMessage(client, data));
      socket.on('close', () => {
        client.closing = true;
        clients.delete(client);
      });
      socket.on('error', (error) => logger.debug({ err: error }, 'WebSocket client error'));
      sendRaw(
        client,
        frame('hello', since ?? client.position, { role, instance, subscribe: subscription.patterns }),
      );
      if (since === undefined) return;
      try {
        await catchUp(client, since);
      } catch (error) {
        logger.warn({ err: error }, 'could not replay missed events to a WebSocket client');
        cutOff(client, 1011, 'could not read the missed events; reconnect');
        return;
      }
      const waiting = client.pending ?? [];
      client.pending = undefined;
      sendEvents(client, waiting);
    },

    /** Passes committed events, in order, to every client that subscribes to them. */
    broadcast(messages: readonly OutboxMessage[]): void {
      if (clients.size === 0) return;
      const texts = new Map(messages.map((message) => [message.seq, JSON.stringify(message)]));
      for (const client of clients) {
        if (client.pending) {
          client.pending.push(...messages);
          if (client.pending.length > maxPendingEvents)
            cutOff(client, CLOSE_LAGGED, 'lagged: catch-up too slow');
          continue;
        }
        corked(client.socket, () => sendEvents(client, messages, texts));
      }
    },

    get size(): number {
      return clients.size;
    },

    /** Tells every client this instance is going away, so dashboards reconnect (to another one). */
    close(): void {
      clearInterval(heartbeat);
      for (const client of [...clients]) cutOff(client, CLOSE_GOING_AWAY, 'server shutting down');
    },
  };
}

export type Hub = ReturnType<typeof createHub>;
