import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { WebhookEvent } from '../../src/hubspot/webhook-events.ts';
import {
  applyChanges,
  type ContactChange,
  type ContactState,
  emptyContact,
} from '../../src/sync/apply/contact-state.ts';
import { changesFromEvent } from '../../src/sync/apply/webhook-changes.ts';

const base = { eventId: 1, subscriptionId: 1, portalId: 62515, attemptNumber: 0 };
const T = 1_795_000_000_000;

function event(
  partial: Partial<WebhookEvent> & Pick<WebhookEvent, 'subscriptionType' | 'objectId' | 'occurredAt'>,
) {
  return { ...base, ...partial } as WebhookEvent;
}

/** Applies events to a set of contacts batch by batch, as the worker does. */
function deliver(batches: WebhookEvent[][], start = new Map<string, ContactState>()) {
  const contacts = new Map(start);
  for (const batch of batches) {
    const byContact = new Map<string, ReturnType<typeof changesFromEvent>>();
    for (const targeted of batch.flatMap(changesFromEvent)) {
      byContact.set(targeted.hubspotId, [...(byContact.get(targeted.hubspotId) ?? []), targeted]);
    }
    for (const [id, targeted] of byContact) {
      const before = contacts.get(id) ?? emptyContact(id);
      contacts.set(
        id,
        applyChanges(
          before,
          targeted.map((t) => t.change),
        ).after,
      );
    }
  }
  return contacts;
}

const comparable = (contacts: Map<string, ContactState>) =>
  Object.fromEntries(
    [...contacts].sort(([a], [b]) => a.localeCompare(b)).map(([id, c]) => [id, { ...c, exists: true }]),
  );

describe('applyChanges', () => {
  test('a late propertyChange never overwrites a newer value, and is reported stale', () => {
    const contacts = deliver([
      [
        event({
          subscriptionType: 'contact.propertyChange',
          objectId: 1,
          occurredAt: T + 2,
          propertyName: 'email',
          propertyValue: 'new@x.io',
        }),
      ],
      [
        event({
          subscriptionType: 'contact.propertyChange',
          objectId: 1,
          occurredAt: T + 1,
          propertyName: 'email',
          propertyValue: 'old@x.io',
        }),
      ],
    ]);
    expect(contacts.get('1')?.data.email).toBe('new@x.io');
    const outcome = applyChanges(contacts.get('1') as ContactState, [
      { kind: 'property', at: T, name: 'email', value: 'older@x.io' },
    ]);
    expect(outcome.stale).toHaveLength(1);
    expect(outcome.changedProperties).toEqual([]);
  });

  test('an old deletion cannot archive a contact restored after it', () => {
    const contacts = deliver([
      [event({ subscriptionType: 'contact.restore', objectId: 5, occurredAt: T + 10 })],
      [event({ subscriptionType: 'contact.deletion', objectId: 5, occurredAt: T + 5 })],
    ]);
    expect(contacts.get('5')).toMatchObject({ archived: false, syncStatus: 'pending' });
  });

  test('a merge archives every absorbed id into the survivor, a new record when HubSpot made one', () => {
    const contacts = deliver([
      [
        event({
          subscriptionType: 'contact.merge',
          objectId: 10,
          occurredAt: T,
          primaryObjectId: 10,
          mergedObjectIds: [11],
          newObjectId: 99,
        }),
      ],
    ]);
    expect(contacts.get('10')).toMatchObject({ archived: true, mergedInto: '99' });
    expect(contacts.get('11')).toMatchObject({ archived: true, mergedInto: '99' });
    expect(contacts.get('99')).toMatchObject({ archived: false, mergedInto: null, syncStatus: 'pending' });
  });

  test('a privacy deletion erases every property and no later event brings data back', () => {
    const contacts = deliver([
      [
        event({
          subscriptionType: 'contact.propertyChange',
          objectId: 7,
          occurredAt: T,
          propertyName: 'email',
          propertyValue: 'a@x.io',
        }),
      ],
      [event({ subscriptionType: 'contact.privacyDeletion', objectId: 7, occurredAt: T + 1 })],
      [
        event({
          subscriptionType: 'contact.propertyChange',
          objectId: 7,
          occurredAt: T + 2,
          propertyName: 'email',
          propertyValue: 'b@x.io',
        }),
      ],
      [event({ subscriptionType: 'contact.restore', objectId: 7, occurredAt: T + 3 })],
    ]);
    expect(contacts.get('7')).toMatchObject({ data: {}, erased: true, archived: true });
  });

  test('a webhook older than a sweep’s read does not undo it, and a newer one does, in either order', () => {
    const read = (at: number, email: string): ContactChange[] => [
      { kind: 'lifecycle', at, event: 'observedLive' },
      { kind: 'read', at, properties: { email } },
    ];
    const webhook = (at: number, email: string): ContactChange[] => [
      { kind: 'property', at, name: 'email', value: email },
    ];
    const fold = (...steps: ContactChange[][]) =>
      steps.reduce((state, changes) => applyChanges(state, changes).after, emptyContact('1')).data.email;

    expect(fold(read(T + 10, 'read@x.io'), webhook(T + 5, 'older@x.io'))).toBe('read@x.io');
    expect(fold(webhook(T + 5, 'older@x.io'), read(T + 10, 'read@x.io'))).toBe('read@x.io');
    expect(fold(read(T + 10, 'read@x.io'), webhook(T + 15, 'newer@x.io'))).toBe('newer@x.io');
    expect(fold(webhook(T + 15, 'newer@x.io'), read(T + 10, 'read@x.io'))).toBe('newer@x.io');
  });

  test('a read of a contact deleted after it does not bring it back; one made after a restore does', () => {
    const synced: ContactState = { ...emptyContact('1'), exists: true, syncStatus: 'synced' };
    const deleted = applyChanges(synced, [{ kind: 'lifecycle', at: T + 10, event: 'deleted' }]).after;
    const staleRead = applyChanges(deleted, [{ kind: 'lifecycle', at: T + 5, event: 'observedLive' }]);
    expect(staleRead.after.archived).toBe(true);
    const laterRead = applyChanges(deleted, [{ kind: 'lifecycle', at: T + 20, event: 'observedLive' }]);
    expect(laterRead.after.archived).toBe(false);
    expect(laterRead.transitions).toEqual(['restored']);
    // A read brings the values with it: no fetch is owed, unlike a restore event.
    expect(laterRead.after.syncStatus).not.toBe('pending');
  });

  test('a cleared property ("" in a webhook) equals the API’s null', () => {
    const outcome = applyChanges(emptyContact('1'), [{ kind: 'property', at: T, name: 'phone', value: '' }]);
    expect(outcome.after.data.phone).toBeNull();
  });

  test('transitions name what a dashboard should show', () => {
    const created = applyChanges(emptyContact('1'), [{ kind: 'lifecycle', at: T, event: 'created' }]);
    expect(created.transitions).toEqual(['created']);
    const deleted = applyChanges(created.after, [{ kind: 'lifecycle', at: T + 1, event: 'deleted' }]);
    expect(deleted.transitions).toEqual(['deleted']);
    const restored = applyChanges(deleted.after, [{ kind: 'lifecycle', at: T + 2, event: 'restored' }]);
    expect(restored.transitions).toEqual(['restored']);
    const updated = applyChanges(restored.after, [
      { kind: 'property', at: T + 3, name: 'email', value: 'x@y.io' },
    ]);
    expect([updated.transitions, updated.changedProperties]).toEqual([[], ['email']]);
  });
});

