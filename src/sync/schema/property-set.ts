import type { ContactPropertySelection } from '../../config.ts';

/** The contact properties to mirror: a fixed list, or a provider read each time (the live set below). */
export type MirroredProperties = readonly string[] | (() => readonly string[]);

export const currentProperties = (properties: MirroredProperties): readonly string[] =>
  typeof properties === 'function' ? properties() : properties;

export interface PropertySetStatus {
  mode: ContactPropertySelection['mode'];
  count: number;
  /** Listed in HUBSPOT_CONTACT_PROPERTIES but not defined in HubSpot: not requested. */
  missing: string[];
  /** Where the definitions came from: not read yet, the database's last read, or HubSpot just now. */
  source: 'configured' | 'stored' | 'hubspot';
  checkedAt: string | null;
}

export interface Resolution {
  added: string[];
  removed: string[];
  /** Whether the missing names differ from the last resolution's. */
  missingChanged: boolean;
}

const difference = (a: readonly string[], b: readonly string[]) => {
  const other = new Set(b);
  return a.filter((name) => !other.has(name));
};

/**
 * The properties webhooks apply and sweeps and fetches request, resolved against HubSpot's live definitions:
 * with `all`, every live definition; with a list, the listed ones that exist. Until definitions are known it is
 * the configured list (or `fallback` with `all`).
 */
export function createPropertySet(selection: ContactPropertySelection, fallback: readonly string[]) {
  let names: readonly string[] = selection.mode === 'list' ? selection.names : fallback;
  let missing: string[] = [];
  let source: PropertySetStatus['source'] = 'configured';
  let checkedAt: Date | null = null;

  return {
    /** The provider the applier, fetcher and sweeper read each time. */
    names: (): readonly string[] => names,

    resolve(live: readonly string[], from: 'stored' | 'hubspot', at: Date): Resolution {
      // No definitions stored yet (a first start with HubSpot unreachable): keep what was configured.
      if (live.length === 0 && from === 'stored') return { added: [], removed: [], missingChanged: false };
      const defined = new Set(live);
      const next =
        selection.mode === 'all' ? [...live].sort() : selection.names.filter((name) => defined.has(name));
      const nextMissing = selection.mode === 'all' ? [] : difference(selection.names, live);
      const resolution = {
        added: difference(next, names),
        removed: difference(names, next),
        missingChanged: nextMissing.join(',') !== missing.join(','),
      };
      names = next;
      missing = nextMissing;
      source = from;
      checkedAt = at;
      return resolution;
    },

    status(): PropertySetStatus {
      return {
        mode: selection.mode,
        count: names.length,
        missing: [...missing],
        source,
        checkedAt: checkedAt?.toISOString() ?? null,
      };
    },
  };
}

export type PropertySet = ReturnType<typeof createPropertySet>;
