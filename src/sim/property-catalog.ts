import type { Clock } from './clock.ts';
import { CUSTOM_PROPERTY_COUNT, generateCustomProperties } from './custom-properties.ts';
import { HubSpotError, validationError } from './errors.ts';
import { PROPERTY_DEFINITIONS, type PropertyDefinition } from './properties.ts';

/** A definition as the portal keeps it: when it was made and changed, and whether it is in the recycling bin. */
export interface CatalogProperty extends PropertyDefinition {
  displayOrder: number;
  createdAt: number;
  updatedAt: number;
  archivedAt: number | null;
}

export interface NewProperty {
  name: string;
  label: string;
  type: PropertyDefinition['type'];
  fieldType: string;
  groupName: string;
  description?: string | undefined;
  options?: PropertyDefinition['options'] | undefined;
}

export type PropertyPatch = Partial<Omit<NewProperty, 'name'>>;

// The portal's definitions predate every seeded contact.
const DEFINED_AT = Date.parse('2019-08-06T02:41:08.236Z');

/** HubSpot's fieldType for each type: https://developers.hubspot.com/docs/api/crm/properties#property-type-and-fieldtype-values */
const FIELD_TYPES: Record<PropertyDefinition['type'], readonly string[]> = {
  bool: ['booleancheckbox', 'calculation_equation'],
  enumeration: ['booleancheckbox', 'checkbox', 'radio', 'select', 'calculation_equation'],
  date: ['date'],
  datetime: ['date'],
  string: ['file', 'text', 'textarea', 'calculation_equation', 'html', 'phonenumber'],
  number: ['number', 'calculation_equation'],
  phone_number: ['phonenumber'],
};

const propertyNotFound = (name: string) =>
  new HubSpotError(404, 'OBJECT_NOT_FOUND', `Unable to find property ${name}`);

/**
 * The contact property definitions of one simulated portal: HubSpot's own, the portal's generated custom ones,
 * and every definition created, changed or archived since. Archived definitions stay, as in HubSpot's
 * recycling bin, and are listed only when asked for.
 */
export function createPropertyCatalog(options: { seed: number; clock: Clock; customCount?: number }) {
  const { clock } = options;
  const entries = new Map<string, CatalogProperty>();
  const generated = generateCustomProperties(options.seed, options.customCount ?? CUSTOM_PROPERTY_COUNT);
  for (const definition of [...PROPERTY_DEFINITIONS, ...generated]) {
    entries.set(definition.name, {
      ...definition,
      displayOrder: entries.size,
      createdAt: DEFINED_AT,
      updatedAt: DEFINED_AT,
      archivedAt: null,
    });
  }
  const groups = new Set([...entries.values()].map((entry) => entry.groupName));

  function checkShape(property: Omit<NewProperty, 'name'>): void {
    if (!FIELD_TYPES[property.type].includes(property.fieldType)) {
      throw validationError(
        `Property type ${property.type} does not support fieldType ${property.fieldType}; use one of ${FIELD_TYPES[property.type].join(', ')}`,
      );
    }
    if (!groups.has(property.groupName)) {
      throw validationError(`Property group ${property.groupName} does not exist`);
    }
    if (property.type === 'enumeration' && (property.options ?? []).length === 0) {
      throw validationError('Enumeration properties require at least one option');
    }
    const values = (property.options ?? []).map((option) => option.value);
    const repeated = values.find((value, index) => values.indexOf(value) !== index);
    if (repeated !== undefined) throw validationError(`Option value ${repeated} is used more than once`);
  }

  function live(name: string): CatalogProperty {
    const entry = entries.get(name);
    if (!entry || entry.archivedAt !== null) throw propertyNotFound(name);
    return entry;
  }

  return {
    /** A live definition by name (what contact reads and writes consult). */
    find(name: string): CatalogProperty | undefined {
      const entry = entries.get(name);
      return entry && entry.archivedAt === null ? entry : undefined;
    },

    /** One definition: live ones, or (`archived`) only archived ones, as HubSpot's `archived` flag selects. */
    get(name: string, archived: boolean): CatalogProperty {
      const entry = entries.get(name);
      if (!entry || (entry.archivedAt !== null) !== archived) throw propertyNotFound(name);
      return entry;
    },

    list(archived: boolean): CatalogProperty[] {
      return [...entries.values()].filter((entry) => (entry.archivedAt !== null) === archived);
    },

    create(input: NewProperty): CatalogProperty {
      const existing = entries.get(input.name);
      if (existing) {
        throw new HubSpotError(
          409,
          'OBJECT_ALREADY_EXISTS',
          existing.archivedAt === null
            ? `A property named '${input.name}' already exists.`
            : `A property named '${input.name}' already exists in the recycling bin; restore it or pick another name.`,
        );
      }
      const options =
        input.type === 'bool' && !input.options?.length ? booleanOptions() : (input.options ?? []);
      checkShape({ ...input, options });
      const now = clock.now();
      const entry: CatalogProperty = {
        name: input.name,
        label: input.label,
        type: input.type,
        fieldType: input.fieldType,
        groupName: input.groupName,
        description: input.description ?? '',
        options,
        hubspotDefined: false,
        readOnly: false,
        // A new property has no webhook subscription until the app adds one.
        subscribed: false,
        displayOrder: entries.size,
        createdAt: now,
        updatedAt: now,
        archivedAt: null,
      };
      entries.set(entry.name, entry);
      return entry;
    },

    update(name: string, patch: PropertyPatch): CatalogProperty {
      const entry = live(name);
      if (entry.hubspotDefined) {
        throw validationError(`${name} is a HubSpot defined property; its definition cannot be changed`);
      }
      const next = {
        label: patch.label ?? entry.label,
        type: patch.type ?? entry.type,
        fieldType: patch.fieldType ?? entry.fieldType,
        groupName: patch.groupName ?? entry.groupName,
        description: patch.description ?? entry.description,
        options: patch.options ?? entry.options,
      };
      checkShape(next);
      Object.assign(entry, next, { updatedAt: clock.now() });
      return entry;
    },

    /** HubSpot-defined properties cannot be archived; archiving an archived one changes nothing. */
    archive(name: string): void {
      const entry = entries.get(name);
      if (!entry) throw propertyNotFound(name);
      if (entry.hubspotDefined) {
        throw validationError(`${name} is a HubSpot defined property and cannot be archived`);
      }
      if (entry.archivedAt !== null) return;
      entry.archivedAt = clock.now();
      entry.updatedAt = entry.archivedAt;
    },
  };
}

function booleanOptions(): PropertyDefinition['options'] {
  return [
    { label: 'Yes', value: 'true', displayOrder: 0, hidden: false },
    { label: 'No', value: 'false', displayOrder: 1, hidden: false },
  ];
}

export type PropertyCatalog = ReturnType<typeof createPropertyCatalog>;
