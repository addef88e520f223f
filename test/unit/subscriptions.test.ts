import { describe, expect, test } from 'vitest';
import { EVENT_TYPES, everything, matches, parseSubscription } from '../../src/realtime/subscriptions.ts';

const matched = (patterns: string[]) =>
  EVENT_TYPES.filter((type) => matches(parseSubscription(patterns), type));

describe('event subscriptions', () => {
  test('exact types, family wildcards and * each select what they name', () => {
    expect(matched(['contact:updated'])).toEqual(['contact:updated']);
    expect(matched(['sync:*'])).toEqual(['sync:start', 'sync:progress', 'sync:complete', 'sync:error']);
    expect(matched(['sync:*', 'contact:merged'])).toEqual([
      'sync:start',
      'sync:progress',
      'sync:complete',
      'sync:error',
      'contact:merged',
    ]);
    expect(matched(['*'])).toEqual([...EVENT_TYPES]);
    expect(EVENT_TYPES.every((type) => matches(everything(), type))).toBe(true);
  });

  test('a family wildcard does not reach a type that merely starts alike', () => {
    const contacts = parseSubscription(['contact:*']);
    expect(matches(contacts, 'contacts:updated')).toBe(false);
    expect(matches(contacts, 'connection:status')).toBe(false);
  });

  test('unknown patterns, empty and oversized lists are refused with a message naming the problem', () => {
    expect(() => parseSubscription(['contact:bogus'])).toThrow(/unknown event pattern "contact:bogus"/);
    expect(() => parseSubscription(['sync*'])).toThrow(/sync\*/);
    expect(() => parseSubscription(['nope:*'])).toThrow(/nope:\*/);
    expect(() => parseSubscription([])).toThrow(/at least one/);
    expect(() => parseSubscription(Array.from({ length: 33 }, () => '*'))).toThrow(/at most 32/);
  });
});
