import type { Executor } from '../../db/query.ts';
import { retireMergedAway } from '../associations/apply-associations.ts';
import type {
  ApplyRepository,
  AuditWrite,
  ContactRowWrite,
  HistoryWrite,
  OutboxWrite,
  SyncLogWrite,
} from './apply.repository.ts';
import { madeChanges } from './computed-properties.ts';
import { type ApplyOutcome, applyChanges, type ContactChange, type ContactState } from './contact-state.ts';

export interface ChangeContext {
  source: 'webhook' | 'sweep' | 'fetch';
  /** Who the audit trail names: `hubspot:webhook`, `hubspot:sweep`, … */
  userId: string;
  sessionId: string | null;
  /** Sweeps see every contact: they log and keep history only for what changed. */
  quietWhenUnchanged: boolean;
  /**
   * The first full sweep imports the whole portal: dashboards hear of it through the session's progress,
   * not through a `contact:created` event per contact.
   */
  importing?: boolean;
  /** The id of whatever carried a change (an event key), for the property history. */
  sourceIdOf?: (change: ContactChange) => string | null;
}

const stateChanged = (a: ContactState, b: ContactState) =>
  !a.exists ||
  a.archived !== b.archived ||
  a.mergedInto !== b.mergedInto ||
  a.lifecycleVersion !== b.lifecycleVersion ||
  a.erased !== b.erased ||
  a.syncStatus !== b.syncStatus ||
  !sameEntries(a.versions, b.versions) ||
  !sameEntries(a.data, b.data);

function sameEntries<T>(a: Record<string, T>, b: Record<string, T>): boolean {
  let count = 0;
  for (const name in a) {
    if (!(name in b) || a[name] !== b[name]) return false;
    count++;
  }
  for (const _ in b) count--;
  return count === 0;
}

function isEmpty(record: Record<string, unknown>): boolean {
  for (const _ in record) return false;
  return true;
}

function changedEntries<T>(before: Record<string, T>, after: Record<string, T>): Record<string, T> {
  // Nothing held before (a contact seen for the first time): everything changed, no copy needed.
  if (isEmpty(before)) return after;
  const changed: Record<string, T> = {};
  for (const [name, value] of Object.entries(after))
    if (!(name in before) || before[name] !== value) changed[name] = value;
  return changed;
}

function contactRowOf({ before, after, changedProperties, transitions }: ApplyOutcome): ContactRowWrite {
  return {
    hubspot_id: after.hubspotId,
    data_patch: after.erased ? {} : changedEntries(before.data, after.data),
    versions_patch: after.erased ? {} : changedEntries(before.versions, after.versions),
    replace: after.erased && !before.erased,
    archived: after.archived,
    merged_into: after.mergedInto,
    lifecycle_version: after.lifecycleVersion,
    erased: after.erased,
    sync_status: after.syncStatus,
    touched: changedProperties.length > 0 || transitions.length > 0,
  };
}

const pick = (data: Record<string, string | null>, names: readonly string[]) =>
  Object.fromEntries(names.map((name) => [name, data[name] ?? null]));

function operationOf(outcome: ApplyOutcome): SyncLogWrite['operation'] {
  const [transition] = outcome.transitions;
  if (transition === 'created' || transition === 'restored') return 'create';
  if (transition) return 'delete';
  return outcome.changedProperties.length > 0 ? 'update' : 'sync';
}

function outboxOf(outcome: ApplyOutcome, source: ChangeContext['source']): OutboxWrite[] {
  const { hubspotId, mergedInto } = outcome.after;
  const properties = madeChanges(outcome.changedProperties);
  const events: OutboxWrite[] = outcome.transitions.map((transition) => ({
    type: transition === 'erased' ? 'contact:deleted' : `contact:${transition}`,
    data: {
      hubspotId,
      properties,
      source,
      ...(transition === 'merged' ? { mergedInto } : {}),
      ...(transition === 'erased' ? { privacy: true } : {}),
    },
  }));
  if (events.length === 0 && properties.length > 0)
    events.push({ type: 'contact:updated', data: { hubspotId, properties, source } });
  return events;
}

