import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Access, AuthenticatedCaller } from './auth.ts';
import { HubSpotError } from './errors.ts';
import { PROPERTY_DEFINITIONS, type PropertyDefinition } from './properties.ts';

// Property definitions predate every seeded contact.
const DEFINED_AT = '2019-08-06T02:41:08.236Z';

function toPublicProperty(definition: PropertyDefinition, displayOrder: number) {
  return {
    name: definition.name,
    label: definition.label,
    type: definition.type,
    fieldType: definition.fieldType,
    description: definition.description,
    groupName: definition.groupName,
    options: definition.options,
    displayOrder,
    calculated: false,
    externalOptions: false,
    hasUniqueValue: false,
    hidden: false,
    formField: !definition.readOnly,
    archived: false,
    createdAt: DEFINED_AT,
    updatedAt: DEFINED_AT,
    modificationMetadata: {
      archivable: !definition.hubspotDefined,
      readOnlyDefinition: definition.hubspotDefined,
      readOnlyValue: definition.readOnly,
    },
    ...(definition.hubspotDefined ? { hubspotDefined: true } : {}),
  };
}

/** `GET /crm/v3/properties/contacts` (https://developers.hubspot.com/docs/api/crm/properties). */
export function propertiesRoutes(
  app: FastifyInstance,
  deps: { guard: (request: FastifyRequest, access: Access) => Promise<AuthenticatedCaller> },
): void {
  app.get('/crm/v3/properties/contacts', async (request) => {
    await deps.guard(request, 'schema');
    return { results: PROPERTY_DEFINITIONS.map(toPublicProperty) };
  });

  app.get<{ Params: { name: string } }>('/crm/v3/properties/contacts/:name', async (request) => {
    await deps.guard(request, 'schema');
    const index = PROPERTY_DEFINITIONS.findIndex((definition) => definition.name === request.params.name);
    const definition = PROPERTY_DEFINITIONS[index];
    if (!definition) {
      throw new HubSpotError(404, 'OBJECT_NOT_FOUND', `Unable to find property ${request.params.name}`);
    }
    return toPublicProperty(definition, index);
  });
}
