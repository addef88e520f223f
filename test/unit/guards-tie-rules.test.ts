import { describe, expect, test } from 'vitest';
import { applyChanges, type ContactChange, emptyContact } from '../../src/sync/apply/contact-state.ts';

const T = 1_795_000_000_000;

/** Applies the changes in one batch, and one by one, in the order given. */
function both(changes: ContactChange[]) {
  const together = applyChanges(emptyContact('1'), changes).after;
  let apart = emptyContact('1');
  for (const change of changes) apart = applyChanges(apart, [change]).after;
  return [together, apart];
}

describe('the documented tie rules', () => {
  test('at equal HubSpot times the larger value wins, in whichever order the values arrive', () => {
    const small: ContactChange = { kind: 'property', at: T, name: 'city', value: 'Amsterdam' };
    const large: ContactChange = { kind: 'property', at: T, name: 'city', value: 'Zurich' };
    for (const order of [
      [small, large],
      [large, small],
    ])
      for (const state of both(order)) {
        expect(state.data.city).toBe('Zurich');
        expect(state.versions.city).toBe(T);
      }
  });

  test('a cleared value loses a tie to any value', () => {
    const cleared: ContactChange = { kind: 'property', at: T, name: 'city', value: '' };
    const set: ContactChange = { kind: 'property', at: T, name: 'city', value: 'Oslo' };
    for (const order of [
      [cleared, set],
      [set, cleared],
    ])
      for (const state of both(order)) expect(state.data.city).toBe('Oslo');
  });

  test('a deletion beats a restore at the same millisecond, in whichever order they arrive', () => {
    const created: ContactChange = { kind: 'lifecycle', at: T - 1_000, event: 'created' };
    const deleted: ContactChange = { kind: 'lifecycle', at: T, event: 'deleted' };
    const restored: ContactChange = { kind: 'lifecycle', at: T, event: 'restored' };
    for (const order of [
      [created, deleted, restored],
      [created, restored, deleted],
    ])
      for (const state of both(order)) expect(state.archived).toBe(true);
  });

  test('a restore a millisecond after a deletion does restore', () => {
    const deleted: ContactChange = { kind: 'lifecycle', at: T, event: 'deleted' };
    const restored: ContactChange = { kind: 'lifecycle', at: T + 1, event: 'restored' };
    for (const order of [
      [deleted, restored],
      [restored, deleted],
    ])
      for (const state of both(order)) expect(state.archived).toBe(false);
  });
});
