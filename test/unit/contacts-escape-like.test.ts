import { describe, expect, test } from 'vitest';
import { escapeLike } from '../../src/contacts/contacts.repository.ts';

describe('escapeLike', () => {
  test('escapes the LIKE wildcards and the escape character itself', () => {
    expect(escapeLike('100%_off\\now')).toBe('100\\%\\_off\\\\now');
  });

  test('leaves ordinary text alone', () => {
    expect(escapeLike('ann.lee@example.com [x] *')).toBe('ann.lee@example.com [x] *');
  });
});
