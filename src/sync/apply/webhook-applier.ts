import type { Database } from '../../db/client.ts';
import type { Executor } from '../../db/query.ts';
import type { ErrorsRepository } from '../../errors/errors.repository.ts';
import { describeError } from '../../errors/sanitize.ts';
import type { WebhookEvent } from '../../hubspot/webhook-events.ts';
import type { Logger } from '../../logger.ts';
import type { ClaimedEvent, InboxRepository } from '../../webhooks/inbox.repository.ts';
import type { ApplyRepository } from './apply.repository.ts';
import { applyContactChanges } from './apply-changes.ts';
import type { ContactChange } from './contact-state.ts';
import { changesFromEvent } from './webhook-changes.ts';

export interface WebhookApplierDeps {
  database: Database;
  inbox: InboxRepository;
  apply: ApplyRepository;
  errors: ErrorsRepository;
  logger: Logger;
}

// Failures that say nothing about the events: the same batch will go through on the next try.
const TRANSIENT_CODES = new Set([
  '40001',
  '40P01',
  '55P03',
  '57P01',
  '08006',
  '08003',
  'CONNECTION_CLOSED',
  'ECONNRESET',
  'ECONNREFUSED',
]);

function isTransient(error: unknown): boolean {
  for (let current = error; current instanceof Error; current = current.cause) {
    if (TRANSIENT_CODES.has(String((current as { code?: unknown }).code))) return true;
  }
  return false;
}

const eventKey = (event: WebhookEvent) => `${event.subscriptionId}:${event.eventId}`;

export function createWebhookApplier({ database, inbox, apply, errors, logger }: WebhookApplierDeps) {
  async function applyClaimed(tx: Executor, claimed: readonly ClaimedEvent[]): Promise<void> {
    const batch = new Map<string, ContactChange[]>();
    const sources = new Map<ContactChange, string>();
    for (const { payload } of claimed) {
      for (const { hubspotId, change } of changesFromEvent(payload)) {
        const changes = batch.get(hubspotId) ?? [];
        changes.push(change);
        batch.set(hubspotId, changes);
        sources.set(change, eventKey(payload));
      }
    }
    await applyContactChanges(tx, apply, batch, {
      source: 'webhook',
      userId: 'hubspot:webhook',
      sessionId: null,
      quietWhenUnchanged: false,
      sourceIdOf: (change) => sources.get(change) ?? null,
    });
    await inbox.markDone(
      tx,
      claimed.map((row) => row.id),
    );
  }

  /** Applies one contact's events alone; a failure is logged, counted and backed off without touching others. */
  async function applyGroup(ids: readonly number[]): Promise<void> {
    try {
      await database.db.transaction(async (tx) => {
        const claimed = await inbox.claim(tx, ids.length, ids);
        if (claimed.length > 0) await applyClaimed(tx, claimed);
      });
    } catch (error) {
      if (isTransient(error)) throw error;
      const described = describeError(error);
      await database.db.transaction(async (tx) => {
        const [events] = await Promise.all([inbox.claim(tx, ids.length, ids)]);
        const entry = await errors.record({
          errorType: 'webhook.apply_failed',
          errorMessage: described.message,
          stackTrace: described.stack,
          context: { events: events.map((e) => e.payload), attempts: (events[0]?.attempts ?? 0) + 1 },
        });
        const parked = await inbox.recordFailure(tx, ids, described.message, entry.id);
        logger.error({ err: error, events: ids.length, parked }, 'webhook events failed to apply');
      });
    }
  }

  return {
    /**
     * Claims up to `limit` due events and applies them in one transaction. If the batch fails, its events are
     * retried contact by contact, so one poison event holds back only its own contact. Returns how many events
     * were claimed (0: nothing was due).
     */
    async applyNext(limit: number): Promise<number> {
      let claimed: ClaimedEvent[] = [];
      try {
        return await database.db.transaction(async (tx) => {
          claimed = await inbox.claim(tx, limit);
          if (claimed.length > 0) await applyClaimed(tx, claimed);
          return claimed.length;
        });
      } catch (error) {
        if (isTransient(error) || claimed.length === 0) throw error;
        logger.warn({ err: error, events: claimed.length }, 'batch failed; applying its contacts one by one');
        const groups = new Map<number, number[]>();
        for (const { id, payload } of claimed)
          groups.set(payload.objectId, [...(groups.get(payload.objectId) ?? []), id]);
        for (const ids of groups.values()) await applyGroup(ids);
        return claimed.length;
      }
    },
  };
}

export type WebhookApplier = ReturnType<typeof createWebhookApplier>;
