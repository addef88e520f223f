import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createSimulator } from './sim/simulator.ts';

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

const service: ChildProcess = spawn(
  process.execPath,
  [
    '--max-semi-space-size=8',
    '--max-old-space-size=256',
    fileURLToPath(new URL('./server.ts', import.meta.url)),
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

console.log(`
hubspot-sync demo
  service        ${base}   (API docs: ${base}/docs)
  HubSpot (sim)  ${simulator.url}
  admin token    ${adminToken}
  read token     ${readToken}

  curl -H 'authorization: Bearer ${readToken}' '${base}/api/contacts?limit=5'
  curl -H 'authorization: Bearer ${readToken}' ${base}/api/sync/status

The first full sweep imports the ${values.contacts} seeded contacts; then the portal changes about ${perSecond} times a
second (edits, imports, deletions, restores, merges, privacy deletions) and webhooks carry it over. Ctrl-C stops both.
`);

while (!stopping) {
  await simulator.runActivity(perSecond * 10, perSecond).catch(() => {});
}