// A random history of a few contacts: every kind of event, timestamps that often collide.
const history = fc.array(
  fc.record({
    objectId: fc.integer({ min: 1, max: 4 }),
    occurredAt: fc.integer({ min: T, max: T + 20 }),
    kind: fc.constantFrom(
      'creation',
      'deletion',
      'restore',
      'propertyChange',
      'propertyChange',
      'merge',
      'privacyDeletion',
    ),
    propertyName: fc.constantFrom('email', 'firstname', 'phone'),
    propertyValue: fc.constantFrom('', 'a', 'b', 'c'),
    mergedInto: fc.integer({ min: 1, max: 5 }),
    newObjectId: fc.option(fc.integer({ min: 100, max: 101 }), { nil: undefined }),
  }),
  { maxLength: 25 },
);

type HistoryRecord = (typeof history extends fc.Arbitrary<infer T> ? T : never)[number];

function toEvents(records: HistoryRecord[]): WebhookEvent[] {
  return records.map((r, i) => {
    const common = { eventId: i, objectId: r.objectId, occurredAt: r.occurredAt };
    switch (r.kind) {
      case 'propertyChange':
        return event({
          ...common,
          subscriptionType: 'contact.propertyChange',
          propertyName: r.propertyName,
          propertyValue: r.propertyValue,
        });
      case 'merge':
        return event({
          ...common,
          subscriptionType: 'contact.merge',
          primaryObjectId: r.mergedInto,
          mergedObjectIds: r.objectId === r.mergedInto ? [r.objectId + 1] : [r.objectId],
          ...(r.newObjectId ? { newObjectId: r.newObjectId } : {}),
        });
      default:
        return event({
          ...common,
          subscriptionType: `contact.${r.kind}` as WebhookEvent['subscriptionType'],
        });
    }
  });
}

describe('delivery order does not matter', () => {
  test('any interleaving, duplication and batching converges to the in-order state', () => {
    fc.assert(
      fc.property(
        history.chain((records) => {
          const events = toEvents(records);
          return fc.record({
            events: fc.constant(events),
            shuffled: fc.shuffledSubarray([...events, ...events], { minLength: 2 * events.length }),
            duplicates: fc.subarray(events),
            cuts: fc.array(fc.integer({ min: 0, max: 60 }), { maxLength: 6 }),
          });
        }),
        ({ events, shuffled, duplicates, cuts }) => {
          const inOrder = [...events].sort((a, b) => a.occurredAt - b.occurredAt);
          const expected = deliver([inOrder]);
          const delivered = [...shuffled, ...duplicates];
          const edges = [
            ...new Set([0, ...cuts.map((c) => c % (delivered.length + 1)), delivered.length]),
          ].sort((a, b) => a - b);
          const batches = edges.slice(1).map((end, i) => delivered.slice(edges[i], end));
          expect(comparable(deliver(batches))).toEqual(comparable(expected));
        },
      ),
      { numRuns: 500 },
    );
  });
});
