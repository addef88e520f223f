import { hostname } from 'node:os';
import type { Database } from '../db/client.ts';
import type { Logger } from '../logger.ts';
import { createHub, type HubOptions } from './hub.ts';
import { createOutboxRepository } from './outbox.ts';
import { createOutboxRelay, type RelayOptions } from './relay.ts';

export interface RealtimeOptions {
  database: Database;
  logger: Logger;
  relay?: Pick<RelayOptions, 'pollMs' | 'fallbackPollMs' | 'recentLimit'>;
  hub?: Pick<HubOptions, 'maxBufferedBytes' | 'maxPendingEvents' | 'heartbeatMs' | 'instance'>;
}

/** One instance's real-time half: the relay tailing the outbox, and the WebSocket clients it feeds. */
export function createRealtime({ database, logger, ...options }: RealtimeOptions) {
  const outbox = createOutboxRepository();
  const log = logger.child({ component: 'realtime' });
  const relay = createOutboxRelay({
    database,
    outbox,
    logger: log,
    // The relay delivers only once started, by which time the hub exists.
    deliver: (messages) => hub.broadcast(messages),
    ...options.relay,
  });
  const hub = createHub({
    database,
    outbox,
    relay,
    logger: log,
    instance: options.hub?.instance ?? `${hostname()}:${process.pid}`,
    ...options.hub,
  });
  return {
    relay,
    hub,
    start: () => relay.start(),
    async stop() {
      hub.close();
      await relay.stop();
    },
  };
}

export type Realtime = ReturnType<typeof createRealtime>;
