import { setTimeout as sleep } from 'node:timers/promises';
import type { Associations } from './associations.ts';
import type { ChangeSource } from './changes.ts';
import type { Clock } from './clock.ts';
import { isoFromMs } from './iso.ts';
import { COMPANIES, FIRST_NAMES, JOB_TITLES, LAST_NAMES, PLACES, PRODUCTS } from './names.ts';
import type { Portal } from './portal.ts';
import { CUSTOMER_TIERS, LEAD_STATUSES, LIFECYCLE_STAGES } from './properties.ts';
import type { Random } from './random.ts';

export type ActivityKind =
  | 'edit'
  | 'create'
  | 'import'
  | 'delete'
  | 'restore'
  | 'merge'
  | 'privacyDeletion'
  | 'associate'
  | 'dissociate'
  | 'engagement';

// Roughly what a busy portal's audit log looks like: mostly edits, some creations, a few of the rest.
const MIX: [ActivityKind, number][] = [
  ['edit', 0.46],
  ['associate', 0.04],
  ['dissociate', 0.02],
  ['create', 0.15],
  ['import', 0.08],
  ['delete', 0.09],
  ['restore', 0.05],
  ['merge', 0.08],
  ['privacyDeletion', 0.03],
];

/**
 * Email opens, page views and logged activities are most of what happens to a real portal's contacts. They move
 * calculated properties and lastmodifieddate, but no app can subscribe to those properties, so no webhook tells
 * of them: only a sweep on lastmodifieddate finds them.
 */
export const DEFAULT_ENGAGEMENT_SHARE = 0.35;

const IMPORT_SIZE = { min: 10, max: 60 };
const FIND_ATTEMPTS = 1000;

export interface ActivityReport {
  made: number;
  byKind: Record<ActivityKind, number>;
  durationMs: number;
}

