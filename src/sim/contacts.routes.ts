import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type Access, type AuthenticatedCaller, integrationSource } from './auth.ts';
import { batchEnvelope } from './batch-envelope.ts';
import type { ContactRecord } from './contact.ts';
import { type HistoryRequest, parsePropertyList, toPublicContact } from './contact-shape.ts';
import { contactNotFound, HubSpotError, validationError } from './errors.ts';
import type { Portal } from './portal.ts';
import type { PropertyLookup } from './properties.ts';
import type { SearchRequest } from './search.ts';
import { createSearch } from './search.ts';
import { validateProperties } from './validation.ts';

export const LIST_MAX_LIMIT = 100;
export const BATCH_MAX_INPUTS = 100;
/**
 * Reads that ask for `propertiesWithHistory` get at most 50 records a page or batch; HubSpot refuses more with a
 * 400 (https://github.com/PipedreamHQ/pipedream/pull/8462, https://github.com/HubSpot/hubspot-api-python/issues/143).
 */
export const HISTORY_MAX_RECORDS = 50;

export interface ContactsRoutesDeps {
  portal: Portal;
  /** The portal's property definitions, which writes, reads and searches are checked against. */
  catalog: PropertyLookup;
  appId: number;
  /** Authenticates, rate-limits and applies API faults; the routes call it first. */
  guard: (request: FastifyRequest, access: Access, kind?: 'search') => Promise<AuthenticatedCaller>;
}

/** Opaque `after` cursors: the next id to read, base64url-encoded. */
export function encodeCursor(nextId: number): string {
  return Buffer.from(String(nextId)).toString('base64url');
}

function decodeCursor(after: unknown): number {
  if (after === undefined || after === '') return 0;
  const decoded = Buffer.from(String(after), 'base64url').toString('utf8');
  if (!/^\d{1,15}$/.test(decoded)) throw validationError(`Invalid paging cursor: ${String(after)}`);
  return Number(decoded);
}

function parseLimit(raw: unknown, fallback: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > max) {
    throw validationError(`limit must be between 1 and ${max}, got ${String(raw)}`);
  }
  return limit;
}

function parseId(raw: string): number {
  const id = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(id)) throw contactNotFound(raw);
  return id;
}

const isTrue = (value: unknown) => String(value).toLowerCase() === 'true';

function body<T extends object>(request: FastifyRequest): Partial<T> {
  const value = request.body;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw validationError('Invalid input JSON: expected an object');
  }
  return value as Partial<T>;
}

function notFoundError(ids: string[]) {
  return {
    status: 'error',
    category: 'OBJECT_NOT_FOUND',
    message:
      'Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid.',
    context: { ids },
    errors: [],
    links: {},
  };
}

const UPSERT_ID_PROPERTIES = ['email', 'hs_object_id'];

interface UpsertPlan {
  id: string;
  idProperty: string;
  values: Record<string, string>;
  createValues: Record<string, string>;
  traceId: string | undefined;
}

/** One batch-upsert input, checked before anything is written (HubSpot refuses a bad batch whole). */
function planUpsert(raw: unknown, index: number, catalog: PropertyLookup): UpsertPlan {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw validationError(`inputs[${index}] must be an object with id, idProperty and properties`);
  }
  const item = raw as {
    id?: unknown;
    idProperty?: unknown;
    properties?: unknown;
    objectWriteTraceId?: unknown;
  };
  if (typeof item.id !== 'string' || item.id.trim() === '') {
    throw validationError(`inputs[${index}].id must be a non-empty string`);
  }
  const idProperty = item.idProperty === undefined ? 'hs_object_id' : String(item.idProperty);
  if (!UPSERT_ID_PROPERTIES.includes(idProperty)) {
    throw validationError(
      `inputs[${index}].idProperty ${idProperty} is not a unique contact property: use ${UPSERT_ID_PROPERTIES.join(' or ')}`,
    );
  }
  const values = validateProperties(item.properties, catalog);
  // A contact created by email gets that email, as HubSpot sets the idProperty's value on the new record.
  const createValues =
    idProperty === 'email' ? validateProperties({ email: item.id, ...values }, catalog) : values;
  const traceId = typeof item.objectWriteTraceId === 'string' ? item.objectWriteTraceId : undefined;
  return { id: item.id, idProperty, values, createValues, traceId };
}

