// End-to-end: the web interface in a real headless Chromium, against a real cl-server (which
// serves it from dist/web) and a real cl-worker on Docker. bin/cl uploads a file and starts the
// runs; the browser signs in, follows states, browses and downloads contents, watches a run's
// output grow and kills it. A screenshot of each page lands in test-output/web-ui/.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from './harness.js';
import { launchChromium, SCREENSHOTS, signInAsRoot, startWebCluster } from './web-support.js';

const GREETING = 'hello from the web interface test\n';
const WAIT_MS = 90_000;

let cluster: Cluster;
let browser: Browser;
let page: Page;
let greeting = '';
let copier = '';
let ticker = '';

async function screenshot(name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Waits until the element shows `text` (the page refreshes itself; nothing is reloaded here). */
async function waitForText(selector: string, text: string): Promise<void> {
  await page.locator(selector).filter({ hasText: text }).first().waitFor({ timeout: WAIT_MS });
}

beforeAll(async () => {
  cluster = await startWebCluster('e2e-web');

  const file = join(cluster.root, 'greeting.txt');
  writeFileSync(file, GREETING);
  greeting = await cluster.clOk(['upload', file, '-n', 'greeting']);
  copier = await cluster.clOk(['run', 'in:greeting', 'cp in copy.txt && echo copied', '-n', 'copier']);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1366, height: 800 }, acceptDownloads: true });
}, 150_000);

afterAll(async () => {
  await browser?.close();
  await cluster?.stop();
});

describe('web interface', () => {
  it('signs in with the password root has', async () => {
    await page.goto(cluster.url);
    await page.getByRole('heading', { name: 'Sign in to CodaLab' }).waitFor();
    await screenshot('sign-in');
    await signInAsRoot(page, cluster);
    expect(await page.locator('.signed-in').textContent()).toBe('codalab');
  }, WAIT_MS);

  it('shows the home worksheet with its bundles, ^N numbers and live states', async () => {
    await waitForText(`tr[data-uuid="${greeting}"]`, 'ready');
    await waitForText(`tr[data-uuid="${copier}"]`, 'ready');
    const copierRow = page.locator(`tr[data-uuid="${copier}"]`);
    expect(await copierRow.locator('td').first().textContent()).toBe('^1');
    expect(await copierRow.textContent()).toContain('cp in copy.txt && echo copied');
    expect(await page.locator(`tr[data-uuid="${greeting}"] td`).first().textContent()).toBe('^2');
    await screenshot('worksheet');
  }, WAIT_MS + 30_000);

  it('opens a run: metadata, its dependency as a link, contents with preview and download', async () => {
    await page.locator(`tr[data-uuid="${copier}"]`).getByRole('link', { name: 'copier' }).click();
    await page.getByRole('heading', { name: 'copier', level: 1 }).waitFor();
    const dependency = page.locator('.dependencies').getByRole('link', { name: 'greeting' });
    expect(await dependency.getAttribute('href')).toBe(`/bundles/${greeting}`);
    await waitForText('[data-testid="stdout"]', 'copied');

    await page.getByRole('button', { name: 'copy.txt', exact: true }).click();
    await waitForText('[data-testid="preview"]', GREETING.trim());
    await screenshot('bundle');

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download copy.txt' }).click()]);
    expect(download.suggestedFilename()).toBe('copy.txt');
    expect(readFileSync(await download.path()).toString('utf8')).toBe(GREETING);

    await dependency.click();
    await page.getByRole('heading', { name: 'greeting', level: 1 }).waitFor();
    await waitForText('[data-testid="preview"]', GREETING.trim());
    await screenshot('dataset');
  }, WAIT_MS);

  it("watches a running bundle's stdout grow and kills it", async () => {
    ticker = await cluster.clOk(['run', 'for i in $(seq 1 60); do echo line-$i; sleep 1; done', '-n', 'ticker']);
    // The output is pushed by the follow route, not polled.
    const followed = page.waitForRequest((request) => request.url().includes(`/rest/bundles/${ticker}/follow`));
    await page.goto(`${cluster.url}/bundles/${ticker}`);
    await followed;
    await page.getByRole('heading', { name: 'ticker', level: 1 }).waitFor();
    await waitForText('[data-testid="stdout"]', 'line-3');
    await waitForText('[data-testid="stdout"]', 'line-6');
    await screenshot('running');

    await page.getByRole('button', { name: 'Kill' }).click();
    await waitForText('table.metadata', 'killed');
    expect(await cluster.waitForState(ticker, ['killed'])).toBe('killed');
    await page.getByRole('button', { name: 'Kill' }).waitFor({ state: 'detached' });
    await screenshot('killed');
  }, WAIT_MS * 2);

  it('signs out, and the token is gone after a reload', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to CodaLab' }).waitFor();
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in to CodaLab' }).waitFor();
    await screenshot('signed-out');
  }, WAIT_MS);
});

describe('web interface with a refused token', () => {
  it('goes back to the sign-in form when the server answers 401', async () => {
    await page.getByLabel('User name').fill('codalab');
    await page.getByLabel('Password').fill(cluster.rootPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // Signed in again on the page it was on (the killed run's).
    await page.getByRole('heading', { name: 'ticker', level: 1 }).waitFor();
    await page.evaluate(() => {
      const key = 'codalab.session';
      const session = JSON.parse(sessionStorage.getItem(key) ?? '{}') as Record<string, unknown>;
      sessionStorage.setItem(key, JSON.stringify({ ...session, accessToken: 'not-a-token' }));
    });
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in to CodaLab' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('codalab.session'))).toBeNull();
  }, WAIT_MS);
});
