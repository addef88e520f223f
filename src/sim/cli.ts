import { parseArgs } from 'node:util';
import { z } from 'zod';
import { createSimulator } from './simulator.ts';

/** `npm run sim -- [--port 4010] [--contacts N] …`: the simulator in the foreground. */
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '4010' },
    host: { type: 'string' },
    contacts: { type: 'string' },
    seed: { type: 'string' },
    'portal-id': { type: 'string' },
    'app-id': { type: 'string' },
    'client-id': { type: 'string' },
    'client-secret': { type: 'string' },
    'webhook-url': { type: 'string' },
    signature: { type: 'string' },
    'rate-limit': { type: 'string' },
    'oauth-rate-limit': { type: 'string' },
    'search-rate-limit': { type: 'string' },
    batch: { type: 'string' },
    'token-ttl': { type: 'string' },
    'retry-base-ms': { type: 'string' },
    'search-lag-ms': { type: 'string' },
    'daily-limit': { type: 'string' },
  },
  strict: true,
});

const number = (text: string | undefined) => (text === undefined ? undefined : Number(text));

let simulator: Awaited<ReturnType<typeof createSimulator>>;
try {
  simulator = await createSimulator({
    port: number(values.port),
    host: values.host,
    contacts: number(values.contacts),
    seed: values.seed,
    portalId: number(values['portal-id']),
    appId: number(values['app-id']),
    clientId: values['client-id'],
    clientSecret: values['client-secret'],
    webhookUrl: values['webhook-url'],
    signature: values.signature as 'both' | 'v3' | 'v2' | 'v1' | undefined,
    rateLimit: values['rate-limit'],
    oauthRateLimit: values['oauth-rate-limit'],
    searchRateLimit: values['search-rate-limit'],
    batch: number(values.batch),
    tokenTtl: number(values['token-ttl']),
    retryBaseMs: number(values['retry-base-ms']),
    searchLagMs: number(values['search-lag-ms']),
    dailyLimit: values['daily-limit'] === 'off' ? null : number(values['daily-limit']),
  });
} catch (error) {
  console.error(`hubspot-sim: ${describe(error)}`);
  process.exit(1);
}

/** One line naming the flag at fault. */
function describe(error: unknown): string {
  if (!(error instanceof z.ZodError)) return (error as Error).message;
  return error.issues
    .map((issue) => {
      const flag = String(issue.path[0] ?? '').replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
      return `--${flag}: ${issue.message}`;
    })
    .join('; ');
}

console.log(`hubspot-sim listening on ${simulator.url}`);

let stopping = false;
const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  await simulator.stop();
  process.exit(0);
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
