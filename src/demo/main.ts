import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { REALISTIC_GATEWAY } from '../sim/realistic.ts';
import { createSimulator } from '../sim/simulator.ts';
import { checkMirror } from './mirror-check.ts';

/**
 * `npm run demo`: a simulated HubSpot portal, the service mirroring it (on an in-memory embedded database),
 * and a stream of realistic portal activity, so the whole product can be watched without a HubSpot account.
 */
const HELP = `Usage: npm run demo -- [options]

A simulated HubSpot portal, the service mirroring it on an in-memory database, and a stream of portal
activity to watch on the dashboard. Ctrl-C stops everything.

Options:
  --port N                  the service's port (default 3000)
  --sim-port N              the simulator's port (default 4010)
  --contacts N              contacts seeded in the portal (default 2000)
  --changes-per-second N    portal activity to generate, 0 for none (default 5; up to 1000)
  --api-latency-ms MS       the simulated HubSpot API's answer time (default 200)
  -h, --help                print this help and exit
`;

/** A bad flag: one line, exit 2 (a usage error), before anything starts. */
function usageError(message: string): never {
  console.error(`hubspot-sync demo: ${message} (npm run demo -- --help lists the options)`);
  process.exit(2);
}

function parse() {
  return parseArgs({
    options: {
      help: { type: 'boolean', short: 'h' },
      port: { type: 'string', default: '3000' },
      'sim-port': { type: 'string', default: '4010' },
      contacts: { type: 'string', default: '2000' },
      'changes-per-second': { type: 'string', default: '5' },
      'api-latency-ms': { type: 'string', default: '200' },
    },
    strict: true,
  });
}
let parsed: ReturnType<typeof parse>;
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

/** A number within bounds (whole unless `fraction`), or a usage error naming the flag and what it got. */
function numberFlag(flag: keyof typeof values, min: number, max: number, fraction = false): number {
  const text = String(values[flag]);
  const value = Number(text);
  if (
    text.trim() === '' ||
    !Number.isFinite(value) ||
    (!fraction && !Number.isInteger(value)) ||
    value < min ||
    value > max
  )
    usageError(
      `--${flag}: expected ${fraction ? 'a number' : 'a whole number'} from ${min} to ${max}, got "${text}"`,
    );
  return value;
}

const port = numberFlag('port', 1, 65_535);
const simPort = numberFlag('sim-port', 0, 65_535);
const contactCount = numberFlag('contacts', 0, 1_000_000);
const perSecond = numberFlag('changes-per-second', 0, 1_000, true);
const apiLatencyMs = numberFlag('api-latency-ms', 0, 60_000);
if (port === simPort) usageError(`--port and --sim-port are both ${port}: they need two different ports`);

const secret = `demo-secret-${randomBytes(8).toString('hex')}`;
const adminToken = randomBytes(24).toString('base64url');
const readToken = randomBytes(24).toString('base64url');

const simulator = await createSimulator({
  port: simPort,
  contacts: contactCount,
  clientSecret: secret,
  webhookUrl: `http://127.0.0.1:${port}/webhooks/hubspot`,
  logErrors: false,
  // HubSpot as in production (search lag, shuffled deliveries, engagement without webhooks are the simulator's
  // defaults), with gateway failures in short bursts; retries come within seconds rather than HubSpot's minutes.
  gateway: REALISTIC_GATEWAY,
  retryTimeScale: 0.01,
});
// HubSpot's API answers in a few hundred milliseconds, not instantly: the import takes long enough to watch.
await fetch(`${simulator.url}/__sim/faults`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ latencyMs: apiLatencyMs }),
});

const service: ChildProcess = spawn(
  process.execPath,
  [
    '--max-semi-space-size=8',
    '--max-old-space-size=256',
    fileURLToPath(new URL('../server.ts', import.meta.url)),
  ],
  {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      PGLITE_DIR: 'memory://',
      DATABASE_URL: '',
      // In-memory on purpose, even where NODE_ENV=production is set in the shell.
      ALLOW_EMBEDDED_DATABASE: 'true',
      HUBSPOT_API_BASE: simulator.url,
      HUBSPOT_ACCESS_TOKEN: 'pat-na1-demo',
      HUBSPOT_CLIENT_SECRET: secret,
      // The app's client credentials also read the Webhooks Journal, which fills gaps after downtime.
      HUBSPOT_CLIENT_ID: simulator.options.clientId,
      HUBSPOT_PORTAL_ID: String(simulator.options.portalId),
      ADMIN_TOKEN: adminToken,
      READ_TOKEN: readToken,
      RECONCILE_INTERVAL: '1m',
      FULL_RECONCILE_INTERVAL: '10m',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    },
  },
);

let stopping = false;
async function stop(code = 0): Promise<void> {
  if (stopping) return;
  stopping = true;
  service.kill('SIGTERM');
  await simulator.stop();
  process.exit(code);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
service.on('exit', (code) => {
  if (!stopping) {
    console.error(`the service stopped (exit ${code})`);
    void stop(1);
  }
});

const base = `http://127.0.0.1:${port}`;
for (let i = 0; ; i++) {
  const ready = await fetch(`${base}/readyz`).then(
    (r) => r.ok,
    () => false,
  );
  if (ready) break;
  if (i > 300) {
    console.error('the service did not become ready within 30 s');
    await stop(1);
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
}

const sim = simulator.url;
console.log(`
hubspot-sync demo

  Dashboard      ${base}/?token=${adminToken}
                 (open it now: the first full sweep is importing the ${values.contacts} seeded contacts; it
                 takes a few seconds, and "Full sweep" on the dashboard runs another to watch)
  API docs       ${base}/docs
  admin token    ${adminToken}
  read token     ${readToken}

  The mirror, as your apps read it:
    curl -H 'authorization: Bearer ${readToken}' '${base}/api/contacts?limit=5'
    curl -H 'authorization: Bearer ${readToken}' ${base}/api/sync/status
    node -e "new WebSocket('${base.replace('http', 'ws')}/ws?token=${readToken}').onmessage = (e) => console.log(e.data)"

  HubSpot's own truth (the simulator), to set beside it:
    curl -H 'authorization: Bearer pat-na1-demo' '${sim}/crm/v3/objects/contacts/<id>?properties=email,firstname,lastname'
    curl ${sim}/__sim/contacts                                   (every contact, archived and merged included)
  simulated portal id ${simulator.options.portalId}, app client secret ${secret}
  (sign your own webhooks with it: POST ${base}/webhooks/hubspot)

The portal then changes about ${perSecond} times a second (edits, imports, deletions, restores, merges, privacy
deletions) and webhooks carry it over. Every 15 s a line below compares HubSpot with the mirror. Ctrl-C stops both.
`);

async function reportMirror(): Promise<void> {
  const check = await checkMirror(sim, base, readToken).catch(() => undefined);
  if (!check || stopping) return;
  const state =
    check.differing === 0
      ? 'in step'
      : `${check.differing} differ right now (changes in flight; e.g. ${check.examples.join(', ')})`;
  console.log(
    `${new Date().toISOString().slice(11, 19)}  HubSpot ${check.hubspot} live contacts · mirror ${check.mirror} · ${state}`,
  );
}
setInterval(() => void reportMirror(), 15_000).unref();

// Each round is about ten seconds of activity; a failed round waits a second, so the loop never spins.
while (!stopping && perSecond > 0) {
  await simulator
    .runActivity(Math.max(1, Math.round(perSecond * 10)), perSecond)
    .catch(() => new Promise((resolve) => setTimeout(resolve, 1_000)));
}
