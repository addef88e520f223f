import type { Database } from '../../db/client.ts';
import type { Executor } from '../../db/query.ts';
import type { HubSpotClient } from '../../hubspot/client.ts';
import type { ApplyRepository } from '../apply/apply.repository.ts';
import type { ApplyOutcome, ContactChange } from '../apply/contact-state.ts';
import type { SessionRow, SessionsRepository } from '../sessions/sessions.repository.ts';
import type { PurgeRepository } from './purge.repository.ts';
import type { SweepRepository } from './sweep.repository.ts';

/** Everything one running sweep works with. */
export interface SweepContext {
  database: Database;
  hubspot: HubSpotClient;
  apply: ApplyRepository;
  sweeps: SweepRepository;
  purges: PurgeRepository;
  sessions: SessionsRepository;
  session: SessionRow;
  properties: readonly string[];
  maxArchiveShare: number;
  allowMassArchive: boolean;
  /** No full sweep has completed yet: this one imports the portal, and what it creates is not drift. */
  importing: boolean;
  /**
   * One transaction on the database, run again if PostgreSQL aborts it to break a deadlock (with a webhook
   * batch applying a merge chain the same moment, say).
   */
  write<T>(work: (tx: Executor) => Promise<T>): Promise<T>;
  /** The shared apply step, as a sweep uses it (quiet about unchanged contacts, logged under the session). */
  applyBatch(tx: Executor, batch: ReadonlyMap<string, readonly ContactChange[]>): Promise<ApplyOutcome[]>;
  /** Throws when the process is shutting down, between pages: the checkpoint lets the next sweep resume. */
  throwIfStopping(): void;
}
