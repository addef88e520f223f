import { isoFromMs } from './iso.ts';
import type { PropertyDefinition, PropertyType } from './properties.ts';
import { createRandom, mix, type Random } from './random.ts';

/**
 * A portal's own contact properties, made up deterministically from the seed: real portals carry a few
 * hundred of these next to HubSpot's, grouped by the team that added them.
 */
const GROUPS: readonly { name: string; topics: readonly string[] }[] = [
  { name: 'onboarding', topics: ['onboarding', 'kickoff', 'implementation', 'training'] },
  { name: 'product_usage', topics: ['product', 'feature', 'workspace', 'mobile_app', 'api'] },
  { name: 'billing', topics: ['billing', 'invoice', 'subscription', 'renewal', 'contract'] },
  { name: 'events', topics: ['webinar', 'conference', 'meetup', 'workshop'] },
  { name: 'partner_program', topics: ['partner', 'referral', 'reseller'] },
  { name: 'support', topics: ['support', 'ticket', 'escalation', 'health'] },
  { name: 'marketing_preferences', topics: ['newsletter', 'campaign', 'content', 'survey'] },
];

interface Shape {
  suffix: string;
  type: PropertyType;
  fieldType: string;
  options?: readonly string[];
}

const SHAPES: readonly Shape[] = [
  {
    suffix: 'status',
    type: 'enumeration',
    fieldType: 'select',
    options: ['not_started', 'active', 'paused', 'done'],
  },
  { suffix: 'tier', type: 'enumeration', fieldType: 'radio', options: ['basic', 'plus', 'premium'] },
  {
    suffix: 'channels',
    type: 'enumeration',
    fieldType: 'checkbox',
    options: ['email', 'phone', 'chat', 'sms'],
  },
  { suffix: 'score', type: 'number', fieldType: 'number' },
  { suffix: 'count', type: 'number', fieldType: 'number' },
  { suffix: 'owner_notes', type: 'string', fieldType: 'textarea' },
  { suffix: 'reference', type: 'string', fieldType: 'text' },
  { suffix: 'opted_in', type: 'bool', fieldType: 'booleancheckbox', options: ['true', 'false'] },
  { suffix: 'start_date', type: 'date', fieldType: 'date' },
  { suffix: 'last_activity_at', type: 'datetime', fieldType: 'date' },
];

/** How many of its own properties a simulated portal has unless told otherwise. */
export const CUSTOM_PROPERTY_COUNT = 300;

const words = (name: string) => name.split('_').map((word) => word.charAt(0).toUpperCase() + word.slice(1));

function optionsOf(values: readonly string[]): PropertyDefinition['options'] {
  return values.map((value, index) => ({
    label: words(value).join(' '),
    value,
    displayOrder: index,
    hidden: false,
  }));
}

function shuffled<T>(items: readonly T[], random: Random): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

/** `count` custom definitions; the same seed always gives the same names, groups and types. */
export function generateCustomProperties(seed: number, count = CUSTOM_PROPERTY_COUNT): PropertyDefinition[] {
  const random = createRandom(mix(seed, 0xc0570)); // "custom"
  const combinations: { group: string; topic: string; shape: Shape }[] = [];
  for (const group of GROUPS) {
    for (const topic of group.topics) {
      for (const shape of SHAPES) combinations.push({ group: group.name, topic, shape });
    }
  }
  const definitions: PropertyDefinition[] = [];
  for (let round = 0; definitions.length < count; round++) {
    // Later rounds number their names, as portals do when teams add "…_2" variants.
    for (const { group, topic, shape } of shuffled(combinations, random)) {
      if (definitions.length === count) break;
      const base = `${topic}_${shape.suffix}`;
      const name = round === 0 ? base : `${base}_${round + 1}`;
      definitions.push({
        name,
        label: words(name).join(' '),
        type: shape.type,
        fieldType: shape.fieldType,
        groupName: group,
        description: `${words(group).join(' ')}: ${words(name).join(' ').toLowerCase()}`,
        options: shape.options ? optionsOf(shape.options) : [],
        hubspotDefined: false,
        readOnly: false,
        subscribed: false,
      });
    }
  }
  return definitions;
}

/** At most this many of the portal's custom properties hold a value on any one seeded contact. */
const MAX_SEEDED_VALUES = 24;
const DAY_MS = 86_400_000;

function valueFor(definition: PropertyDefinition, random: Random, anchorMs: number): string {
  switch (definition.type) {
    case 'number':
      return String(random.int(0, 100));
    case 'bool':
    case 'enumeration':
      return random.pick(definition.options).value;
    case 'date':
      // HubSpot's date properties hold midnight UTC.
      return isoFromMs((Math.floor(anchorMs / DAY_MS) - random.int(0, 700)) * DAY_MS);
    case 'datetime':
      return isoFromMs(anchorMs - random.int(0, 700 * DAY_MS));
    default:
      return `${definition.name.split('_')[0]}-${random.int(1000, 9999)}`;
  }
}

/**
 * The custom values of a seeded contact: a handful of the portal's custom properties, as real portals fill
 * them sparsely. Computed from the seed and the contact whenever it is read (O(values), not O(definitions)),
 * never stored.
 */
export function seededCustomValues(
  definitions: readonly PropertyDefinition[],
  seed: number,
  contactIndex: number,
  anchorMs: number,
): Record<string, string> {
  const values: Record<string, string> = {};
  if (definitions.length === 0) return values;
  const random = createRandom(mix(seed ^ 0xc0570, contactIndex));
  const count = random.int(0, MAX_SEEDED_VALUES);
  for (let i = 0; i < count; i++) {
    const definition = random.pick(definitions);
    values[definition.name] = valueFor(definition, random, anchorMs);
  }
  return values;
}
