import { parseArgs } from 'node:util';
import { z } from 'zod';
import { createSimulator } from './simulator.ts';

const HELP = `Usage: npm run sim -- [options]

A HubSpot simulator in the foreground: CRM contacts v3, associations v4, properties, OAuth, signed webhooks,
the Webhooks Journal, rate limits and gateway faults.

Options:
  --port N                  port to listen on (default 4010; 0 picks a free one)
  --host HOST               address to listen on (default 127.0.0.1)
  --contacts N              contacts seeded at start
  --seed TEXT               seed for the generated data (same seed, same portal)
  --portal-id N             the portal's hub id
  --app-id N                the app id webhooks are signed for
  --client-id ID            the OAuth app's client id
  --client-secret SECRET    the app secret that signs webhooks
  --webhook-url URL         where to deliver webhooks (none when unset)
  --signed-url URL          the URL webhook signatures name, when a proxy forwards it to --webhook-url
                            (HubSpot signs the public URL it was configured with)
  --signature v3|v2|v1|both which signature headers webhooks carry
  --rate-limit N/WINDOW     the CRM API limit, e.g. 100/10s, or off
  --oauth-rate-limit N/WINDOW   the limit for OAuth-installed apps
  --search-rate-limit N/WINDOW  the search endpoints' own limit
  --batch N                 webhook events per delivery, 1 to 100
  --token-ttl SECONDS       lifetime of OAuth access tokens
  --retry-time-scale X      scales webhook redelivery: HubSpot makes up to 10 attempts over about 24 hours
                            (1, the default); 0.001 fits the whole schedule in about 86 seconds
  --retry-base-ms MS        the same schedule, scaled so that its first retry comes after MS
  --search-lag-ms MS        how long a change stays invisible to search (default 2000; 0 for none)
  --daily-limit N|off       the daily API call cap
  -h, --help                print this help and exit
`;

/** A bad flag: one line, exit 2 (a usage error), as command-line tools do. */
function usageError(message: string): never {
  console.error(`hubspot-sim: ${message} (npm run sim -- --help lists the options)`);
  process.exit(2);
}

/** `npm run sim -- [--port 4010] [--contacts N] …`: the simulator in the foreground. */
let parsed: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    options: {
      help: { type: 'boolean', short: 'h' },
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
      'retry-time-scale': { type: 'string' },
      'signed-url': { type: 'string' },
      'search-lag-ms': { type: 'string' },
      'daily-limit': { type: 'string' },
    },
    strict: true,
  });
}
try {
  parsed = parse();
} catch (error) {
  usageError(((error as Error).message.split('\n')[0] ?? '').trim());
}
const { values } = parsed;
if (values.help) {
  console.log(HELP);
  process.exit(0);
}

/** A whole number within bounds, or a usage error naming the flag and what it got. */
function wholeNumber(flag: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const text = (values as Record<string, unknown>)[flag];
  if (text === undefined) return undefined;
  const value = Number(text);
  if (String(text).trim() === '' || !Number.isInteger(value) || value < min || value > max)
    usageError(
      `--${flag}: expected a whole number from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ' up'}, got "${String(text)}"`,
    );
  return value;
}

/** A positive number up to `max`, or a usage error naming the flag and what it got. */
function positiveNumber(flag: string, max: number): number | undefined {
  const text = (values as Record<string, unknown>)[flag];
  if (text === undefined) return undefined;
  const value = Number(text);
  if (String(text).trim() === '' || !Number.isFinite(value) || value <= 0 || value > max)
    usageError(`--${flag}: expected a number above 0 and at most ${max}, got "${String(text)}"`);
  return value;
}

if (values['retry-base-ms'] !== undefined && values['retry-time-scale'] !== undefined)
  usageError('--retry-base-ms and --retry-time-scale both set the retry schedule: give one of them');

const signatures = ['both', 'v3', 'v2', 'v1'] as const;
if (values.signature !== undefined && !signatures.includes(values.signature as never))
  usageError(`--signature: expected one of ${signatures.join(', ')}, got "${values.signature}"`);

const flags = {
  port: wholeNumber('port', 0, 65_535),
  contacts: wholeNumber('contacts', 0),
  portalId: wholeNumber('portal-id', 1),
  appId: wholeNumber('app-id', 1),
  batch: wholeNumber('batch', 1, 100),
  tokenTtl: wholeNumber('token-ttl', 1),
  retryBaseMs: wholeNumber('retry-base-ms', 1),
  retryTimeScale: positiveNumber('retry-time-scale', 1000),
  searchLagMs: wholeNumber('search-lag-ms', 0),
  dailyLimit: values['daily-limit'] === 'off' ? null : wholeNumber('daily-limit', 1),
};

let simulator: Awaited<ReturnType<typeof createSimulator>>;
try {
  simulator = await createSimulator({
    ...flags,
    host: values.host,
    seed: values.seed,
    clientId: values['client-id'],
    clientSecret: values['client-secret'],
    webhookUrl: values['webhook-url'],
    signedUrl: values['signed-url'],
    signature: values.signature as (typeof signatures)[number] | undefined,
    rateLimit: values['rate-limit'],
    oauthRateLimit: values['oauth-rate-limit'],
    searchRateLimit: values['search-rate-limit'],
  });
} catch (error) {
  // A flag the simulator's own schema refuses (a malformed rate limit, URL…) is a usage error too.
  if (error instanceof z.ZodError) usageError(describe(error));
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

let stopping = false;
const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  await simulator.stop();
  process.exit(0);
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
// Printed once a stop signal is handled: whoever waits for this line may stop the simulator at once.
console.log(`hubspot-sim listening on ${simulator.url}`);
