import { setTimeout as sleep } from 'node:timers/promises';
import type { ChangeSource } from './changes.ts';
import type { Clock } from './clock.ts';
import { COMPANIES, FIRST_NAMES, JOB_TITLES, LAST_NAMES, PLACES, PRODUCTS } from './names.ts';
import type { Portal } from './portal.ts';
import { CUSTOMER_TIERS, LEAD_STATUSES, LIFECYCLE_STAGES } from './properties.ts';
import type { Random } from './random.ts';

export type ActivityKind = 'edit' | 'create' | 'import' | 'delete' | 'restore' | 'merge' | 'privacyDeletion';

// Roughly what a busy portal's audit log looks like: mostly edits, some creations, a few of the rest.
const MIX: [ActivityKind, number][] = [
  ['edit', 0.52],
  ['create', 0.15],
  ['import', 0.08],
  ['delete', 0.09],
  ['restore', 0.05],
  ['merge', 0.08],
  ['privacyDeletion', 0.03],
];

const IMPORT_SIZE = { min: 10, max: 60 };
const FIND_ATTEMPTS = 1000;

export interface ActivityReport {
  made: number;
  byKind: Record<ActivityKind, number>;
  durationMs: number;
}

/** Changes made "as if by portal users": every one goes through the portal, so it fires webhooks. */
export function createActivity(deps: { portal: Portal; random: Random; clock: Clock }) {
  const { portal, random } = deps;
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

  function privacyDeletion(): boolean {
    const id = findLive();
    return id !== null && portal.privacyDelete(id, { ...user(), changeSource: 'GDPR' });
  }

  const makers: Record<ActivityKind, () => boolean> = {
    edit,
    create,
    import: bulkImport,
    delete: remove,
    restore,
    merge,
    privacyDeletion,
  };

  function pickKind(): ActivityKind {
    let roll = random.next();
    for (const [kind, share] of MIX) {
      roll -= share;
      if (roll < 0) return kind;
    }
    return 'edit';
  }

  return {
    /** Makes `changes` changes, `perSecond` a second (as fast as it can when absent), then reports. */
    async run(input: { changes: number; perSecond?: number }): Promise<ActivityReport> {
      const started = Date.now();
      const byKind = Object.fromEntries(MIX.map(([kind]) => [kind, 0])) as Record<ActivityKind, number>;
      for (let made = 0; made < input.changes; made++) {
        if (input.perSecond && input.perSecond > 0) {
          const due = started + (made * 1000) / input.perSecond;
          const wait = due - Date.now();
          if (wait > 0) await sleep(wait);
        } else if (made % 200 === 199) {
          await sleep(0);
        }
        let kind = pickKind();
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
