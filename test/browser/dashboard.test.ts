import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createErrorsRepository } from '../../src/errors/errors.repository.ts';
import { buildTestApp, READ_TOKEN } from '../helpers/app.ts';
import { createScratchDatabase, dbTest } from '../helpers/database.ts';
import { newKey, OAUTH_ADMIN_TOKEN, startOAuthStack } from '../helpers/oauth-stack.ts';
import { STACK_ADMIN_TOKEN, type Stack, simulatorTruth, startStack } from '../helpers/stack.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));
const hasChromium = existsSync(CHROMIUM);
// Outside CI a machine without Chromium skips this file; in CI a missing Chromium is a failure.
const skip = !hasChromium && process.env.CI !== 'true';
const skipReason = `no Chromium at ${CHROMIUM} (apt-get install chromium)`;
if (skip) console.warn(`skipping the dashboard's browser tests: ${skipReason}`);

const WIDE = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

/** The text a person sees in `locator` (hidden text left out). */
function shownText(locator: Locator): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: a Playwright locator's innerText is the visible text, on purpose
  return locator.innerText();
}

/** Waits until `locator` is on screen. */
async function visible(locator: Locator, timeout = 10_000): Promise<Locator> {
  await locator.first().waitFor({ state: 'visible', timeout });
  return locator;
}

describe('the dashboard routes', () => {
  dbTest(
    'serve the page and its modules, hidden from the API docs and without shadowing the API',
    async ({ database }) => {
      const app = await buildTestApp(database);
      try {
        const page = await app.inject({ method: 'GET', url: '/' });
        expect(page.statusCode).toBe(200);
        expect(page.headers['content-type']).toMatch(/^text\/html/);
        expect(page.body).toContain('<script type="importmap">');
        expect(page.headers['content-security-policy']).toMatch(/script-src 'self' 'sha256-[\w+/=]+'/);
        expect(page.headers['referrer-policy']).toBe('no-referrer');

        for (const path of [
          '/app.js',
          '/vendor/preact.mjs',
          '/vendor/preact-hooks.mjs',
          '/vendor/htm-preact.mjs',
        ]) {
          const module = await app.inject({ method: 'GET', url: path });
          expect(`${path} ${module.statusCode} ${module.headers['content-type']}`).toMatch(
            new RegExp(`^${path} 200 application/javascript`),
          );
        }

        const unknown = await app.inject({ method: 'GET', url: '/api/nothing-here' });
        expect(unknown.statusCode).toBe(404);
        expect(unknown.json()).toEqual({
          error: { code: 'not_found', message: 'no route GET /api/nothing-here' },
        });
        expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
        expect((await app.inject({ method: 'GET', url: '/vendor/../package.json' })).statusCode).toBe(404);

        const docs = (await app.inject({ method: 'GET', url: '/docs/json' })).json() as {
          paths: Record<string, unknown>;
        };
        const documented = Object.keys(docs.paths);
        expect(documented).toContain('/api/contacts');
        expect(documented.filter((path) => path === '/' || /\.(html|js|mjs|css)$/.test(path))).toEqual([]);
      } finally {
        await app.close();
      }
    },
  );
});

