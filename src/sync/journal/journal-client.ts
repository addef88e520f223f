import { WebhookEvent } from '../../hubspot/webhook-events.ts';

/**
 * The Webhooks Journal (2026-03) for one portal: the local journal, `installPortalId` set
 * (https://developers.hubspot.com/docs/api-reference/latest/webhooks-journal/journal-entries/guide).
 *
 * It does not go through the CRM client: the journal takes the app's own client-credentials token with the
 * `developer.webhooks_journal.read` scope, not the portal's token, and its endpoints are exempt from the daily
 * and ten-secondly limits (`x-hubspot-rate-limit-exemptions` in webhooks-journal-2026-03.json), so the CRM
 * pacer has nothing to count.
 */
export interface JournalClientOptions {
  apiBase: string;
  clientId: string;
  clientSecret: string;
  portalId: number;
  timeoutMs?: number;
  now?: () => number;
  fetch?: typeof fetch;
}

export interface JournalPosition {
  offset: string;
  /** The pre-signed link to the entry's file, and when it stops working (epoch ms). */
  url: string;
  expiresAt: number;
}

/** The offset is older than the journal keeps (3 days) or was never issued: only a full sweep can catch up. */
export class JournalOffsetExpired extends Error {
  readonly offset: string;

  constructor(offset: string) {
    super(`journal offset ${offset} has expired or does not exist`);
    this.offset = offset;
  }
}

export class JournalError extends Error {
  readonly status: number | undefined;

  constructor(message: string, status?: number) {
    super(message);
    this.status = status;
  }
}

const SCOPE = 'developer.webhooks_journal.read';
/** Entries a batch read asks for; the spec sets no maximum and HubSpot's batch endpoints stop at 100. */
export const JOURNAL_BATCH = 100;
/** A token is renewed this long before HubSpot says it expires, so no call carries one that lapses on the way. */
const TOKEN_MARGIN_MS = 5 * 60_000;

interface FetchResponse {
  currentOffset: string;
  url: string;
  expiresAt: string;
}

const toPosition = (answer: FetchResponse): JournalPosition => ({
  offset: answer.currentOffset,
  url: answer.url,
  expiresAt: Date.parse(answer.expiresAt),
});

export function createJournalClient(options: JournalClientOptions) {
  const send = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? 20_000;
  const base = `${options.apiBase}/webhooks-journal/journal-local/2026-03`;
  const portal = `installPortalId=${options.portalId}`;
  let token: { value: string; renewAt: number } | undefined;

  async function failure(what: string, response: Response): Promise<JournalError> {
    const text = await response.text().catch(() => '');
    let message = text.slice(0, 300);
    try {
      const body = JSON.parse(text) as { message?: string; error_description?: string };
      message = body.error_description ?? body.message ?? message;
    } catch {}
    return new JournalError(`${what}: HubSpot answered ${response.status}: ${message}`, response.status);
  }

  // RFC 6749 section 4.4 at HubSpot's token endpoint (v3: v1 is retired on 2027-02-16, HUBSPOT.md).
  async function accessToken(): Promise<string> {
    if (token && token.renewAt > now()) return token.value;
    const response = await send(`${options.apiBase}/oauth/v3/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: options.clientId,
        client_secret: options.clientSecret,
        scope: SCOPE,
      }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) throw await failure('client-credentials token', response);
    const body = (await response.json()) as { access_token: string; expires_in: number };
    token = {
      value: body.access_token,
      renewAt: now() + Math.max(0, body.expires_in * 1000 - TOKEN_MARGIN_MS),
    };
    return token.value;
  }

  async function get(what: string, path: string): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      const response = await send(`${base}${path}`, {
        headers: { authorization: `Bearer ${await accessToken()}` },
        signal: AbortSignal.timeout(timeoutMs),
      });
      // A token can lapse between our clock and HubSpot's: take a new one and ask once more.
      if (response.status === 401 && attempt === 0) {
        token = undefined;
        continue;
      }
      if (response.status === 404 || response.ok) return response;
      throw await failure(what, response);
    }
  }

  return {
    /** The newest entry; undefined while the journal holds none. */
    async latest(): Promise<JournalPosition | undefined> {
      const response = await get('journal latest', `/latest?${portal}`);
      if (response.status === 404) return undefined;
      return toPosition((await response.json()) as FetchResponse);
    },

    /** The oldest `count` entries the journal still keeps, oldest first. */
    async earliest(count = JOURNAL_BATCH): Promise<JournalPosition[]> {
      const response = await get('journal earliest', `/batch/earliest/${count}?${portal}`);
      if (response.status === 404) return [];
      const body = (await response.json()) as { results: FetchResponse[] };
      return body.results.map(toPosition);
    },

    /** Up to `count` entries after `offset`, oldest first; empty at the end of the journal. */
    async next(offset: string, count = JOURNAL_BATCH): Promise<JournalPosition[]> {
      const response = await get(
        'journal next',
        `/batch/${encodeURIComponent(offset)}/next/${count}?${portal}`,
      );
      if (response.status === 404) throw new JournalOffsetExpired(offset);
      const body = (await response.json()) as { results: FetchResponse[] };
      return body.results.map(toPosition);
    },

    /**
     * The events of one entry. The link is pre-signed and taken without an Authorization header. Events of
     * kinds this service does not apply, or of another portal, are left out and counted.
     */
    async download(position: JournalPosition): Promise<{ events: WebhookEvent[]; skipped: number }> {
      const response = await send(position.url, { signal: AbortSignal.timeout(timeoutMs) });
      if (!response.ok) throw await failure(`journal file ${position.offset}`, response);
      const body = (await response.json()) as unknown;
      if (!Array.isArray(body))
        throw new JournalError(`journal file ${position.offset} is not a JSON array of events`);
      const events: WebhookEvent[] = [];
      for (const item of body) {
        const parsed = WebhookEvent.safeParse(item);
        if (parsed.success && parsed.data.portalId === options.portalId) events.push(parsed.data);
      }
      return { events, skipped: body.length - events.length };
    },
  };
}

export type JournalClient = ReturnType<typeof createJournalClient>;
