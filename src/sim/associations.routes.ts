import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AssociatedCompany, Associations, AssociationTypeDefinition } from './associations.ts';
import { type Access, type AuthenticatedCaller, integrationSource } from './auth.ts';
import { batchEnvelope } from './batch-envelope.ts';
import { validationError } from './errors.ts';

export interface AssociationsRoutesDeps {
  associations: Associations;
  appId: number;
  guard: (request: FastifyRequest, access: Access) => Promise<AuthenticatedCaller>;
}

/** v4 pages a contact's associations 500 at a time; batch reads take up to 1,000 ids. */
export const ASSOCIATIONS_PAGE_LIMIT = 500;
export const ASSOCIATIONS_BATCH_LIMIT = 1000;
export const ASSOCIATIONS_BATCH_WRITE_LIMIT = 100;

const CONTACT_NAMES = new Set(['contacts', 'contact', '0-1']);
const COMPANY_NAMES = new Set(['companies', 'company', '0-2']);

/** HubSpot's answer for an object type it cannot name. */
const unknownObjectType = (name: string) => validationError(`Unable to infer object type from: ${name}`);

/** Only contacts → companies is simulated; any other known pair is refused as HubSpot refuses unknown types. */
function assertContactToCompany(from: string, to: string): void {
  if (!CONTACT_NAMES.has(from.toLowerCase())) throw unknownObjectType(from);
  if (!COMPANY_NAMES.has(to.toLowerCase())) throw unknownObjectType(to);
}

const associationTypesOf = (types: readonly AssociationTypeDefinition[]) =>
  types.map(({ category, typeId, label }) => ({ category, typeId, label }));

const toAssociated = ({ toObjectId, types }: AssociatedCompany) => ({
  toObjectId,
  associationTypes: associationTypesOf(types),
});

const encodeAfter = (offset: number) => Buffer.from(String(offset)).toString('base64url');

function decodeAfter(after: unknown): number {
  if (after === undefined || after === '') return 0;
  const decoded = Buffer.from(String(after), 'base64url').toString('utf8');
  if (!/^\d{1,9}$/.test(decoded)) throw validationError(`Invalid paging cursor: ${String(after)}`);
  return Number(decoded);
}

function parseLimit(raw: unknown): number {
  if (raw === undefined || raw === '') return ASSOCIATIONS_PAGE_LIMIT;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > ASSOCIATIONS_PAGE_LIMIT) {
    throw validationError(`limit must be between 1 and ${ASSOCIATIONS_PAGE_LIMIT}, got ${String(raw)}`);
  }
  return limit;
}

function inputsOf<T>(body: unknown, max: number): Partial<T>[] {
  const inputs = (body as { inputs?: unknown } | undefined)?.inputs;
  if (!Array.isArray(inputs)) throw validationError('Invalid input JSON: "inputs" must be an array');
  if (inputs.length > max) {
    throw validationError(`Batch input size ${inputs.length} exceeds the maximum of ${max}`);
  }
  return inputs.map((input) => (input !== null && typeof input === 'object' ? input : {}) as Partial<T>);
}

const idOf = (value: unknown): string => String((value as { id?: unknown } | undefined)?.id ?? '');

/**
 * CRM Associations v4 between contacts and companies, at HubSpot's paths and in its shapes
 * (https://developers.hubspot.com/docs/api/crm/associations).
 */