function batchSummary(outcomes: readonly ApplyOutcome[], context: ChangeContext): SyncLogWrite {
  const count = (test: (outcome: ApplyOutcome) => boolean) => outcomes.filter(test).length;
  return {
    session_id: context.sessionId,
    operation: 'sync',
    entity_id: '*',
    status: 'success',
    details: {
      source: context.source,
      contacts: outcomes.length,
      created: count((o) => o.transitions.includes('created')),
      updated: count((o) => o.transitions.length === 0 && madeChanges(o.changedProperties).length > 0),
      archived: count((o) => o.transitions.some((t) => t === 'deleted' || t === 'merged' || t === 'erased')),
      restored: count((o) => o.transitions.includes('restored')),
      stale: outcomes.reduce((total, o) => total + o.stale.length, 0),
    },
  };
}

type PropertyChange = ContactChange & { kind: 'property' };

/** Each property value the changes carry, a read's one by one. */
function* propertyChanges(changes: readonly ContactChange[]): Generator<PropertyChange> {
  for (const change of changes) {
    if (change.kind === 'property') yield change;
    else if (change.kind === 'read') {
      for (const [name, value] of Object.entries(change.properties))
        yield { kind: 'property', at: change.at, name, value };
    }
  }
}

const keyOf = (change: PropertyChange) => `${change.at}\u0000${change.name}\u0000${change.value ?? ''}`;

/**
 * The properties a contact's changes read and write, or all of them (`null`): for an erasure, which clears
 * every one, and for a read of the whole record (a sweep page or a fetch), where picking costs more than it saves.
 */
function propertiesTouched(changes: readonly ContactChange[]): string[] | null {
  const names = new Set<string>();
  for (const change of changes) {
    if (change.kind === 'property') names.add(change.name);
    else if (change.kind === 'read' || (change.kind === 'lifecycle' && change.event === 'erased'))
      return null;
  }
  return [...names];
}

/**
 * The one apply step shared by webhooks, fetch-backs and sweeps: locks the contacts, folds their changes,
 * and writes the contact rows, property history, sync log, audit trail and outbox events in the caller's
 * transaction, so either all of it commits or none of it.
 */
