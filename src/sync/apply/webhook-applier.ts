import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client.ts';
import type { Executor } from '../../db/query.ts';
import { isTransient } from '../../db/transient.ts';
import type { ErrorsRepository } from '../../errors/errors.repository.ts';
import { describeError } from '../../errors/sanitize.ts';
import type { WebhookEvent } from '../../hubspot/webhook-events.ts';
import type { Logger } from '../../logger.ts';
import type { ClaimedEvent, ClaimScope, InboxRepository, Shard } from '../../webhooks/inbox.repository.ts';
import { applyAssociationWrites } from '../associations/apply-associations.ts';
import { associationFromEvent } from '../associations/association-changes.ts';
import { currentProperties, type MirroredProperties } from '../schema/property-set.ts';
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
  /**
   * The mirrored properties (HUBSPOT_CONTACT_PROPERTIES): a propertyChange for any other is marked done and
   * not applied, so webhooks and sweeps mirror the same set. Absent: every property is applied.
   */
  properties?: MirroredProperties;
}

const eventKey = (event: WebhookEvent) => `${event.subscriptionId}:${event.eventId}`;

/**
 * Shard batches touch only their own contacts, so any number run at once (shared); a merge batch touches
 * contacts of every shard, so it runs alone (exclusive), on every instance. Without it two shards could each
 * insert a contact the other then waits on, and deadlock.
 */
const APPLY_BARRIER_KEY = 7_262_002_003n;

async function holdBarrier(tx: Executor, scope: ClaimScope): Promise<void> {
  await tx.execute(
    scope.shard
      ? sql`select pg_advisory_xact_lock_shared(${APPLY_BARRIER_KEY})`
      : sql`select pg_advisory_xact_lock(${APPLY_BARRIER_KEY})`,
  );
}

export function createWebhookApplier({
  database,
  inbox,
  apply,
  errors,
  logger,
  properties,
}: WebhookApplierDeps) {
  async function applyClaimed(tx: Executor, claimed: readonly ClaimedEvent[]): Promise<void> {
    const mirrored = properties ? new Set(currentProperties(properties)) : undefined;
    const batch = new Map<string, ContactChange[]>();
    const sources = new Map<ContactChange, string>();
    for (const { payload } of claimed) {
      for (const { hubspotId, change } of changesFromEvent(payload)) {
        if (mirrored && change.kind === 'property' && !mirrored.has(change.name)) continue;
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
    const associations = claimed.flatMap(({ payload }) => associationFromEvent(payload) ?? []);
    await applyAssociationWrites(tx, apply, associations, 'webhook');
    await inbox.markDone(
      tx,
      claimed.map((row) => row.id),
    );
  }

  /** Applies one contact's events alone; a failure is logged, counted and backed off without touching others. */
  async function applyGroup(ids: readonly number[], scope: ClaimScope): Promise<void> {
    const only = { ...scope, onlyIds: ids };
    try {
      await database.db.transaction(async (tx) => {
        await holdBarrier(tx, only);
        const claimed = await inbox.claim(tx, ids.length, only);
        if (claimed.length > 0) await applyClaimed(tx, claimed);
      });
    } catch (error) {
      if (isTransient(error)) throw error;
      const described = describeError(error);
      await database.db.transaction(async (tx) => {
        const events = await inbox.claim(tx, ids.length, only);
        const entry = await errors.record({
          errorType: 'webhook.apply_failed',
          errorMessage: described.message,
          stackTrace: described.stack,
          context: { events: events.map((e) => e.payload), attempts: (events[0]?.attempts ?? 0) + 1 },
        });
        const parked = await inbox.recordFailure(tx, ids, described.message, entry.id);
        // Described, not the error itself: drizzle's message quotes the statement's parameters, a person's data.
        logger.error({ error: described, events: ids.length, parked }, 'webhook events failed to apply');
      });
    }
  }

  /**
   * Claims up to `limit` due events in `scope` and applies them in one transaction. If the batch fails, its
   * events are retried contact by contact, so one poison event holds back only its own contact. Returns how
   * many events were claimed (0: nothing was due).
   */
  async function applyNext(limit: number, scope: ClaimScope): Promise<number> {
    let claimed: ClaimedEvent[] = [];
    try {
      return await database.db.transaction(async (tx) => {
        await holdBarrier(tx, scope);
        claimed = await inbox.claim(tx, limit, scope);
        if (claimed.length > 0) await applyClaimed(tx, claimed);
        return claimed.length;
      });
    } catch (error) {
      if (isTransient(error) || claimed.length === 0) throw error;
      logger.warn(
        { error: describeError(error), events: claimed.length },
        'batch failed; applying its contacts one by one',
      );
      const groups = new Map<number, number[]>();
      for (const { id, payload } of claimed)
        groups.set(payload.objectId, [...(groups.get(payload.objectId) ?? []), id]);
      for (const ids of groups.values()) await applyGroup(ids, scope);
      return claimed.length;
    }
  }

  return {
    /** Any due events (the whole inbox), or only those of `shard`'s contacts, merges excepted. */
    applyNext: (limit: number, shard?: Shard) => applyNext(limit, shard ? { shard } : {}),
    /** Due merge events, run while no shard batch is (checked first, so an inbox without merges costs one probe). */
    async applyMerges(limit: number): Promise<number> {
      if (!(await inbox.anyDue(database.db, { merges: true }))) return 0;
      return applyNext(limit, { merges: true });
    },
  };
}

export type WebhookApplier = ReturnType<typeof createWebhookApplier>;
