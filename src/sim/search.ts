import { additionalEmailsOf, type ContactRecord } from './contact.ts';
import { validationError } from './errors.ts';
import type { Portal } from './portal.ts';
import type { PropertyDefinition, PropertyLookup } from './properties.ts';

/**
 * CRM search (https://developers.hubspot.com/docs/api/crm/search): filter groups are ORed, filters within a
 * group ANDed; at most 5 groups, 6 filters a group, 18 filters in all; one sort; 200 a page; paging stops at
 * 10,000 results; archived records are never returned.
 */
export const SEARCH_MAX_LIMIT = 200;
export const SEARCH_MAX_RESULTS = 10_000;
const MAX_GROUPS = 5;
const MAX_FILTERS_PER_GROUP = 6;
const MAX_FILTERS = 18;
const QUERY_PROPERTIES = ['firstname', 'lastname', 'email', 'phone', 'mobilephone', 'company', 'website'];

export interface SearchFilter {
  propertyName: string;
  operator: string;
  value?: unknown;
  highValue?: unknown;
  values?: unknown[];
}

export interface SearchRequest {
  filterGroups?: { filters?: SearchFilter[] }[];
  sorts?: (string | { propertyName?: string; direction?: string })[];
  query?: string;
  properties?: string[];
  limit?: number | string;
  after?: string | number;
}

export interface SearchPage {
  total: number;
  ids: number[];
  nextAfter: string | null;
  properties: string[] | null;
}

type Predicate = (contact: ContactRecord) => boolean;
type Comparable = number | string;

function comparable(definition: PropertyDefinition, raw: string): Comparable | undefined {
  switch (definition.type) {
    case 'number': {
      const value = Number(raw);
      return Number.isNaN(value) ? undefined : value;
    }
    case 'datetime':
    case 'date': {
      // Filter values are epoch-ms strings; stored values are ISO-8601. Both become epoch ms.
      const value = /^-?\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
      return Number.isNaN(value) ? undefined : value;
    }
    default:
      return raw.toLowerCase();
  }
}

function requireValue(filter: SearchFilter, key: 'value' | 'highValue'): string {
  const value = filter[key];
  if (value === undefined || value === null) {
    throw validationError(`${filter.operator} filter on ${filter.propertyName} needs a ${key}`);
  }
  return String(value);
}

function tokensOf(value: string): string[] {
  const lower = value.toLowerCase();
  return [lower, ...lower.split(/[\s,;:()]+/).filter(Boolean)];
}

function tokenMatcher(pattern: string): (token: string) => boolean {
  const lower = pattern.toLowerCase();
  if (!lower.includes('*')) return (token) => token === lower;
  const escaped = lower.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  const regex = new RegExp(`^${escaped}$`);
  return (token) => regex.test(token);
}

function compileFilter(filter: SearchFilter, catalog: PropertyLookup): Predicate {
  if (!filter || typeof filter.propertyName !== 'string' || typeof filter.operator !== 'string') {
    throw validationError('Each filter needs a propertyName and an operator');
  }
  const name = filter.propertyName;
  const definition = catalog.find(name);
  if (!definition) {
    throw validationError(`There was a problem with the request: unknown property ${name}`, {
      context: { propertyName: [name] },
    });
  }
  const valueIn = (contact: ContactRecord): Comparable | undefined => {
    const raw = contact.properties[name];
    return raw === undefined ? undefined : comparable(definition, raw);
  };
  const expect = (raw: string): Comparable => {
    const value = comparable(definition, raw);
    if (value === undefined) throw validationError(`${raw} is not a valid value for ${name}`);
    return value;
  };
  switch (filter.operator) {
    case 'EQ': {
      const wanted = expect(requireValue(filter, 'value'));
      // An email EQ also matches a contact's additional emails (those it absorbed in merges)
      // (https://eshopman-com.pages.dev/insights/hubspot-development/hubspots-hidden-email-search-what-revops-e-commerce-teams-need-to-know/).
      if (name === 'email') {
        return (contact) =>
          valueIn(contact) === wanted || additionalEmailsOf(contact).includes(String(wanted));
      }
      return (contact) => valueIn(contact) === wanted;
    }
    case 'NEQ': {
      const unwanted = expect(requireValue(filter, 'value'));
      return (contact) => valueIn(contact) !== unwanted;
    }
    case 'GT':
    case 'GTE':
    case 'LT':
    case 'LTE': {
      const bound = expect(requireValue(filter, 'value'));
      const test = {
        GT: (v: Comparable) => v > bound,
        GTE: (v: Comparable) => v >= bound,
        LT: (v: Comparable) => v < bound,
        LTE: (v: Comparable) => v <= bound,
      }[filter.operator];
      return (contact) => {
        const value = valueIn(contact);
        return value !== undefined && test(value);
      };
    }
    case 'BETWEEN': {
      const low = expect(requireValue(filter, 'value'));
      const high = expect(requireValue(filter, 'highValue'));
      return (contact) => {
        const value = valueIn(contact);
        return value !== undefined && value >= low && value <= high;
      };
    }
    case 'IN':
    case 'NOT_IN': {
      if (!Array.isArray(filter.values) || filter.values.length === 0) {
        throw validationError(`${filter.operator} filter on ${name} needs values`);
      }
      const set = new Set(filter.values.map((value) => expect(String(value))));
      return filter.operator === 'IN'
        ? (contact) => {
            const value = valueIn(contact);
            return value !== undefined && set.has(value);
          }
        : (contact) => {
            const value = valueIn(contact);
            return value === undefined || !set.has(value);
          };
    }
    case 'HAS_PROPERTY':
      return (contact) => contact.properties[name] !== undefined;
    case 'NOT_HAS_PROPERTY':
      return (contact) => contact.properties[name] === undefined;
    case 'CONTAINS_TOKEN':
    case 'NOT_CONTAINS_TOKEN': {
      const matches = tokenMatcher(requireValue(filter, 'value'));
      const contains = (contact: ContactRecord) => {
        const raw = contact.properties[name];
        return raw !== undefined && tokensOf(raw).some(matches);
      };
      return filter.operator === 'CONTAINS_TOKEN' ? contains : (contact) => !contains(contact);
    }
    default:
      throw validationError(`Unsupported filter operator ${filter.operator}`);
  }
}

