import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Access, AuthenticatedCaller } from './auth.ts';
import type { ChangeSource } from './changes.ts';
import type { ContactRecord } from './contact.ts';
import { parsePropertyList, toPublicContact } from './contact-shape.ts';
import { contactNotFound, HubSpotError, validationError } from './errors.ts';
import type { Portal } from './portal.ts';
import type { SearchRequest } from './search.ts';
import { createSearch } from './search.ts';
import { validateProperties } from './validation.ts';

export const LIST_MAX_LIMIT = 100;
export const BATCH_MAX_INPUTS = 100;

export interface ContactsRoutesDeps {
  portal: Portal;
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

function batchEnvelope(startedAt: string, results: unknown[], errors: Record<string, unknown>[]) {
  const envelope: Record<string, unknown> = {
    status: 'COMPLETE',
    results,
    startedAt,
    completedAt: new Date().toISOString(),
  };
  if (errors.length > 0) {
    envelope.numErrors = errors.length;
    envelope.errors = errors;
  }
  return envelope;
}

/** CRM v3 contacts at HubSpot's paths (https://developers.hubspot.com/docs/api/crm/contacts). */
export function contactsRoutes(app: FastifyInstance, deps: ContactsRoutesDeps): void {
  const { portal } = deps;
  const search = createSearch(portal);
  const base = '/crm/v3/objects/contacts';

  // API writes show up in webhooks as made by an integration: the OAuth app, or a private app.
  const sourceOf = (caller: AuthenticatedCaller): ChangeSource => ({
    changeSource: 'INTEGRATION',
    sourceId: caller.oauth ? String(deps.appId) : 'private-app',
  });

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

  const listable = (archived: boolean) => (contact: ContactRecord) =>
    archived ? contact.archived && contact.mergedInto === null && !contact.erased : !contact.archived;

  app.get(base, async (request) => {
    await deps.guard(request, 'read');
    const query = request.query as Record<string, unknown>;
    const limit = parseLimit(query.limit, 10, LIST_MAX_LIMIT);
    const archived = isTrue(query.archived);
    const properties = parsePropertyList(query.properties);
    const withHistory = parsePropertyList(query.propertiesWithHistory);
    const wanted = listable(archived);
    const results = [];
    let nextId: number | null = null;
    for (const contact of portal.scan(decodeCursor(query.after))) {
      if (!wanted(contact)) continue;
      if (results.length === limit) {
        nextId = contact.id;
        break;
      }
      results.push(toPublicContact(contact, properties, withHistory));
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
      parsePropertyList(query.propertiesWithHistory),
    );
  });

  app.post(base, async (request, reply) => {
    const caller = await deps.guard(request, 'write');
    const input = body<{ properties: unknown }>(request);
    const contact = portal.create(validateProperties(input.properties ?? {}), sourceOf(caller));
    reply.code(201);
    return toPublicContact(contact, Object.keys(contact.properties));
  });

  app.patch<{ Params: { contactId: string } }>(`${base}/:contactId`, async (request) => {
    const caller = await deps.guard(request, 'write');
    const query = request.query as Record<string, unknown>;
    const input = body<{ properties: unknown }>(request);
    const values = validateProperties(input.properties);
    const target = readOne(
      request.params.contactId,
      false,
      typeof query.idProperty === 'string' ? query.idProperty : undefined,
    );
    const contact = portal.update(target.id, values, sourceOf(caller));
    return toPublicContact(contact, Object.keys(contact.properties));
  });

  app.delete<{ Params: { contactId: string } }>(`${base}/:contactId`, async (request, reply) => {
    const caller = await deps.guard(request, 'write');
    const id = Number(request.params.contactId);
    if (Number.isSafeInteger(id)) portal.archive(id, sourceOf(caller));
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
    const withHistory = Array.isArray(input.propertiesWithHistory) ? input.propertiesWithHistory : null;
    const results = [];
    const missing: string[] = [];
    const seen = new Set<number>();
    for (const item of inputs) {
      const rawId = String(item?.id ?? '');
      try {
        const contact = readOne(rawId, isTrue(query.archived), input.idProperty);
        if (seen.has(contact.id)) continue;
        seen.add(contact.id);
        results.push(toPublicContact(contact, properties, withHistory));
      } catch (error) {
        if (!(error instanceof HubSpotError) || error.statusCode !== 404) throw error;
        missing.push(rawId);
      }
    }
    const errors =
      missing.length === 0
        ? []
        : [
            {
              status: 'error',
              category: 'OBJECT_NOT_FOUND',
              message:
                'Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid.',
              context: { ids: missing },
              errors: [],
              links: {},
            },
          ];
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
    const values = inputs.map((item) => validateProperties(item?.properties ?? {}));
    const created = values.map((properties) => portal.create(properties, sourceOf(caller)));
    reply.code(201);
    return batchEnvelope(
      startedAt,
      created.map((contact) => toPublicContact(contact, Object.keys(contact.properties))),
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
      values: validateProperties(item?.properties),
    }));
    const updated = planned.map(({ target, values }) => portal.update(target.id, values, sourceOf(caller)));
    return batchEnvelope(
      startedAt,
      updated.map((contact) => toPublicContact(contact, Object.keys(contact.properties))),
      [],
    );
  });

  app.post(`${base}/batch/archive`, async (request, reply) => {
    const caller = await deps.guard(request, 'write');
    const inputs = body<{ inputs: { id?: unknown }[] }>(request).inputs ?? [];
    if (inputs.length > BATCH_MAX_INPUTS) {
      throw validationError(`Batch input size ${inputs.length} exceeds the maximum of ${BATCH_MAX_INPUTS}`);
    }
    for (const item of inputs) {
      const id = Number(item?.id);
      if (Number.isSafeInteger(id)) portal.archive(id, sourceOf(caller));
    }
    reply.code(204).send();
  });

  app.post(`${base}/search`, async (request) => {
    await deps.guard(request, 'read', 'search');
    const page = search.run(body<SearchRequest>(request) as SearchRequest);
    const results = [];
    for (const id of page.ids) {
      const contact = portal.searchRecord(id);
      if (contact) results.push(toPublicContact(contact, page.properties));
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
    const survivor = portal.merge(primary, toMerge, sourceOf(caller));
    return toPublicContact(survivor, Object.keys(survivor.properties));
  });

  app.post(`${base}/gdpr-delete`, async (request, reply) => {
    const caller = await deps.guard(request, 'write');
    const input = body<{ objectId: unknown; idProperty: string }>(request);
    const target = readOne(String(input.objectId ?? ''), false, input.idProperty);
    portal.privacyDelete(target.id, sourceOf(caller));
    reply.code(204).send();
  });
}
