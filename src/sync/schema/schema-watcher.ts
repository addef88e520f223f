import type { Database } from '../../db/client.ts';
import type { HubSpotClient } from '../../hubspot/client.ts';
import type { Logger } from '../../logger.ts';
import type { PropertyDefinitionsRepository } from './property-definitions.repository.ts';
import type { PropertySet, Resolution } from './property-set.ts';

export interface SchemaWatcherDeps {
  hubspot: HubSpotClient;
  database: Database;
  definitions: PropertyDefinitionsRepository;
  propertySet: PropertySet;
  logger: Logger;
  /** How often the definitions are read again; 0: only at start-up. */
  everyMs: number;
  /** How soon to try again after HubSpot could not be read. */
  retryMs?: number;
  now?: () => Date;
}

/**
 * Keeps the mirrored property set in step with HubSpot's definitions: reads them at start-up and on a
 * schedule, stores them (first seen, last seen, deleted), and resolves the set. When HubSpot cannot be read,
 * the last stored definitions stand and the read is retried sooner.
 */
export function createSchemaWatcher(deps: SchemaWatcherDeps) {
  const { hubspot, database, definitions, propertySet, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const retryMs = deps.retryMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  let running = false;

  function report(resolution: Resolution): void {
    const { added, removed } = resolution;
    if (added.length > 0 || removed.length > 0) {
      logger.info(
        { added, removed, count: propertySet.names().length },
        'mirrored contact properties changed',
      );
    }
    if (!resolution.missingChanged) return;
    const { missing } = propertySet.status();
    if (missing.length > 0) {
      logger.warn(
        { missing },
        'HUBSPOT_CONTACT_PROPERTIES names properties HubSpot does not define; they are not requested',
      );
    } else logger.info('every property in HUBSPOT_CONTACT_PROPERTIES is defined in HubSpot');
  }

  /** Reads HubSpot's definitions, stores them and resolves the set. Throws when HubSpot cannot be read. */
  async function check(): Promise<void> {
    const response = await hubspot.request('read contact property definitions', 'sweep', (sdk) =>
      sdk.crm.properties.coreApi.getAllWithHttpInfo('contacts', false),
    );
    const live = response.data.results
      .filter((property) => !property.archived)
      .map(({ name, label, type, fieldType }) => ({ name, label, type, fieldType }));
    const deleted = await definitions.record(database.db, live);
    if (deleted.length > 0) logger.info({ deleted }, 'HubSpot no longer defines these contact properties');
    report(
      propertySet.resolve(
        live.map((definition) => definition.name),
        'hubspot',
        now(),
      ),
    );
  }

  /** The definitions as last stored, until HubSpot can be read. */
  async function loadStored(): Promise<void> {
    const stored = await definitions.liveNames(database.db);
    report(propertySet.resolve(stored, 'stored', now()));
  }

  function schedule(ms: number): void {
    if (!running || ms <= 0) return;
    timer = setTimeout(async () => {
      timer = undefined;
      await checkOrFallBack();
    }, ms);
    timer.unref();
  }

  async function checkOrFallBack(): Promise<void> {
    try {
      await check();
      schedule(deps.everyMs);
    } catch (error) {
      logger.warn(
        { err: error, retryInMs: retryMs },
        'could not read HubSpot property definitions; using the last stored ones',
      );
      await loadStored().catch((fallback) =>
        logger.error({ err: fallback }, 'could not read the stored property definitions'),
      );
      schedule(Math.min(retryMs, deps.everyMs || retryMs));
    }
  }

  return {
    check,
    loadStored,
    /**
     * Reads HubSpot now and keeps reading on the schedule; a failure falls back to the stored definitions and
     * never stops start-up. Called again (a connection made), it reads at once.
     */
    async start(): Promise<void> {
      running = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await checkOrFallBack();
    },
    stop(): void {
      running = false;
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}

export type SchemaWatcher = ReturnType<typeof createSchemaWatcher>;