function compileFilterGroups(groups: SearchRequest['filterGroups'], catalog: PropertyLookup): Predicate {
  if (groups === undefined || groups.length === 0) return () => true;
  if (!Array.isArray(groups)) throw validationError('filterGroups must be an array');
  if (groups.length > MAX_GROUPS) {
    throw validationError(`Too many filter groups: ${groups.length}. The maximum is ${MAX_GROUPS}.`);
  }
  let total = 0;
  const compiled = groups.map((group) => {
    const filters = group?.filters ?? [];
    if (filters.length > MAX_FILTERS_PER_GROUP) {
      throw validationError(
        `Too many filters in a group: ${filters.length}. The maximum is ${MAX_FILTERS_PER_GROUP}.`,
      );
    }
    total += filters.length;
    const predicates = filters.map((filter) => compileFilter(filter, catalog));
    return (contact: ContactRecord) => predicates.every((predicate) => predicate(contact));
  });
  if (total > MAX_FILTERS) {
    throw validationError(`Too many filters: ${total}. The maximum is ${MAX_FILTERS}.`);
  }
  return (contact) => compiled.some((group) => group(contact));
}

function compileQuery(query: string | undefined): Predicate {
  const words = (query ?? '')
    .toLowerCase()
    .split(/\s+/)
    .filter((word) => word !== '');
  if (words.length === 0) return () => true;
  return (contact) => {
    const tokens = QUERY_PROPERTIES.flatMap((name) => {
      const value = contact.properties[name];
      return value ? value.toLowerCase().split(/[^a-z0-9]+/) : [];
    });
    return words.every((word) => tokens.some((token) => token.startsWith(word)));
  };
}

interface Sort {
  key: (contact: ContactRecord) => Comparable | undefined;
  direction: 1 | -1;
}

function compileSort(sorts: SearchRequest['sorts'], catalog: PropertyLookup): Sort | null {
  if (sorts === undefined || sorts.length === 0) return null;
  if (!Array.isArray(sorts)) throw validationError('sorts must be an array');
  if (sorts.length > 1) throw validationError('Only one sort is supported.');
  const sort = sorts[0];
  let name: string | undefined;
  let descending = false;
  if (typeof sort === 'string') {
    descending = sort.startsWith('-');
    name = descending ? sort.slice(1) : sort;
  } else {
    name = sort?.propertyName;
    descending = sort?.direction === 'DESCENDING';
  }
  const definition = name ? catalog.find(name) : undefined;
  if (!name || !definition) throw validationError(`Cannot sort by unknown property ${name ?? ''}`);
  return {
    key: (contact) => {
      const raw = contact.properties[name];
      return raw === undefined ? undefined : comparable(definition, raw);
    },
    direction: descending ? -1 : 1,
  };
}

interface Match {
  id: number;
  key: Comparable | undefined;
}

function byKey(direction: 1 | -1) {
  return (a: Match, b: Match): number => {
    if (a.key === b.key) return a.id - b.id;
    // Records without the property sort last either way.
    if (a.key === undefined) return 1;
    if (b.key === undefined) return -1;
    return (a.key < b.key ? -1 : 1) * direction;
  };
}