/** Changes made "as if by portal users": every one goes through the portal, so it fires webhooks. */
export function createActivity(deps: {
  portal: Portal;
  associations: Associations;
  random: Random;
  clock: Clock;
}) {
  const { portal, associations, random } = deps;
  let created = 0;

  const user = (): ChangeSource => ({
    changeSource: 'CRM_UI',
    sourceId: `userId:${random.int(1_000_001, 1_000_020)}`,
  });

  function randomValue(name: string): string {
    switch (name) {
      case 'lifecyclestage':
        return random.pick(LIFECYCLE_STAGES);
      case 'hs_lead_status':
        return random.pick(LEAD_STATUSES);
      case 'customer_tier':
        return random.pick(CUSTOMER_TIERS);
      case 'nps_score':
        return String(random.int(0, 10));
      case 'newsletter_opt_in':
        return random.chance(0.5) ? 'true' : 'false';
      case 'jobtitle':
        return random.pick(JOB_TITLES);
      case 'city':
        return random.pick(PLACES).city;
      case 'favorite_product':
        return random.pick(PRODUCTS);
      case 'phone':
        return `+1 ${random.int(200, 999)} ${random.int(200, 999)} ${String(random.int(0, 9999)).padStart(4, '0')}`;
      case 'lastname':
        return random.pick(LAST_NAMES);
      default:
        return random.pick(['', 'n/a', 'updated']);
    }
  }

  const EDITABLE = [
    'lifecyclestage',
    'hs_lead_status',
    'customer_tier',
    'nps_score',
    'newsletter_opt_in',
    'jobtitle',
    'city',
    'phone',
    'favorite_product',
    'lastname',
  ];
  const IMPORTED = ['lifecyclestage', 'customer_tier', 'favorite_product', 'hs_lead_status'];

  function findContact(
    test: (archived: boolean, merged: boolean, erased: boolean) => boolean,
  ): number | null {
    for (let i = 0; i < FIND_ATTEMPTS; i++) {
      const contact = portal.get(portal.randomId());
      if (contact && test(contact.archived, contact.mergedInto !== null, contact.erased === true))
        return contact.id;
    }
    return null;
  }
  const findLive = () => findContact((archived) => !archived);

  function edit(): boolean {
    const id = findLive();
    if (id === null) return false;
    const values: Record<string, string> = {};
    const count = random.int(1, 3);
    for (let i = 0; i < count; i++) {
      const name = random.pick(EDITABLE);
      values[name] = randomValue(name);
    }
    portal.update(id, values, user());
    return true;
  }

  function create(): boolean {
    const first = random.pick(FIRST_NAMES);
    const last = random.pick(LAST_NAMES);
    const company = random.pick(COMPANIES);
    created++;
    const local = `${first}.${last}`.toLowerCase().replace(/[^a-z.]/g, '');
    portal.create(
      {
        email: `${local}.new${created}x${random.int(0, 1e9).toString(36)}@${company.domain}`,
        firstname: first,
        lastname: last,
        company: company.name,
        lifecyclestage: random.pick(['subscriber', 'lead']),
        jobtitle: random.pick(JOB_TITLES),
      },
      user(),
    );
    return true;
  }

  // An import touches many contacts in one go; they all get the same lastmodifieddate.
  function bulkImport(): boolean {
    const source = { changeSource: 'IMPORT', sourceId: `import:${random.int(10_000, 99_999)}` };
    const at = deps.clock.now();
    const name = random.pick(IMPORTED);
    const value = randomValue(name);
    const size = random.int(IMPORT_SIZE.min, IMPORT_SIZE.max);
    let touched = 0;
    for (let i = 0; i < size; i++) {
      const id = findLive();
      if (id === null) break;
      portal.update(id, { [name]: value }, source, at);
      touched++;
    }
    return touched > 0;
  }

  function remove(): boolean {
    const id = findLive();
    return id !== null && portal.archive(id, user());
  }

  function restore(): boolean {
    const id = findContact((archived, merged, erased) => archived && !merged && !erased);
    if (id === null) return false;
    try {
      portal.restore(id, user());
      return true;
    } catch {
      // Its email belongs to a newer contact now: HubSpot would refuse the restore too.
      return false;
    }
  }

  function merge(): boolean {
    const primary = findLive();
    const other = findLive();
    if (primary === null || other === null || primary === other) return false;
    portal.merge(primary, other, { ...user(), changeSource: 'CRM_UI' });
    return true;
  }

  const count = (contact: { properties: Record<string, string> }, name: string, by: number) =>
    String(Number(contact.properties[name] ?? 0) + by);

  function engagement(): boolean {
    const id = findLive();
    const contact = id === null ? undefined : portal.get(id);
    if (!contact) return false;
    const now = isoFromMs(deps.clock.now());
    const roll = random.next();
    if (roll < 0.45) {
      const values: Record<string, string> = {
        hs_email_last_open_date: now,
        hs_email_open: count(contact, 'hs_email_open', 1),
      };
      if (random.chance(0.3)) values.hs_email_last_click_date = now;
      portal.update(contact.id, values, {
        changeSource: 'EMAIL',
        sourceId: `campaign:${random.int(100_000, 999_999)}`,
      });
    } else if (roll < 0.8) {
      const values: Record<string, string> = {
        hs_analytics_num_page_views: count(contact, 'hs_analytics_num_page_views', random.int(1, 6)),
        hs_analytics_last_timestamp: now,
      };
      if (random.chance(0.2)) values.hs_latest_source_timestamp = now;
      portal.update(contact.id, values, { changeSource: 'ANALYTICS', sourceId: 'analytics' });
    } else {
      portal.update(
        contact.id,
        { num_notes: count(contact, 'num_notes', 1), notes_last_updated: now },
        { changeSource: 'CALCULATED', sourceId: 'RollupProperties' },
      );
    }
    return true;
  }

  function privacyDeletion(): boolean {
    const id = findLive();
    return id !== null && portal.privacyDelete(id, { ...user(), changeSource: 'GDPR' });
  }

  // A user links a contact to a company (the default association), or unlinks one.
  function associate(): boolean {
    const id = findLive();
    if (id === null) return false;
    associations.associateDefault(id, random.pick(associations.companies()).id, user());
    return true;
  }

  function dissociate(): boolean {
    const pair = associations.randomAssociated(random.pick);
    if (pair === null) return false;
    associations.dissociate(pair.contactId, pair.companyId, user());
    return true;
  }

  const makers: Record<ActivityKind, () => boolean> = {
    edit,
    create,
    import: bulkImport,
    delete: remove,
    restore,
    merge,
    privacyDeletion,
    associate,
    dissociate,
    engagement,
  };

  function pickKind(engagementShare: number): ActivityKind {
    if (random.next() < engagementShare) return 'engagement';
    let roll = random.next();
    for (const [kind, share] of MIX) {
      roll -= share;
      if (roll < 0) return kind;
    }
    return 'edit';
  }

  return {
    /** Makes `changes` changes, `perSecond` a second (as fast as it can when absent), then reports. */
    async run(input: {
      changes: number;
      perSecond?: number;
      engagementShare?: number;
    }): Promise<ActivityReport> {
      const started = Date.now();
      const engagementShare = input.engagementShare ?? DEFAULT_ENGAGEMENT_SHARE;
      const kinds: ActivityKind[] = [...MIX.map(([kind]) => kind), 'engagement'];
      const byKind = Object.fromEntries(kinds.map((kind) => [kind, 0])) as Record<ActivityKind, number>;
      for (let made = 0; made < input.changes; made++) {
        if (input.perSecond && input.perSecond > 0) {
          const due = started + (made * 1000) / input.perSecond;
          const wait = due - Date.now();
          if (wait > 0) await sleep(wait);
        } else if (made % 200 === 199) {
          await sleep(0);
        }
        let kind = pickKind(engagementShare);
        // Fall back to an edit when the drawn kind finds nothing to act on (e.g. nothing to restore).
        if (!makers[kind]()) {
          kind = 'edit';
          if (!edit()) create();
        }
        byKind[kind]++;
      }
      return { made: input.changes, byKind, durationMs: Date.now() - started };
    },
  };
}