/** CRM v3 contacts at HubSpot's paths (https://developers.hubspot.com/docs/api/crm/contacts). */
export function contactsRoutes(app: FastifyInstance, deps: ContactsRoutesDeps): void {
  const { portal, catalog } = deps;
  const search = createSearch({ portal, catalog });
  const base = '/crm/v3/objects/contacts';

  const historyOf = (names: readonly string[] | null): HistoryRequest | null =>
    names && names.length > 0 ? { names, historyOf: portal.historyOf } : null;

  /** A contact by id; a merged-away id answers with its survivor, whose id differs. */
  function readOne(rawId: string, archived: boolean, idProperty?: string): ContactRecord {
    if (idProperty && idProperty !== 'hs_object_id') {
      if (idProperty !== 'email') throw validationError(`${idProperty} is not a unique property`);
      const byEmail = portal.findLiveByEmail(rawId);
      if (!byEmail || archived) throw contactNotFound(rawId);
      return byEmail;
    }
    const id = parseId(rawId);
    if (archived) {
      const contact = portal.get(id);
      if (!contact?.archived || contact.mergedInto !== null || contact.erased) throw contactNotFound(rawId);
      return contact;
    }
    const contact = portal.resolve(id);
    if (!contact || contact.archived) throw contactNotFound(rawId);
    return contact;
  }

  function liveById(rawId: string): ContactRecord | undefined {
    if (!/^\d+$/.test(rawId)) return undefined;
    const contact = portal.resolve(Number(rawId));
    return contact && !contact.archived ? contact : undefined;
  }

  const listable = (archived: boolean) => (contact: ContactRecord) =>
    archived ? contact.archived && contact.mergedInto === null && !contact.erased : !contact.archived;

  app.get(base, async (request) => {
    await deps.guard(request, 'read');
    const query = request.query as Record<string, unknown>;
    const withHistory = historyOf(parsePropertyList(query.propertiesWithHistory));
    const limit = parseLimit(query.limit, 10, LIST_MAX_LIMIT);
    if (withHistory && limit > HISTORY_MAX_RECORDS) {
      throw validationError(
        `limit must be at most ${HISTORY_MAX_RECORDS} when propertiesWithHistory is requested, got ${limit}`,
      );
    }
    const archived = isTrue(query.archived);
    const properties = parsePropertyList(query.properties);
    const wanted = listable(archived);
    const results = [];
    let nextId: number | null = null;
    for (const contact of portal.scan(decodeCursor(query.after))) {
      if (!wanted(contact)) continue;
      if (results.length === limit) {
        nextId = contact.id;
        break;
      }
      results.push(toPublicContact(contact, properties, catalog, withHistory));
    }
    if (nextId === null) return { results };
    const after = encodeCursor(nextId);
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (key === 'after') continue;
      for (const item of Array.isArray(value) ? value : [value]) params.append(key, String(item));
    }
    params.set('after', after);
    return {
      results,
      paging: { next: { after, link: `http://${request.headers.host}${base}?${params}` } },
    };
  });

  app.get<{ Params: { contactId: string } }>(`${base}/:contactId`, async (request) => {
    await deps.guard(request, 'read');
    const query = request.query as Record<string, unknown>;
    const contact = readOne(
      request.params.contactId,
      isTrue(query.archived),
      typeof query.idProperty === 'string' ? query.idProperty : undefined,
    );
    return toPublicContact(
      contact,
      parsePropertyList(query.properties),
      catalog,
      historyOf(parsePropertyList(query.propertiesWithHistory)),
    );
  });

  app.post(base, async (request, reply) => {
    const caller = await deps.guard(request, 'write');
    const input = body<{ properties: unknown }>(request);
    const contact = portal.create(
      validateProperties(input.properties ?? {}, catalog),
      integrationSource(caller),
    );
    reply.code(201);
    return toPublicContact(contact, Object.keys(contact.properties), catalog);
  });

  app.patch<{ Params: { contactId: string } }>(`${base}/:contactId`, async (request) => {
    const caller = await deps.guard(request, 'write');
    const query = request.query as Record<string, unknown>;
    const input = body<{ properties: unknown }>(request);
    const values = validateProperties(input.properties, catalog);
    const target = readOne(
      request.params.contactId,
      false,
      typeof query.idProperty === 'string' ? query.idProperty : undefined,
    );
    const contact = portal.update(target.id, values, integrationSource(caller));
    return toPublicContact(contact, Object.keys(contact.properties), catalog);
  });

  app.delete<{ Params: { contactId: string } }>(`${base}/:contactId`, async (request, reply) => {
    const caller = await deps.guard(request, 'write');
    const id = Number(request.params.contactId);
    if (Number.isSafeInteger(id)) portal.archive(id, integrationSource(caller));
    reply.code(204).send();
  });

  app.post(`${base}/batch/read`, async (request, reply) => {
    await deps.guard(request, 'read');
    const startedAt = new Date().toISOString();
    const query = request.query as Record<string, unknown>;
    const input = body<{
      inputs: { id?: unknown }[];
      properties: string[];
      propertiesWithHistory: string[];
      idProperty: string;
    }>(request);
    const inputs = Array.isArray(input.inputs) ? input.inputs : [];
    if (inputs.length > BATCH_MAX_INPUTS) {
      throw validationError(`Batch input size ${inputs.length} exceeds the maximum of ${BATCH_MAX_INPUTS}`);
    }
    const properties =
      Array.isArray(input.properties) && input.properties.length > 0 ? input.properties : null;
    const withHistory = historyOf(
      Array.isArray(input.propertiesWithHistory) ? input.propertiesWithHistory.map(String) : null,
    );
    if (withHistory && inputs.length > HISTORY_MAX_RECORDS) {
      throw validationError(
        `The maximum number of inputs supported in a batch request for property histories is ${HISTORY_MAX_RECORDS}. Please reduce the number of items and try again.`,
      );
    }
    const results = [];
    const missing: string[] = [];
    const seen = new Set<number>();
    for (const item of inputs) {
      const rawId = String(item?.id ?? '');
      try {
        const contact = readOne(rawId, isTrue(query.archived), input.idProperty);
        if (seen.has(contact.id)) continue;
        seen.add(contact.id);
        results.push(toPublicContact(contact, properties, catalog, withHistory));
      } catch (error) {
        if (!(error instanceof HubSpotError) || error.statusCode !== 404) throw error;
        missing.push(rawId);
      }
    }
    const errors = missing.length === 0 ? [] : [notFoundError(missing)];
    reply.code(errors.length > 0 ? 207 : 200);
    return batchEnvelope(startedAt, results, errors);
  });

  app.post(`${base}/batch/create`, async (request, reply) => {
    const caller = await deps.guard(request, 'write');
    const startedAt = new Date().toISOString();
    const inputs = body<{ inputs: { properties?: unknown }[] }>(request).inputs ?? [];
    if (inputs.length > BATCH_MAX_INPUTS) {
      throw validationError(`Batch input size ${inputs.length} exceeds the maximum of ${BATCH_MAX_INPUTS}`);
    }
    // HubSpot validates the whole batch before writing any of it.
    const values = inputs.map((item) => validateProperties(item?.properties ?? {}, catalog));
    const created = values.map((properties) => portal.create(properties, integrationSource(caller)));
    reply.code(201);
    return batchEnvelope(
      startedAt,
      created.map((contact) => toPublicContact(contact, Object.keys(contact.properties), catalog)),
      [],
    );
  });

  app.post(`${base}/batch/update`, async (request) => {
    const caller = await deps.guard(request, 'write');
    const startedAt = new Date().toISOString();
    const inputs = body<{ inputs: { id?: unknown; properties?: unknown }[] }>(request).inputs ?? [];
    if (inputs.length > BATCH_MAX_INPUTS) {
      throw validationError(`Batch input size ${inputs.length} exceeds the maximum of ${BATCH_MAX_INPUTS}`);
    }
    const planned = inputs.map((item) => ({
      target: readOne(String(item?.id ?? ''), false),
      values: validateProperties(item?.properties, catalog),
    }));
    const updated = planned.map(({ target, values }) =>
      portal.update(target.id, values, integrationSource(caller)),
    );
    return batchEnvelope(
      startedAt,
      updated.map((contact) => toPublicContact(contact, Object.keys(contact.properties), catalog)),
      [],
    );
  });

  // Creates the contacts it cannot find by their unique property, updates the others
  // (https://developers.hubspot.com/docs/api-reference/legacy/crm/objects/contacts/batch/upsert-contacts).
  app.post(`${base}/batch/upsert`, async (request, reply) => {
    const caller = await deps.guard(request, 'write');
    const startedAt = new Date().toISOString();
    const inputs = body<{ inputs: unknown }>(request).inputs;
    if (!Array.isArray(inputs) || inputs.length === 0) {
      throw validationError('inputs must be a non-empty array of {id, idProperty, properties}');
    }
    if (inputs.length > BATCH_MAX_INPUTS) {
      throw validationError(`Batch input size ${inputs.length} exceeds the maximum of ${BATCH_MAX_INPUTS}`);
    }
    const planned = inputs.map((raw: unknown, index) => planUpsert(raw, index, catalog));
    const keys = planned.map((plan) => `${plan.idProperty}:${plan.id.toLowerCase()}`);
    const duplicates = keys.filter((key, index) => keys.indexOf(key) !== index);
    if (duplicates.length > 0) {
      throw validationError(`Duplicate IDs found in batch input: ${[...new Set(duplicates)].join(', ')}`);
    }
    const source = integrationSource(caller);
    const results = [];
    const missing: string[] = [];
    for (const plan of planned) {
      const existing = plan.idProperty === 'email' ? portal.findLiveByEmail(plan.id) : liveById(plan.id);
      let contact: ContactRecord;
      if (existing) contact = portal.update(existing.id, plan.values, source);
      else if (plan.idProperty === 'email') contact = portal.create(plan.createValues, source);
      else {
        missing.push(plan.id);
        continue;
      }
      const shaped = {
        ...toPublicContact(contact, Object.keys(contact.properties), catalog),
        new: !existing,
      };
      results.push(plan.traceId === undefined ? shaped : { ...shaped, objectWriteTraceId: plan.traceId });
    }
    const errors = missing.length === 0 ? [] : [notFoundError(missing)];
    reply.code(errors.length > 0 ? 207 : 200);
    return batchEnvelope(startedAt, results, errors);
  });

  app.post(`${base}/batch/archive`, async (request, reply) => {
    const caller = await deps.guard(request, 'write');
    const inputs = body<{ inputs: { id?: unknown }[] }>(request).inputs ?? [];
    if (inputs.length > BATCH_MAX_INPUTS) {
      throw validationError(`Batch input size ${inputs.length} exceeds the maximum of ${BATCH_MAX_INPUTS}`);
    }
    for (const item of inputs) {
      const id = Number(item?.id);
      if (Number.isSafeInteger(id)) portal.archive(id, integrationSource(caller));
    }
    reply.code(204).send();
  });

  app.post(`${base}/search`, async (request) => {
    await deps.guard(request, 'read', 'search');
    const page = search.run(body<SearchRequest>(request) as SearchRequest);
    const results = [];
    for (const id of page.ids) {
      const contact = portal.searchRecord(id);
      if (contact) results.push(toPublicContact(contact, page.properties, catalog));
    }
    const answer: Record<string, unknown> = { total: page.total, results };
    if (page.nextAfter !== null) {
      answer.paging = { next: { after: page.nextAfter, link: `?after=${page.nextAfter}` } };
    }
    return answer;
  });

  app.post(`${base}/merge`, async (request) => {
    const caller = await deps.guard(request, 'write');
    const input = body<{ primaryObjectId: unknown; objectIdToMerge: unknown }>(request);
    if (input.primaryObjectId === undefined || input.objectIdToMerge === undefined) {
      throw validationError('primaryObjectId and objectIdToMerge are required');
    }
    const primary = parseId(String(input.primaryObjectId));
    const toMerge = parseId(String(input.objectIdToMerge));
    const survivor = portal.merge(primary, toMerge, integrationSource(caller));
    return toPublicContact(survivor, Object.keys(survivor.properties), catalog);
  });

  app.post(`${base}/gdpr-delete`, async (request, reply) => {
    const caller = await deps.guard(request, 'write');
    const input = body<{ objectId: unknown; idProperty: string }>(request);
    const target = readOne(String(input.objectId ?? ''), false, input.idProperty);
    portal.privacyDelete(target.id, integrationSource(caller));
    reply.code(204).send();
  });
}
