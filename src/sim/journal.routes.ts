import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from './clock.ts';
import { expiredToken, HubSpotError, invalidToken, missingCredentials, missingScopes } from './errors.ts';
import type { Journal, JournalEntry } from './journal.ts';
import type { OAuthStore } from './oauth.ts';

const READ_SCOPE = 'developer.webhooks_journal.read';
/** Batch reads take at most this many entries; the spec sets only a minimum of 1, HubSpot's batches stop at 100. */
const MAX_BATCH = 100;

export interface JournalRoutesDeps {
  journal: Journal;
  oauth: OAuthStore;
  clock: Clock;
  portalId: number;
}

/**
 * The Webhooks Journal at HubSpot's 2026-03 paths (webhooks-journal-2026-03.json): the global journal
 * (`/webhooks-journal/journal/2026-03/…`, every installing account) and the local one
 * (`/webhooks-journal/journal-local/2026-03/…`, one account, `installPortalId`). This simulator is one portal,
 * so both read the same entries. The spec exempts these endpoints from the daily and ten-secondly limits
 * (`x-hubspot-rate-limit-exemptions`), so they never touch the rate limiter.
 */
export function journalRoutes(app: FastifyInstance, deps: JournalRoutesDeps): void {
  const { journal, oauth, clock } = deps;

  // "You'll need to generate a client credentials token ... with the developer.webhooks_journal.read scope"
  // (https://developers.hubspot.com/docs/api-reference/latest/webhooks-journal/journal-entries/guide).
  function authorise(request: FastifyRequest): void {
    const token = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    if (!token) throw missingCredentials();
    const issued = oauth.appToken(token);
    if (!issued) throw invalidToken();
    if (issued.expiresAt <= clock.now()) throw expiredToken(issued.expiresAt, clock.now());
    if (!issued.scopes.includes(READ_SCOPE)) throw missingScopes([READ_SCOPE]);
  }

  function portalFilter(request: FastifyRequest): number | undefined {
    const raw = (request.query as Record<string, unknown>).installPortalId;
    if (raw === undefined) return undefined;
    const value = typeof raw === 'string' && /^\d{1,10}$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isInteger(value) || value < 1 || value >= 2 ** 31)
      throw new HubSpotError(
        400,
        'VALIDATION_ERROR',
        `installPortalId must be a positive 32-bit integer, got ${JSON.stringify(raw)}`,
      );
    return value;
  }

  function countOf(raw: string): number {
    const count = /^\d{1,4}$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isInteger(count) || count < 1 || count > MAX_BATCH)
      throw new HubSpotError(
        400,
        'VALIDATION_ERROR',
        `count must be an integer from 1 to ${MAX_BATCH}, got ${JSON.stringify(raw)}`,
      );
    return count;
  }

  const offsetNotFound = (offset: string) =>
    new HubSpotError(404, 'OBJECT_NOT_FOUND', `journal offset ${offset} has expired or does not exist`, {
      context: { offset: [offset] },
    });
  const emptyJournal = () => new HubSpotError(404, 'OBJECT_NOT_FOUND', 'the journal has no entries');

  function fetchResponse(request: FastifyRequest, entry: JournalEntry) {
    const link = journal.fileLink(entry);
    return {
      currentOffset: entry.offset,
      expiresAt: new Date(link.expiresAt).toISOString(),
      url: `${request.protocol}://${request.host}${link.path}`,
    };
  }

  function batchResponse(request: FastifyRequest, entries: JournalEntry[], startedAt: number) {
    return {
      status: 'COMPLETE',
      results: entries.map((entry) => fetchResponse(request, entry)),
      startedAt: new Date(startedAt).toISOString(),
      completedAt: new Date(clock.now()).toISOString(),
    };
  }

  for (const variant of ['journal', 'journal-local'] as const) {
    const base = `/webhooks-journal/${variant}/2026-03`;

    app.get(`${base}/earliest`, async (request) => {
      authorise(request);
      const [entry] = journal.earliest(1, portalFilter(request));
      if (!entry) throw emptyJournal();
      return fetchResponse(request, entry);
    });

    app.get(`${base}/latest`, async (request) => {
      authorise(request);
      const [entry] = journal.latest(1, portalFilter(request));
      if (!entry) throw emptyJournal();
      return fetchResponse(request, entry);
    });

    // 404 "if the offset has expired or doesn't exist" (the 2027-03-beta page of the same endpoint,
    // https://developers.hubspot.com/docs/api-reference/2027-03-beta/webhooks-journal/journal-entries/local/get-journal-local-next).
    // The docs are silent on a valid offset with nothing newer yet; the plainest answer is 204 No Content, which
    // keeps "caught up" apart from "expired".
    app.get<{ Params: { offset: string } }>(`${base}/offset/:offset/next`, async (request, reply) => {
      authorise(request);
      const next = journal.next(request.params.offset, 1, portalFilter(request));
      if (next.kind === 'unknown') throw offsetNotFound(request.params.offset);
      if (next.kind === 'end') return reply.code(204).send();
      return fetchResponse(request, next.entries[0] as JournalEntry);
    });

    app.get<{ Params: { count: string } }>(`${base}/batch/earliest/:count`, async (request) => {
      authorise(request);
      const startedAt = clock.now();
      const count = countOf(request.params.count);
      return batchResponse(request, journal.earliest(count, portalFilter(request)), startedAt);
    });

    app.get<{ Params: { count: string } }>(`${base}/batch/latest/:count`, async (request) => {
      authorise(request);
      const startedAt = clock.now();
      const count = countOf(request.params.count);
      return batchResponse(request, journal.latest(count, portalFilter(request)), startedAt);
    });

    // The batch form answers the end of the journal with an empty `results`: its schema has a 200 for that.
    app.get<{ Params: { offset: string; count: string } }>(
      `${base}/batch/:offset/next/:count`,
      async (request) => {
        authorise(request);
        const startedAt = clock.now();
        const count = countOf(request.params.count);
        const next = journal.next(request.params.offset, count, portalFilter(request));
        if (next.kind === 'unknown') throw offsetNotFound(request.params.offset);
        return batchResponse(request, next.kind === 'end' ? [] : next.entries, startedAt);
      },
    );

    app.post(`${base}/batch/read`, async (request, reply: FastifyReply) => {
      authorise(request);
      const startedAt = clock.now();
      const portalId = portalFilter(request);
      const inputs = (request.body as { inputs?: unknown } | undefined)?.inputs;
      if (!Array.isArray(inputs) || !inputs.every((input) => typeof input === 'string'))
        throw new HubSpotError(
          400,
          'VALIDATION_ERROR',
          'inputs must be an array of journal offsets (strings)',
        );
      if (inputs.length > MAX_BATCH)
        throw new HubSpotError(400, 'VALIDATION_ERROR', `inputs takes at most ${MAX_BATCH} offsets`);
      const found: JournalEntry[] = [];
      const missing: string[] = [];
      for (const offset of inputs as string[]) {
        const entry = journal.find(offset, portalId);
        if (entry) found.push(entry);
        else missing.push(offset);
      }
      const body = batchResponse(request, found, startedAt);
      if (missing.length === 0) return body;
      return reply.code(207).send({
        ...body,
        numErrors: 1,
        errors: [
          {
            status: 'error',
            category: 'OBJECT_NOT_FOUND',
            message: 'some journal offsets have expired or do not exist',
            context: { offsets: missing },
            errors: [],
            links: {},
          },
        ],
      });
    });
  }

  // The pre-signed file behind `url`: fetched "without an Authorization header". Its format is not documented;
  // the plainest reading is a JSON array of the entry's events with the fields webhooks carry.
  app.get<{ Params: { file: string }; Querystring: { expires?: string; signature?: string } }>(
    '/webhooks-journal-files/:file',
    async (request) => {
      const offset = request.params.file.replace(/\.json$/, '');
      const opened = journal.openFile(offset, request.query.expires, request.query.signature);
      switch (opened.kind) {
        case 'file':
          return opened.events;
        case 'forbidden':
          throw new HubSpotError(403, 'FORBIDDEN', 'the link is not signed for this file');
        case 'expired':
          throw new HubSpotError(403, 'FORBIDDEN', 'the link has expired');
        case 'gone':
          throw new HubSpotError(404, 'OBJECT_NOT_FOUND', `journal entry ${offset} is no longer kept`);
      }
    },
  );
}