describe.skipIf(skip)(
  `the operators dashboard, driven in Chromium${skip ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    let stack: Stack;
    let browser: Browser;
    let page: Page;
    let base: string;
    const pageErrors: string[] = [];

    beforeAll(async () => {
      [stack, browser] = await Promise.all([
        startStack({ contacts: 2000 }),
        chromium.launch({
          executablePath: CHROMIUM,
          args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
        }),
      ]);
      base = `http://127.0.0.1:${(stack.app.server.address() as { port: number }).port}`;
      page = await browser.newPage({ viewport: WIDE, colorScheme: 'light' });
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await mkdir(ARTIFACTS, { recursive: true });
    });

    async function simulatorFaults(faults: Record<string, number>): Promise<void> {
      const response = await fetch(`${stack.simulator.url}/__sim/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(faults),
      });
      if (!response.ok) throw new Error(`the simulator refused the faults: ${response.status}`);
    }

    async function runningSession(): Promise<unknown> {
      const response = await fetch(`${base}/api/sync/status`, {
        headers: { authorization: `Bearer ${STACK_ADMIN_TOKEN}` },
      });
      return ((await response.json()) as { running: unknown }).running;
    }

    afterAll(async () => {
      // The browser first: its socket would otherwise try to reconnect to the closing service.
      await browser?.close();
      await stack?.stop();
    });

    test('a token given once in the address signs the page in and leaves the address bar', async () => {
      await page.goto(`${base}/?token=${encodeURIComponent(STACK_ADMIN_TOKEN)}`);
      await visible(page.getByRole('button', { name: 'Sign out' }));
      expect(page.url()).toBe(`${base}/`);
      // The socket's hello tells the role; the admin's buttons appear with it.
      await visible(page.getByRole('button', { name: 'Full sweep' }));
      await visible(page.locator('.top').getByText('Live', { exact: true }));
      await expect.poll(() => shownText(page.locator('.top'))).toContain('Connected');
      await expect.poll(() => shownText(page.locator('.top'))).toContain('777001');
    });

    test('a refused token shows why, with the sign-in form, which then takes a good one', async () => {
      const other = await browser.newPage({ viewport: WIDE });
      try {
        await other.goto(`${base}/?token=not-the-token`);
        await visible(other.getByRole('alert').getByText(/refused that token/));
        expect(other.url()).toBe(`${base}/`);
        await other.screenshot({ path: `${ARTIFACTS}sign-in-refused-1280.png` });
        await other.getByLabel('API token').fill(STACK_ADMIN_TOKEN);
        await other.getByRole('button', { name: 'Sign in' }).click();
        await visible(other.getByRole('button', { name: 'Sign out' }));
        await other.getByRole('button', { name: 'Sign out' }).click();
        await visible(other.getByLabel('API token'));
      } finally {
        await other.close();
      }
    });

    test('a full sweep started from the page fills its progress bar and lands in recent sessions', async () => {
      const sweep = page.locator('#sweep');
      // Slow HubSpot's answers a little, so that the sweep lasts long enough to be watched.
      await simulatorFaults({ latencyMs: 120 });
      await page.getByRole('button', { name: 'Full sweep' }).click();
      await visible(sweep.getByText(/Full sweep started/));

      const bar = page.getByRole('progressbar', { name: 'Sweep progress' });
      const shown = new Set<string | null>();
      await expect
        .poll(
          async () => {
            const value = await bar.getAttribute('value');
            shown.add(value);
            return [value, await bar.getAttribute('max')];
          },
          { timeout: 30_000, interval: 50 },
        )
        .toEqual(['100', '100']);
      await simulatorFaults({ latencyMs: 0 });
      const between = [...shown].filter((value) => value !== null && +value > 0 && +value < 100);
      expect(between.length, `values shown: ${[...shown].join(', ')}`).toBeGreaterThan(0);
      await visible(sweep.getByText('100%'));
      await visible(sweep.getByRole('heading', { name: /Last sweep Completed/ }));
      await expect.poll(() => shownText(sweep.locator('.counts'))).toMatch(/Seen\s+\d,\d{3}/);

      const session = page.locator('#sessions tbody tr').first();
      await expect.poll(() => shownText(session), { timeout: 10_000 }).toMatch(/Full[\s\S]*Completed/);
    });

    test('starting a sweep while one runs says so plainly', async () => {
      await page.getByRole('button', { name: 'Full sweep' }).click();
      await page.getByRole('button', { name: 'Incremental sweep' }).click();
      const outcome = page.locator('#sweep .notice').last();
      // The full sweep may already have finished on a fast machine; then the incremental one simply starts.
      await expect.poll(() => shownText(outcome)).toMatch(/already running|Incremental sweep started/);
      await expect.poll(runningSession, { timeout: 30_000 }).toBeNull();
      await visible(page.getByRole('heading', { name: /Last sweep Completed/ }));
    });

    test('a change made in HubSpot appears in the live feed', async () => {
      const [contact] = (await simulatorTruth(stack.simulator)).filter((c) => !c.archived && !c.mergedInto);
      if (!contact) throw new Error('the simulator has no live contact');
      await stack.hubspot.crm.contacts.basicApi.update(contact.id, { properties: { firstname: 'Zenobia' } });

      const row = page.locator('#feed tbody tr', { has: page.getByRole('button', { name: contact.id }) });
      await visible(row.filter({ hasText: 'firstname' }), 15_000);
      await expect.poll(() => shownText(row.first())).toMatch(/Updated/);
    });

    test('the feed carries on after the service drops the socket (a deploy, say)', async () => {
      const [, contact] = (await simulatorTruth(stack.simulator)).filter((c) => !c.archived && !c.mergedInto);
      if (!contact) throw new Error('the simulator has no second live contact');
      stack.app.realtime.hub.close();
      await stack.hubspot.crm.contacts.basicApi.update(contact.id, {
        properties: { jobtitle: 'Lighthouse keeper' },
      });

      const row = page.locator('#feed tbody tr', { has: page.getByRole('button', { name: contact.id }) });
      await visible(row.filter({ hasText: 'jobtitle' }), 15_000);
      await visible(page.locator('.top').getByText('Live', { exact: true }));
    });

    test('a contact found by search opens with its properties and its property history', async () => {
      await page.getByLabel('Search contacts').fill('Zenobia');
      const result = page.locator('#contacts tbody').getByRole('button', { name: /Zenobia/ });
      await visible(result);
      await result.first().click();

      const dialog = page.getByRole('dialog');
      try {
        await visible(dialog.getByRole('heading', { name: /Zenobia/ }));
        const properties = dialog.locator('table.key-values');
        await visible(properties.locator('tr', { hasText: 'firstname' }).filter({ hasText: 'Zenobia' }));
        await visible(dialog.getByRole('heading', { name: 'Audit trail' }));
        await visible(dialog.getByRole('heading', { name: 'Property history' }));
        const history = dialog.locator('section[aria-labelledby="history-title"] tbody tr');
        await visible(history.filter({ hasText: 'firstname' }).filter({ hasText: 'Zenobia' }));
      } finally {
        await page.screenshot({ path: `${ARTIFACTS}dashboard-contact-1280.png` });
        await page.keyboard.press('Escape');
        await dialog.waitFor({ state: 'hidden' });
      }
    });

    test('an error in the log can be resolved from the error panel', async () => {
      await createErrorsRepository({ db: stack.database.db }).record({
        errorType: 'webhook.unparseable',
        errorMessage: 'a signed webhook batch that could not be parsed (browser test)',
        context: { attemptNumber: 1 },
      });
      const errors = page.locator('#errors');
      const row = errors.locator('tbody tr', { hasText: 'webhook.unparseable' });
      // The panel folds in new errors with the status poll (every 5 s).
      await visible(row, 10_000);
      await expect.poll(() => shownText(row)).toContain('Open');
      await row.getByRole('button', { name: 'Resolve webhook.unparseable' }).click();
      await expect.poll(() => shownText(row)).toContain('Resolved');
      await visible(errors.getByRole('status').getByText(/Resolved webhook.unparseable/));
    });

    test('a read-only token sees the mirror but no admin buttons', async () => {
      const scratch = await createScratchDatabase();
      const database = await scratch.open();
      const app = await buildTestApp(database);
      const reader = await browser.newPage({ viewport: WIDE });
      try {
        const address = await app.listen({ port: 0, host: '127.0.0.1' });
        await reader.goto(`${address}/?token=${READ_TOKEN}`);
        await expect.poll(() => shownText(reader.locator('.top'))).toContain('read-only');
        await visible(reader.getByRole('heading', { name: 'Recent sessions' }));
        expect(await reader.getByRole('button', { name: 'Full sweep' }).count()).toBe(0);
        expect(await reader.getByRole('button', { name: 'Incremental sweep' }).count()).toBe(0);
      } finally {
        await reader.close();
        await app.close();
        await database.close();
        await scratch.drop();
      }
    });

    test('on an OAuth deployment, "Connect HubSpot" installs the app and the first import follows', async () => {
      const oauth = await startOAuthStack(
        { contacts: 150 },
        { TOKEN_ENCRYPTION_KEY: newKey() },
        { schedule: true },
      );
      const admin = await browser.newPage({ viewport: WIDE });
      try {
        await admin.goto(`${oauth.service.address}/?token=${OAUTH_ADMIN_TOKEN}`);
        await expect.poll(() => shownText(admin.locator('.top'))).toContain('Disconnected');
        await admin.getByRole('link', { name: 'Connect HubSpot' }).click();
        // HubSpot's consent screen (the simulator's, which needs no person) sends the browser back signed in.
        await admin.waitForURL(`${oauth.service.address}/?connected=hubspot`);
        await expect.poll(() => shownText(admin.locator('.top')), { timeout: 10_000 }).toContain('Connected');
        expect(await shownText(admin.locator('.top'))).toContain('OAuth');
        expect(await admin.getByRole('link', { name: 'Connect HubSpot' }).count()).toBe(0);
        await expect
          .poll(() => shownText(admin.locator('#sweep')), { timeout: 15_000 })
          .toMatch(/Completed[\s\S]*100%/);
      } finally {
        await admin.close();
        await oauth.stop();
      }
    });

    test('the page holds together at laptop and phone widths, light and dark', async () => {
      await page.getByLabel('Search contacts').fill('');
      await expect.poll(() => page.locator('#contacts tbody tr').count()).toBeGreaterThan(1);
      await page.setViewportSize(WIDE);
      await page.screenshot({ path: `${ARTIFACTS}dashboard-1280.png`, fullPage: true });
      await page.emulateMedia({ colorScheme: 'dark' });
      await page.screenshot({ path: `${ARTIFACTS}dashboard-1280-dark.png`, fullPage: true });
      await page.emulateMedia({ colorScheme: 'light' });
      await page.setViewportSize(PHONE);
      await page.screenshot({ path: `${ARTIFACTS}dashboard-390.png`, fullPage: true });

      // Nothing wider than the phone's screen but the tables, which scroll inside their panels.
      // (A string, run in the page: this file is compiled without the DOM's types.)
      const overflow = await page.evaluate<number>(
        'document.documentElement.scrollWidth - window.innerWidth',
      );
      expect(overflow).toBeLessThanOrEqual(0);
      expect(pageErrors).toEqual([]);
    });
  },
);
