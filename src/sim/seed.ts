import type { ContactRecord } from './contact.ts';
import { generateCustomProperties, seededCustomValues } from './custom-properties.ts';
import type { PropertyVersion } from './history.ts';
import { isoFromMs } from './iso.ts';
import {
  COMPANIES,
  FIRST_NAMES,
  FREE_MAIL_DOMAINS,
  JOB_TITLES,
  LAST_NAMES,
  PLACES,
  PRODUCTS,
} from './names.ts';
import { CUSTOMER_TIERS, LEAD_STATUSES, LIFECYCLE_STAGES, type PropertyDefinition } from './properties.ts';
import { createRandom, hashSeed, mix } from './random.ts';

/**
 * Seeded contacts are never stored: each is regenerated from its index whenever it is read, and only
 * contacts that change are kept (see portal.ts). That keeps a 1,000,000-contact portal in a few MB.
 */
export interface SeedPlan {
  seed: number;
  count: number;
  /** Id of the contact at index 0. */
  idBase: number;
  /** The "now" of the seeded history: every seeded timestamp is before it. */
  anchorMs: number;
  /** The portal's generated custom properties, which seeded contacts fill sparsely. */
  customProperties: readonly PropertyDefinition[];
}

/**
 * Real portals hand out record ids far above 2^31 (a 32-bit integer overflows on them): seeded ids start in the
 * tens of billions, still far below Number.MAX_SAFE_INTEGER.
 */
export const SEEDED_ID_BASE = 40_000_000_001;

const DAY_MS = 86_400_000;
const HISTORY_MS = 3 * 365 * DAY_MS;
/** Contacts come in blocks of this size; some blocks are bulk imports sharing one lastmodifieddate. */
const IMPORT_BLOCK = 500;
const IMPORT_SHARE = 0.2;
/** Every MERGE_CYCLE contacts, the last one was merged into the one before it. */
const MERGE_CYCLE = 250;
const ARCHIVED_SHARE = 0.01;
// Lifecycle stages weighted towards the top of the funnel, as in a real portal.
const STAGE_WEIGHTS = [0.22, 0.3, 0.15, 0.08, 0.07, 0.15, 0.02, 0.01];

export function createSeedPlan(options: {
  seed: string | number;
  count: number;
  anchorMs?: number;
}): SeedPlan {
  const seed = hashSeed(options.seed);
  return {
    seed,
    count: options.count,
    idBase: SEEDED_ID_BASE,
    anchorMs: options.anchorMs ?? Date.UTC(2026, 0, 1),
    customProperties: generateCustomProperties(seed),
  };
}

export function isSeededId(plan: SeedPlan, id: number): boolean {
  return Number.isInteger(id) && id >= plan.idBase && id < plan.idBase + plan.count;
}

interface SeededTimes {
  createdAt: number;
  updatedAt: number;
}

function seededTimes(plan: SeedPlan, index: number): SeededTimes {
  const random = createRandom(mix(plan.seed ^ 0x5eed, index));
  const block = Math.floor(index / IMPORT_BLOCK);
  const blockRandom = createRandom(mix(plan.seed ^ 0x1a907, block));
  if (blockRandom.next() < IMPORT_SHARE) {
    const importedAt = plan.anchorMs - Math.floor(blockRandom.next() * HISTORY_MS);
    return { createdAt: importedAt - random.int(0, 60_000), updatedAt: importedAt };
  }
  const createdAt = plan.anchorMs - Math.floor(random.next() * HISTORY_MS);
  const updatedAt = createdAt + Math.floor(random.next() * (plan.anchorMs - createdAt));
  return { createdAt, updatedAt };
}

/** A seeded contact's lastmodifieddate (epoch ms), without generating the rest of it. */
export function seededUpdatedAt(plan: SeedPlan, index: number): number {
  const own = seededTimes(plan, index).updatedAt;
  // A merge survivor was last modified when it absorbed the contact after it.
  if (index % MERGE_CYCLE === MERGE_CYCLE - 2 && index + 1 < plan.count) {
    return Math.max(own, seededTimes(plan, index + 1).updatedAt);
  }
  return own;
}

