import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Access, AuthenticatedCaller } from './auth.ts';
import { missingScopes, validationError } from './errors.ts';
import { isoFromMs } from './iso.ts';
import type { CatalogProperty, PropertyCatalog } from './property-catalog.ts';

const TYPES = ['bool', 'date', 'datetime', 'enumeration', 'number', 'phone_number', 'string'] as const;
const FIELD_TYPES = [
  'booleancheckbox',
  'calculation_equation',
  'checkbox',
  'date',
  'file',
  'html',
  'number',
  'phonenumber',
  'radio',
  'select',
  'text',
  'textarea',
] as const;

const OptionInput = z.object({
  label: z.string().min(1),
  value: z.string().min(1),
  displayOrder: z.number().int().optional(),
  hidden: z.boolean().default(false),
  description: z.string().optional(),
});

// https://developers.hubspot.com/docs/api/crm/properties#create-a-property: internal names start with a letter
// and hold lowercase letters, digits and underscores.
const PropertyName = z
  .string()
  .max(100)
  .regex(
    /^[a-z][a-z0-9_]*$/,
    'must start with a letter and hold only lowercase letters, digits and underscores',
  );

const PropertyCreate = z.object({
  name: PropertyName,
  label: z.string().min(1),
  type: z.enum(TYPES),
  fieldType: z.enum(FIELD_TYPES),
  groupName: z.string().min(1),
  description: z.string().optional(),
  options: z.array(OptionInput).optional(),
});

const PropertyUpdate = PropertyCreate.omit({ name: true }).partial();

/** The control API's shortcut: only a name and a type are needed, the rest defaults as HubSpot's UI would. */
const DEFAULT_FIELD_TYPE: Record<(typeof TYPES)[number], (typeof FIELD_TYPES)[number]> = {
  bool: 'booleancheckbox',
  date: 'date',
  datetime: 'date',
  enumeration: 'select',
  number: 'number',
  phone_number: 'phonenumber',
  string: 'text',
};
const ControlCreate = z
  .object({
    name: PropertyName,
    label: z.string().min(1).optional(),
    type: z.enum(TYPES).default('string'),
    fieldType: z.enum(FIELD_TYPES).optional(),
    groupName: z.string().min(1).default('contactinformation'),
    description: z.string().optional(),
    options: z.array(OptionInput).optional(),
  })
  .transform((input) => ({
    ...input,
    label: input.label ?? input.name,
    fieldType: input.fieldType ?? DEFAULT_FIELD_TYPE[input.type],
  }));

function parse<T>(schema: z.ZodType<T>, input: unknown): T {
  const result = schema.safeParse(input ?? undefined);
  if (!result.success) throw validationError(`Invalid property: ${z.prettifyError(result.error)}`);
  return result.data;
}

/** Options keep the order they were given in unless they say otherwise. */
const withOrder = (options: z.infer<typeof OptionInput>[] | undefined) =>
  options?.map((option, index) => ({
    label: option.label,
    value: option.value,
    hidden: option.hidden,
    displayOrder: option.displayOrder ?? index,
  }));

/** A definition in HubSpot's `Property` shape (crm-properties-v3.json). */
export function toPublicProperty(property: CatalogProperty) {
  return {
    name: property.name,
    label: property.label,
    type: property.type,
    fieldType: property.fieldType,
    description: property.description,
    groupName: property.groupName,
    options: property.options,
    displayOrder: property.displayOrder,
    calculated: false,
    externalOptions: false,
    hasUniqueValue: false,
    hidden: false,
    formField: !property.readOnly,
    archived: property.archivedAt !== null,
    ...(property.archivedAt !== null ? { archivedAt: isoFromMs(property.archivedAt) } : {}),
    createdAt: isoFromMs(property.createdAt),
    updatedAt: isoFromMs(property.updatedAt),
    modificationMetadata: {
      archivable: !property.hubspotDefined,
      readOnlyDefinition: property.hubspotDefined,
      readOnlyValue: property.readOnly,
    },
    ...(property.hubspotDefined ? { hubspotDefined: true } : {}),
  };
}

const isTrue = (value: unknown) => String(value).toLowerCase() === 'true';

export interface PropertiesRoutesDeps {
  catalog: PropertyCatalog;
  guard: (request: FastifyRequest, access: Access) => Promise<AuthenticatedCaller>;
}

/** Contact property definitions at HubSpot's paths (https://developers.hubspot.com/docs/api/crm/properties). */
export function propertiesRoutes(app: FastifyInstance, deps: PropertiesRoutesDeps): void {
  const { catalog } = deps;
  const base = '/crm/v3/properties/contacts';

  // Changing definitions takes the schema write scope, reading them the read one.
  async function guardWrite(request: FastifyRequest): Promise<void> {
    const caller = await deps.guard(request, 'schema');
    if (caller.scopes && !caller.scopes.has('crm.schemas.contacts.write')) {
      throw missingScopes(['crm.schemas.contacts.write']);
    }
  }

  app.get(base, async (request) => {
    await deps.guard(request, 'schema');
    const query = request.query as Record<string, unknown>;
    return { results: catalog.list(isTrue(query.archived)).map(toPublicProperty) };
  });

  app.get<{ Params: { name: string } }>(`${base}/:name`, async (request) => {
    await deps.guard(request, 'schema');
    const query = request.query as Record<string, unknown>;
    return toPublicProperty(catalog.get(request.params.name, isTrue(query.archived)));
  });

  app.post(base, async (request, reply) => {
    await guardWrite(request);
    const input = parse(PropertyCreate, request.body);
    reply.code(201);
    return toPublicProperty(catalog.create({ ...input, options: withOrder(input.options) }));
  });

  app.patch<{ Params: { name: string } }>(`${base}/:name`, async (request) => {
    await guardWrite(request);
    const patch = parse(PropertyUpdate, request.body);
    return toPublicProperty(
      catalog.update(request.params.name, { ...patch, options: withOrder(patch.options) }),
    );
  });

  app.delete<{ Params: { name: string } }>(`${base}/:name`, async (request, reply) => {
    await guardWrite(request);
    catalog.archive(request.params.name);
    reply.code(204).send();
  });
}

/** Definition changes as a portal admin makes them in HubSpot's settings, without a token. */
export function propertiesControlRoutes(app: FastifyInstance, deps: { catalog: PropertyCatalog }): void {
  const { catalog } = deps;

  app.post('/__sim/properties', async (request, reply) => {
    const input = parse(ControlCreate, request.body);
    reply.code(201);
    return toPublicProperty(catalog.create({ ...input, options: withOrder(input.options) }));
  });

  app.patch<{ Params: { name: string } }>('/__sim/properties/:name', async (request) => {
    const patch = parse(PropertyUpdate, request.body);
    return toPublicProperty(
      catalog.update(request.params.name, { ...patch, options: withOrder(patch.options) }),
    );
  });

  app.delete<{ Params: { name: string } }>('/__sim/properties/:name', async (request) => {
    catalog.archive(request.params.name);
    return toPublicProperty(catalog.get(request.params.name, true));
  });
}