export async function applyContactChanges(
  tx: Executor,
  repository: ApplyRepository,
  batch: ReadonlyMap<string, readonly ContactChange[]>,
  context: ChangeContext,
): Promise<ApplyOutcome[]> {
  if (batch.size === 0) return [];
  const fold = async (hubspotIds: readonly string[]) => {
    const states = await repository.lockContacts(
      tx,
      new Map(hubspotIds.map((id) => [id, propertiesTouched(batch.get(id) ?? [])])),
    );
    return hubspotIds.map((hubspotId) => {
      const before = states.get(hubspotId);
      if (!before) throw new Error(`contact ${hubspotId} was not locked`);
      return applyChanges(before, batch.get(hubspotId) ?? []);
    });
  };
  let outcomes = await fold([...batch.keys()]);
  // New contacts are inserted once, in their final state. One that another transaction inserted in the
  // meantime now has a row (its insert committed before ours could go on): fold its changes into that.
  const fresh = outcomes.filter((o) => !o.before.exists);
  const inserted = await repository.insertContacts(
    tx,
    fresh.map((o) => contactRowOf(o)),
  );
  const raced = fresh.filter((o) => !inserted.has(o.after.hubspotId)).map((o) => o.after.hubspotId);
  if (raced.length > 0) {
    const racedSet = new Set(raced);
    outcomes = [...outcomes.filter((o) => !racedSet.has(o.after.hubspotId)), ...(await fold(raced))];
  }

  const contactRows: ContactRowWrite[] = [];
  const history: HistoryWrite[] = [];
  const syncLogs: SyncLogWrite[] = [];
  const audit: AuditWrite[] = [];
  const outbox: OutboxWrite[] = [];
  const erased: string[] = [];

  for (const outcome of outcomes) {
    const { before, after, transitions, stale } = outcome;
    const changedProperties = madeChanges(outcome.changedProperties);
    const visible = changedProperties.length > 0 || transitions.length > 0;
    if (before.exists && stateChanged(before, after)) contactRows.push(contactRowOf(outcome));
    // Also on later batches: an event that reached the inbox after the erasure still carries a value.
    if (after.erased) erased.push(after.hubspotId);

    // A contact a sweep or fetch saw for the first time: the read is its origin, and its values are the
    // contact row itself. History, logs and audit record changes to contacts we already held.
    const firstSight = context.quietWhenUnchanged && !before.exists;
    if (!after.erased && !firstSight) {
      const staleKeys = new Set(
        stale.flatMap((change) => (change.kind === 'property' ? [keyOf(change)] : [])),
      );
      const changedSet = new Set(changedProperties);
      for (const change of propertyChanges(batch.get(after.hubspotId) ?? [])) {
        const applied = !staleKeys.has(keyOf(change));
        if (context.quietWhenUnchanged && !(applied && changedSet.has(change.name))) continue;
        history.push({
          hubspot_id: after.hubspotId,
          property_name: change.name,
          value: change.value === '' ? null : change.value,
          occurred_at: change.at,
          source: context.source,
          source_id: context.sourceIdOf?.(change) ?? null,
          applied,
        });
      }
    }

    // Webhooks: a line per contact only for what stands out (a lifecycle change, a stale event), the rest is
    // in the batch's summary and the audit trail. Sweeps and fetches: a line per contact they had to fix.
    const notes = (batch.get(after.hubspotId) ?? []).flatMap((c) => (c.kind === 'note' ? [c.detail] : []));
    const noteworthy =
      notes.length > 0 ||
      (context.quietWhenUnchanged ? visible || stale.length > 0 : transitions.length > 0 || stale.length > 0);
    if (!firstSight && noteworthy) {
      syncLogs.push({
        session_id: context.sessionId,
        operation: operationOf(outcome),
        entity_id: after.hubspotId,
        status: !visible && stale.length > 0 ? 'warning' : 'success',
        details: {
          source: context.source,
          transitions,
          changed: after.erased ? [] : changedProperties,
          stale: stale.length,
          ...(notes.length > 0 ? { associations: notes } : {}),
        },
      });
    }

    if (visible && !firstSight) {
      audit.push({
        entity_id: after.hubspotId,
        operation:
          operationOf(outcome) === 'sync' ? 'update' : (operationOf(outcome) as AuditWrite['operation']),
        old_data: after.erased
          ? null
          : {
              properties: pick(before.data, changedProperties),
              archived: before.archived,
              mergedInto: before.mergedInto,
            },
        new_data: after.erased
          ? { erased: true }
          : {
              properties: pick(after.data, changedProperties),
              archived: after.archived,
              mergedInto: after.mergedInto,
            },
        user_id: context.userId,
      });
    }
    if (visible && (before.exists || !context.importing)) outbox.push(...outboxOf(outcome, context.source));
  }

  if (!context.quietWhenUnchanged) syncLogs.push(batchSummary(outcomes, context));
  await repository.updateContacts(tx, contactRows);
  const merging = outcomes
    .filter((o) => o.transitions.includes('merged'))
    .flatMap((o) => [o.after.hubspotId, o.after.mergedInto ?? '']);
  await repository.collapseMergeChains(tx, merging.filter(Boolean));
  await retireMergedAway(tx, repository, outcomes, batch, context.source);
  await repository.eraseTraces(tx, erased);
  await repository.insertHistory(tx, history);
  await repository.insertSyncLogs(tx, syncLogs);
  await repository.insertAudit(tx, audit);
  await repository.insertOutbox(tx, outbox);
  return outcomes;
}