function weighted<T>(items: readonly T[], weights: readonly number[], roll: number): T {
  let sum = 0;
  for (let i = 0; i < items.length; i++) {
    sum += weights[i] ?? 0;
    if (roll < sum) return items[i] as T;
  }
  return items[items.length - 1] as T;
}

function emailLocal(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** The contact at `index` exactly as it was seeded. */
export function seededContact(plan: SeedPlan, index: number): ContactRecord {
  const id = plan.idBase + index;
  const random = createRandom(mix(plan.seed, index));
  const { createdAt, updatedAt } = seededTimes(plan, index);
  const first = random.pick(FIRST_NAMES);
  const last = random.pick(LAST_NAMES);
  const company = random.pick(COMPANIES);
  const place = random.pick(PLACES);
  const domain = random.chance(0.15) ? random.pick(FREE_MAIL_DOMAINS) : company.domain;
  const properties: Record<string, string> = {
    hs_object_id: String(id),
    createdate: isoFromMs(createdAt),
    lastmodifieddate: isoFromMs(updatedAt),
    email: `${emailLocal(first)}.${emailLocal(last)}${index}@${domain}`,
    firstname: first,
    lastname: last,
    company: company.name,
    website: `https://www.${company.domain}`,
    city: place.city,
    state: place.state,
    country: place.country,
    lifecyclestage: weighted(LIFECYCLE_STAGES, STAGE_WEIGHTS, random.next()),
    ...seededCustomValues(plan.customProperties, plan.seed, index, plan.anchorMs),
  };
  if (random.chance(0.8)) {
    properties.phone = `${place.dial} ${random.int(200, 999)} ${String(random.int(0, 9999)).padStart(4, '0')}`;
  }
  if (random.chance(0.3)) {
    properties.mobilephone = `${place.dial} ${random.int(600, 799)} ${String(random.int(0, 9999)).padStart(4, '0')}`;
  }
  if (random.chance(0.7)) properties.jobtitle = random.pick(JOB_TITLES);
  if (random.chance(0.6)) properties.hs_lead_status = random.pick(LEAD_STATUSES);
  if (random.chance(0.5)) properties.customer_tier = random.pick(CUSTOMER_TIERS);
  if (random.chance(0.4)) properties.nps_score = String(random.int(0, 10));
  if (random.chance(0.5)) properties.newsletter_opt_in = random.chance(0.6) ? 'true' : 'false';
  if (random.chance(0.3)) properties.favorite_product = random.pick(PRODUCTS);
  if (random.chance(0.25)) {
    properties.notes_last_contacted = isoFromMs(
      createdAt + Math.floor(random.next() * (updatedAt - createdAt)),
    );
  }

  const contact: ContactRecord = {
    id,
    properties,
    createdAt,
    updatedAt,
    archived: false,
    archivedAt: null,
    mergedInto: null,
  };
  const cycle = index % MERGE_CYCLE;
  if (cycle === MERGE_CYCLE - 1 && index > 0) {
    // Merged away into the contact before it; the merge happened when the survivor was last modified.
    const survivor = seededTimes(plan, index - 1);
    contact.archived = true;
    contact.archivedAt = Math.max(survivor.updatedAt, updatedAt);
    contact.mergedInto = id - 1;
  } else if (cycle === MERGE_CYCLE - 2 && index + 1 < plan.count) {
    properties.hs_merged_object_ids = String(id + 1);
    // HubSpot keeps a merged-away contact's email on the survivor as an additional email.
    const absorbedEmail = seededContact(plan, index + 1).properties.email;
    if (absorbedEmail) properties.hs_additional_emails = absorbedEmail;
    const merged = seededTimes(plan, index + 1);
    if (merged.updatedAt > updatedAt) {
      contact.updatedAt = merged.updatedAt;
      properties.lastmodifieddate = isoFromMs(merged.updatedAt);
    }
  } else if (createRandom(mix(plan.seed ^ 0xa4c, index)).next() < ARCHIVED_SHARE) {
    contact.archived = true;
    contact.archivedAt = updatedAt;
  }
  return contact;
}

/** The index whose seeded email this could be (seeded emails end in their index), or undefined. */
export function seededIndexForEmail(plan: SeedPlan, email: string): number | undefined {
  // Seeded emails are `first.last<index>@domain`, names letters only: anything else is not seeded.
  const match = /^[a-z]+\.[a-z]+?(\d+)@/.exec(email);
  if (!match?.[1]) return undefined;
  const index = Number(match[1]);
  return index < plan.count ? index : undefined;
}

const STAGE_ORDER: readonly string[] = LIFECYCLE_STAGES;
const CALCULATED = new Set([
  'hs_object_id',
  'createdate',
  'lastmodifieddate',
  'hs_merged_object_ids',
  'hs_additional_emails',
]);
const SET_AT_LAST_MODIFICATION = new Set([
  'lastmodifieddate',
  'hs_merged_object_ids',
  'hs_additional_emails',
]);
const FIRST_SOURCES = [
  { sourceType: 'FORM', weight: 0.4 },
  { sourceType: 'IMPORT', weight: 0.3 },
  { sourceType: 'CRM_UI', weight: 0.3 },
];

/**
 * A seeded contact's history of one property, newest first, derived from the seed (never stored): the value
 * arrived when the contact was created (by form, import or a user), and a contact's lifecycle stage climbed
 * through earlier stages before it reached the current one.
 */
export function seededHistory(plan: SeedPlan, contact: ContactRecord, name: string): PropertyVersion[] {
  const value = contact.properties[name];
  if (value === undefined) return [];
  const index = contact.id - plan.idBase;
  const random = createRandom(mix(mix(plan.seed ^ 0x415, index), hashSeed(name)));
  if (CALCULATED.has(name)) {
    const at = SET_AT_LAST_MODIFICATION.has(name) ? contact.updatedAt : contact.createdAt;
    return [{ value, timestamp: at, sourceType: 'CALCULATED', sourceId: 'RollupProperties' }];
  }
  const firstSource = weighted(
    FIRST_SOURCES.map((source) => source.sourceType),
    FIRST_SOURCES.map((source) => source.weight),
    createRandom(mix(plan.seed ^ 0x415, index)).next(),
  );
  const user = random.int(1_000_001, 1_000_020);
  const attribution = (sourceType: string): Omit<PropertyVersion, 'value' | 'timestamp'> =>
    sourceType === 'CRM_UI'
      ? { sourceType, sourceId: `userId:${user}`, updatedByUserId: user }
      : {
          sourceType,
          sourceId:
            sourceType === 'IMPORT' ? String(mix(plan.seed, Math.floor(index / IMPORT_BLOCK))) : 'form',
        };
  const rank = STAGE_ORDER.indexOf(value);
  if (name !== 'lifecyclestage' || rank <= 0 || value === 'other') {
    return [{ value, timestamp: contact.createdAt, ...attribution(firstSource) }];
  }
  // Up to two earlier stages, the oldest at creation, the current one reached before the last modification.
  const earlier = STAGE_ORDER.slice(Math.max(0, rank - random.int(1, 2)), rank);
  const span = Math.max(1, contact.updatedAt - contact.createdAt);
  const versions: PropertyVersion[] = [];
  earlier.forEach((stage, step) => {
    const at = contact.createdAt + Math.floor((span * step) / (earlier.length + 1));
    versions.push({ value: stage, timestamp: at, ...attribution(step === 0 ? firstSource : 'CRM_UI') });
  });
  const reachedAt = contact.createdAt + Math.floor((span * earlier.length) / (earlier.length + 1));
  versions.push({ value, timestamp: reachedAt, ...attribution('CRM_UI') });
  return versions.reverse();
}
