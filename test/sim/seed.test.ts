import { describe, expect, test } from 'vitest';
import { createSeedPlan, seededContact, seededIndexForEmail, seededUpdatedAt } from '../../src/sim/seed.ts';

const plan = createSeedPlan({ seed: 'unit', count: 20_000 });

describe('seeded contacts', () => {
  test('are the same for the same seed and index, and differ between seeds', () => {
    const other = createSeedPlan({ seed: 'other', count: 20_000 });
    expect(seededContact(plan, 123)).toEqual(seededContact(plan, 123));
    expect(seededContact(other, 123).properties.email).not.toBe(seededContact(plan, 123).properties.email);
  });

  test('have realistic properties and lastmodifieddate never before createdate', () => {
    for (let index = 0; index < 2000; index++) {
      const contact = seededContact(plan, index);
      expect(contact.properties.email).toMatch(/^[a-z]+\.[a-z]+\d+@[a-z.]+$/);
      expect(contact.properties.firstname).toBeTruthy();
      expect(contact.properties.lifecyclestage).toBeTruthy();
      expect(contact.updatedAt).toBeGreaterThanOrEqual(contact.createdAt);
      expect(Date.parse(contact.properties.lastmodifieddate as string)).toBe(contact.updatedAt);
    }
  });

  test('seededUpdatedAt agrees with the generated contact, merge survivors included', () => {
    for (let index = 0; index < plan.count; index += 7) {
      expect(seededUpdatedAt(plan, index)).toBe(seededContact(plan, index).updatedAt);
    }
    expect(seededUpdatedAt(plan, 248)).toBe(seededContact(plan, 248).updatedAt);
  });

  test('include about 1% archived and a merged-away contact every 250, pointing at a survivor that lists it', () => {
    let archived = 0;
    let merged = 0;
    for (let index = 0; index < plan.count; index++) {
      const contact = seededContact(plan, index);
      if (contact.mergedInto !== null) {
        merged++;
        const survivor = seededContact(plan, contact.mergedInto - plan.idBase);
        expect(survivor.archived).toBe(false);
        expect(survivor.properties.hs_merged_object_ids).toBe(String(contact.id));
      } else if (contact.archived) {
        archived++;
      }
    }
    expect(merged).toBe(80);
    expect(archived / plan.count).toBeGreaterThan(0.005);
    expect(archived / plan.count).toBeLessThan(0.02);
  });

  test('many contacts share one lastmodifieddate, as after a bulk import', () => {
    const counts = new Map<number, number>();
    for (let index = 0; index < plan.count; index++) {
      const at = seededUpdatedAt(plan, index);
      counts.set(at, (counts.get(at) ?? 0) + 1);
    }
    expect(Math.max(...counts.values())).toBeGreaterThanOrEqual(400);
  });

  test('an email leads back to its index, so uniqueness checks need no email index', () => {
    const contact = seededContact(plan, 4321);
    expect(seededIndexForEmail(plan, contact.properties.email as string)).toBe(4321);
    expect(seededIndexForEmail(plan, 'someone@example.com')).toBeUndefined();
  });
});