export function associationsRoutes(app: FastifyInstance, deps: AssociationsRoutesDeps): void {
  const { associations } = deps;

  /** The association types a labelled create asks for, all checked before any is made. */
  function requestedTypes(body: unknown): number[] {
    if (!Array.isArray(body) || body.length === 0) {
      throw validationError(
        'Invalid input JSON: expected a non-empty array of {associationCategory, associationTypeId}',
      );
    }
    return body.map((spec) => {
      const { associationCategory, associationTypeId } = (spec ?? {}) as Record<string, unknown>;
      return associations.typeOf(Number(associationTypeId), String(associationCategory)).typeId;
    });
  }

  const labelsBetween = (
    contactId: number,
    companyId: number,
    types: readonly AssociationTypeDefinition[],
  ) => ({
    fromObjectTypeId: '0-1',
    fromObjectId: contactId,
    toObjectTypeId: '0-2',
    toObjectId: companyId,
    labels: types.flatMap((type) => (type.label === null ? [] : [type.label])),
  });

  const defaultResults = (contactId: number, companyId: number, typeIds: number[]) =>
    typeIds.map((typeId) => ({
      from: { id: String(contactId) },
      to: { id: String(companyId) },
      associationSpec: { associationCategory: 'HUBSPOT_DEFINED', associationTypeId: typeId },
    }));

  type PairParams = { objectType: string; objectId: string; toObjectType: string; toObjectId: string };

  app.get<{ Params: Omit<PairParams, 'toObjectId'> }>(
    '/crm/v4/objects/:objectType/:objectId/associations/:toObjectType',
    async (request) => {
      await deps.guard(request, 'read');
      const { objectType, objectId, toObjectType } = request.params;
      assertContactToCompany(objectType, toObjectType);
      const query = request.query as Record<string, unknown>;
      const limit = parseLimit(query.limit);
      const offset = decodeAfter(query.after);
      const all = associations.list(objectId);
      const results = all.slice(offset, offset + limit).map(toAssociated);
      if (offset + limit >= all.length) return { results };
      const after = encodeAfter(offset + limit);
      const link = `http://${request.headers.host}/crm/v4/objects/${objectType}/${objectId}/associations/${toObjectType}?limit=${limit}&after=${after}`;
      return { results, paging: { next: { after, link } } };
    },
  );

  app.put<{ Params: PairParams }>(
    '/crm/v4/objects/:objectType/:objectId/associations/default/:toObjectType/:toObjectId',
    async (request) => {
      const caller = await deps.guard(request, 'write');
      const { objectType, objectId, toObjectType, toObjectId } = request.params;
      assertContactToCompany(objectType, toObjectType);
      const startedAt = new Date().toISOString();
      const made = associations.associateDefault(objectId, toObjectId, integrationSource(caller));
      return batchEnvelope(startedAt, defaultResults(made.contactId, made.companyId, made.typeIds));
    },
  );

  app.put<{ Params: PairParams }>(
    '/crm/v4/objects/:objectType/:objectId/associations/:toObjectType/:toObjectId',
    async (request, reply) => {
      const caller = await deps.guard(request, 'write');
      const { objectType, objectId, toObjectType, toObjectId } = request.params;
      assertContactToCompany(objectType, toObjectType);
      const typeIds = requestedTypes(request.body);
      const made = associations.associate(objectId, toObjectId, typeIds, integrationSource(caller));
      reply.code(201);
      return labelsBetween(made.contactId, made.companyId, made.types);
    },
  );

  app.delete<{ Params: PairParams }>(
    '/crm/v4/objects/:objectType/:objectId/associations/:toObjectType/:toObjectId',
    async (request, reply) => {
      const caller = await deps.guard(request, 'write');
      const { objectType, objectId, toObjectType, toObjectId } = request.params;
      assertContactToCompany(objectType, toObjectType);
      associations.dissociate(objectId, toObjectId, integrationSource(caller));
      reply.code(204).send();
    },
  );

  type BatchParams = { fromObjectType: string; toObjectType: string };
  const batchPath = (action: string) => `/crm/v4/associations/:fromObjectType/:toObjectType/batch/${action}`;

  app.post<{ Params: BatchParams }>(batchPath('read'), async (request, reply) => {
    await deps.guard(request, 'read');
    assertContactToCompany(request.params.fromObjectType, request.params.toObjectType);
    const startedAt = new Date().toISOString();
    const inputs = inputsOf<{ id: unknown; after: unknown }>(request.body, ASSOCIATIONS_BATCH_LIMIT);
    const results = [];
    const without: string[] = [];
    for (const input of inputs) {
      const id = String(input.id ?? '');
      const held = associations.held(id);
      if (held.length === 0) {
        without.push(id);
        continue;
      }
      const offset = decodeAfter(input.after);
      const page = held.slice(offset, offset + ASSOCIATIONS_PAGE_LIMIT).map(toAssociated);
      const result: Record<string, unknown> = { from: { id }, to: page };
      if (offset + ASSOCIATIONS_PAGE_LIMIT < held.length) {
        result.paging = { next: { after: encodeAfter(offset + ASSOCIATIONS_PAGE_LIMIT) } };
      }
      results.push(result);
    }
    // A record without associations (or unknown) is reported as an error, not as an empty result.
    const errors = without.map((id) => ({
      status: 'error',
      category: 'OBJECT_NOT_FOUND',
      subCategory: 'crm.associations.NO_ASSOCIATIONS_FOUND',
      message: `No companies are associated with contact ${id}.`,
      context: { fromObjectId: [id], toObjectType: ['COMPANY'] },
      errors: [],
      links: {},
    }));
    reply.code(errors.length > 0 ? 207 : 200);
    return batchEnvelope(startedAt, results, errors);
  });

  app.post<{ Params: BatchParams }>(batchPath('associate/default'), async (request) => {
    const caller = await deps.guard(request, 'write');
    assertContactToCompany(request.params.fromObjectType, request.params.toObjectType);
    const startedAt = new Date().toISOString();
    const pairs = inputsOf<{ from: unknown; to: unknown }>(request.body, ASSOCIATIONS_BATCH_WRITE_LIMIT).map(
      (input) => ({ from: idOf(input.from), to: idOf(input.to) }),
    );
    // HubSpot refuses the whole batch when any record is unknown: check them all before writing.
    for (const { from, to } of pairs) {
      associations.liveContact(from);
      associations.company(to);
    }
    const results = pairs.flatMap(({ from, to }) => {
      const made = associations.associateDefault(from, to, integrationSource(caller));
      return defaultResults(made.contactId, made.companyId, made.typeIds);
    });
    return batchEnvelope(startedAt, results);
  });

  app.post<{ Params: BatchParams }>(batchPath('create'), async (request, reply) => {
    const caller = await deps.guard(request, 'write');
    assertContactToCompany(request.params.fromObjectType, request.params.toObjectType);
    const startedAt = new Date().toISOString();
    const planned = inputsOf<{ from: unknown; to: unknown; types: unknown }>(
      request.body,
      ASSOCIATIONS_BATCH_WRITE_LIMIT,
    ).map((input) => {
      const from = idOf(input.from);
      const to = idOf(input.to);
      associations.liveContact(from);
      associations.company(to);
      return { from, to, typeIds: requestedTypes(input.types) };
    });
    const results = planned.map(({ from, to, typeIds }) => {
      const made = associations.associate(from, to, typeIds, integrationSource(caller));
      return labelsBetween(made.contactId, made.companyId, made.types);
    });
    reply.code(201);
    return batchEnvelope(startedAt, results);
  });

  app.post<{ Params: BatchParams }>(batchPath('archive'), async (request, reply) => {
    const caller = await deps.guard(request, 'write');
    assertContactToCompany(request.params.fromObjectType, request.params.toObjectType);
    const planned = inputsOf<{ from: unknown; to: unknown }>(
      request.body,
      ASSOCIATIONS_BATCH_WRITE_LIMIT,
    ).map((input) => {
      if (!Array.isArray(input.to))
        throw validationError('Invalid input JSON: "to" must be an array of {id}');
      return { from: idOf(input.from), to: input.to.map(idOf) };
    });
    for (const { from, to } of planned) {
      associations.liveContact(from);
      for (const id of to) associations.company(id);
    }
    for (const { from, to } of planned) {
      for (const id of to) associations.dissociate(from, id, integrationSource(caller));
    }
    reply.code(204).send();
  });
}