function parseLimit(raw: SearchRequest['limit']): number {
  if (raw === undefined) return 10;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 0) throw validationError(`limit must be a positive integer`);
  if (limit > SEARCH_MAX_LIMIT) {
    throw validationError(`limit must be at most ${SEARCH_MAX_LIMIT}, got ${limit}`);
  }
  return limit;
}

function parseAfter(raw: SearchRequest['after']): number {
  if (raw === undefined || raw === null || raw === '') return 0;
  const after = Number(raw);
  if (!Number.isInteger(after) || after < 0) throw validationError(`after must be a paging token`);
  return after;
}

const RANGE_OPERATORS = new Set(['EQ', 'GT', 'GTE', 'LT', 'LTE', 'BETWEEN']);

/**
 * The lastmodifieddate span every filter group is confined to, if each group has such a bound: then search
 * reads only the contacts in that span (incremental syncs ask exactly this) instead of the whole portal.
 */
function modifiedDateSpan(
  groups: SearchRequest['filterGroups'],
  catalog: PropertyLookup,
): { low: number; high: number } | null {
  if (!Array.isArray(groups) || groups.length === 0) return null;
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (const group of groups) {
    let groupLow = Number.NEGATIVE_INFINITY;
    let groupHigh = Number.POSITIVE_INFINITY;
    let bounded = false;
    for (const filter of group?.filters ?? []) {
      if (filter.propertyName !== 'lastmodifieddate' || !RANGE_OPERATORS.has(filter.operator)) continue;
      const definition = catalog.find('lastmodifieddate') as PropertyDefinition;
      const value = comparable(definition, String(filter.value)) as number | undefined;
      const highValue = comparable(definition, String(filter.highValue)) as number | undefined;
      if (value === undefined) continue;
      bounded = true;
      if (filter.operator !== 'LT' && filter.operator !== 'LTE') groupLow = Math.max(groupLow, value);
      if (filter.operator === 'EQ' || filter.operator === 'LT' || filter.operator === 'LTE') {
        groupHigh = Math.min(groupHigh, value);
      }
      if (filter.operator === 'BETWEEN' && highValue !== undefined)
        groupHigh = Math.min(groupHigh, highValue);
    }
    if (!bounded) return null;
    low = Math.min(low, groupLow);
    high = Math.max(high, groupHigh);
  }
  return { low, high };
}

/** Runs searches over a portal; caches each query's sorted matches until the portal next changes. */
export function createSearch({ portal, catalog }: { portal: Portal; catalog: PropertyLookup }) {
  const cache = new Map<string, { version: number; ids: number[] }>();
  const CACHE_SIZE = 16;

  function matchingIds(request: SearchRequest): number[] {
    const predicate = compileFilterGroups(request.filterGroups, catalog);
    const query = compileQuery(request.query);
    const sorter = compileSort(request.sorts, catalog);
    const key = JSON.stringify([request.filterGroups ?? [], request.sorts ?? [], request.query ?? '']);
    const cached = cache.get(key);
    // With indexing lag the visible set moves with time, so only an unlagged portal can use the cache.
    if (cached && cached.version === portal.version && portal.searchLagMs <= 0) return cached.ids;
    // Only ids and sort keys are kept: a query may match every one of a million contacts.
    const matches: Match[] = [];
    const span = modifiedDateSpan(request.filterGroups, catalog);
    const candidates = span
      ? portal.searchCandidatesModifiedBetween(span.low, span.high)
      : portal.scanForSearch();
    for (const contact of candidates) {
      if (predicate(contact) && query(contact)) {
        matches.push({ id: contact.id, key: sorter ? sorter.key(contact) : undefined });
      }
    }
    if (sorter) matches.sort(byKey(sorter.direction));
    else if (span) matches.sort((a, b) => a.id - b.id);
    const ids = matches.map((match) => match.id);
    cache.delete(key);
    cache.set(key, { version: portal.version, ids });
    if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    return ids;
  }

  return {
    run(request: SearchRequest): SearchPage {
      if (request === null || typeof request !== 'object') throw validationError('Invalid search request');
      const limit = parseLimit(request.limit);
      const after = parseAfter(request.after);
      if (after >= SEARCH_MAX_RESULTS) {
        // HubSpot hands out the cursor, then refuses it: a query can reach 10,000 results at most.
        throw validationError(
          `Paging past ${SEARCH_MAX_RESULTS} results is not supported: narrow the query (after=${after}).`,
        );
      }
      const ids = matchingIds(request);
      const end = Math.min(after + limit, ids.length, SEARCH_MAX_RESULTS);
      const page = ids.slice(after, end);
      const more = end < ids.length;
      return {
        total: ids.length,
        ids: page,
        nextAfter: more ? String(end) : null,
        properties:
          Array.isArray(request.properties) && request.properties.length > 0 ? request.properties : null,
      };
    },
  };
}
