/**
 * The HubSpot simulator as a bench child process (its memory apart from the bench's and the service's), with
 * what its control API does not tell: how many CRM calls it answered and how many it refused with a 429, and
 * the portal's truth counts. Configured by `SIM_CONTACTS`, `SIM_RATE_LIMIT` (`off` or `190/10s`) and
 * `SIM_DAILY_LIMIT` (`off` or a number); reports `{ ready, port }` over IPC once listening, then answers
 * `{ type: 'stats' }`, `{ type: 'truth' }` and `{ type: 'sample', every }` messages.
 */
import { createSimulator } from '../../src/sim/simulator.ts';

export interface SimStats {
  apiCalls: number;
  rateLimited: number;
  otherRefusals: number;
  searchCalls: number;
  searchRateLimited: number;
  /** Requests the simulator failed with a 5xx (it logs each one as `hubspot-sim: … failed`). */
  serverErrors: number;
  rateLimit: string;
  errorRate: number;
  cpuS: number;
}

export interface SimTruth {
  total: number;
  live: number;
  archived: number;
  merged: number;
  erased: number;
}

export interface SimSample {
  id: string;
  properties: Record<string, string>;
  archived: boolean;
  mergedInto: string | null;
}

const daily = process.env.SIM_DAILY_LIMIT;
const simulator = await createSimulator({
  contacts: Number(process.env.SIM_CONTACTS ?? 1000),
  rateLimit: process.env.SIM_RATE_LIMIT ?? 'off',
  ...(daily ? { dailyLimit: daily === 'off' ? null : Number(daily) } : {}),
  logErrors: true,
});

const stats = { apiCalls: 0, rateLimited: 0, otherRefusals: 0, searchCalls: 0, searchRateLimited: 0 };
let serverErrors = 0;
const { limiter } = simulator;
const checkApi = limiter.checkApi.bind(limiter);
const checkSearch = limiter.checkSearch.bind(limiter);
// The simulator's guard looks these up on every request, so counting wrappers see every CRM call.
limiter.checkApi = (caller) => {
  stats.apiCalls++;
  try {
    return checkApi(caller);
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 429) stats.rateLimited++;
    else stats.otherRefusals++;
    throw error;
  }
};
limiter.checkSearch = (caller) => {
  stats.searchCalls++;
  try {
    checkSearch(caller);
  } catch (error) {
    stats.searchRateLimited++;
    throw error;
  }
};
const consoleError = console.error.bind(console);
console.error = (...args: unknown[]) => {
  if (typeof args[0] === 'string' && args[0].startsWith('hubspot-sim:')) serverErrors++;
  consoleError(...args);
};

function truth(): SimTruth {
  const counts = { total: 0, live: 0, archived: 0, merged: 0, erased: 0 };
  for (const contact of simulator.portal.scan()) {
    counts.total++;
    if (contact.erased) counts.erased++;
    else if (contact.mergedInto !== null) counts.merged++;
    else if (contact.archived) counts.archived++;
    else counts.live++;
  }
  return counts;
}

function sample(every: number): SimSample[] {
  const picked: SimSample[] = [];
  let index = 0;
  for (const contact of simulator.portal.scan()) {
    if (index++ % every !== 0 || contact.erased) continue;
    picked.push({
      id: String(contact.id),
      properties: { ...contact.properties },
      archived: contact.archived,
      mergedInto: contact.mergedInto === null ? null : String(contact.mergedInto),
    });
  }
  return picked;
}

process.on('message', (message: { type?: string; every?: number }) => {
  if (message.type === 'stats') {
    const usage = process.cpuUsage();
    process.send?.({
      type: 'stats',
      stats: {
        ...stats,
        serverErrors,
        rateLimit: limiter.apiLimit ? `${limiter.apiLimit.max}/${limiter.apiLimit.intervalMs}ms` : 'off',
        errorRate: simulator.faults.errorRate,
        cpuS: (usage.user + usage.system) / 1e6,
      } satisfies SimStats,
    });
  } else if (message.type === 'truth') process.send?.({ type: 'truth', truth: truth() });
  else if (message.type === 'sample')
    process.send?.({ type: 'sample', sample: sample(message.every ?? 1000) });
});

process.send?.({ ready: true, port: simulator.port });
process.on('disconnect', () => void simulator.stop().then(() => process.exit(0)));
process.on('SIGTERM', () => void simulator.stop().then(() => process.exit(0)));
