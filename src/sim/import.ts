import { setTimeout as sleep } from 'node:timers/promises';
import type { ChangeSource } from './changes.ts';
import { HubSpotError } from './errors.ts';
import { COMPANIES, FIRST_NAMES, JOB_TITLES, LAST_NAMES } from './names.ts';
import type { Portal } from './portal.ts';
import type { Random } from './random.ts';

export interface ImportReport {
  importId: string;
  created: number;
  /** Rows refused, as HubSpot refuses a row whose email belongs to another contact. */
  failed: number;
  durationMs: number;
}

/** Rows made between yields to the event loop when no rate is given, so the simulator keeps answering. */
const ROWS_PER_TURN = 2000;

const local = (text: string) => text.toLowerCase().replace(/[^a-z]/g, '');

/**
 * Bulk imports, as a portal user runs them from a spreadsheet: every row becomes a contact made by the
 * import (`changeSource` IMPORT, `sourceId` the import's id), each with its creation and propertyChange
 * webhooks. Rows carry only a few columns, as most import files do.
 */
export function createImporter(deps: { portal: Portal; random: Random }) {
  const { portal, random } = deps;

  function row(importId: string, rowNumber: number): Record<string, string> {
    const first = random.pick(FIRST_NAMES);
    const last = random.pick(LAST_NAMES);
    const company = random.pick(COMPANIES);
    return {
      email: `${local(first)}.${local(last)}.${importId}.${rowNumber}@${company.domain}`,
      firstname: first,
      lastname: last,
      company: company.name,
      jobtitle: random.pick(JOB_TITLES),
      lifecyclestage: random.chance(0.7) ? 'lead' : 'subscriber',
    };
  }

  return {
    /** Imports `count` rows, `perSecond` a second (as fast as it can when absent), then reports. */
    async run(input: { count: number; perSecond?: number }): Promise<ImportReport> {
      const started = Date.now();
      const importId = String(random.int(10_000_000, 99_999_999));
      const source: ChangeSource = { changeSource: 'IMPORT', sourceId: importId };
      let created = 0;
      let failed = 0;
      for (let made = 0; made < input.count; made++) {
        if (input.perSecond && input.perSecond > 0) {
          const wait = started + (made * 1000) / input.perSecond - Date.now();
          if (wait > 0) await sleep(wait);
        } else if (made % ROWS_PER_TURN === ROWS_PER_TURN - 1) {
          await sleep(0);
        }
        try {
          portal.create(row(importId, made + 1), source);
          created++;
        } catch (error) {
          if (!(error instanceof HubSpotError) || error.statusCode !== 409) throw error;
          failed++;
        }
      }
      return { importId, created, failed, durationMs: Date.now() - started };
    },
  };
}

export type Importer = ReturnType<typeof createImporter>;
