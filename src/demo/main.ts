import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createSimulator } from '../sim/simulator.ts';
import { checkMirror } from './mirror-check.ts';

/**
 * `npm run demo`: a simulated HubSpot portal, the service mirroring it (on an in-memory embedded database),
 * and a stream of realistic portal activity, so the whole product can be watched without a HubSpot account.
 */
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '3000' },
    'sim-port': { type: 'string', default: '4010' },
    contacts: { type: 'string', default: '2000' },
    'changes-per-second': { type: 'string', default: '5' },
    'api-latency-ms': { type: 'string', default: '200' },
  },
  strict: true,
});

const port = Number(values.port);
const secret = `demo-secret-${randomBytes(8).toString('hex')}`;
const adminToken = randomBytes(24).toString('base64url');
const readToken = randomBytes(24).toString('base64url');
const perSecond = Number(values['changes-per-second']);

const simulator = await createSimulator({
  port: Number(values['sim-port']),
  contacts: Number(values.contacts),
  clientSecret: secret,
  webhookUrl: `http://127.0.0.1:${port}/webhooks/hubspot`,
  logErrors: false,
});
// HubSpot's API answers in a few hundred milliseconds, not instantly: the import takes long enough to watch.
await fetch(`${simulator.url}/__sim/faults`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ latencyMs: Number(values['api-latency-ms']) }),
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
      HUBSPOT_API_BASE: simulator.url,
      HUBSPOT_ACCESS_TOKEN: 'pat-na1-demo',
      HUBSPOT_CLIENT_SECRET: secret,
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

while (!stopping) {
  await simulator.runActivity(perSecond * 10, perSecond).catch(() => {});
}
