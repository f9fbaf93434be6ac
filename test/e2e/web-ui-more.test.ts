// End-to-end, part two of the web interface in headless Chromium against a real cl-server and
// cl-worker: worksheet text as markdown, upload by file input and by drop, a run started from
// the page, search, editing a name, provenance and dependents, the workers page with a staged
// run's reason, and a virtualized table of 320 rows. Screenshots land in test-output/web-ui/.
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from './harness.js';
import { launchChromium, SCREENSHOTS, signInAsRoot, startWebCluster } from './web-support.js';

const WAIT_MS = 90_000;
const NOTES = '# Notes\n\nSee [the docs](https://example.org/docs) and `code`.\n\n- first\n- <script>alert(1)</script>';

let cluster: Cluster;
let browser: Browser;
let page: Page;

async function screenshot(name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

function row(name: string) {
  return page.locator('table.bundles tr').filter({ has: page.getByRole('link', { name, exact: true }) });
}

beforeAll(async () => {
  cluster = await startWebCluster('e2e-web-more');
  await cluster.clOk(['add', 'text', NOTES]);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
  await page.goto(cluster.url);
  await signInAsRoot(page, cluster);
}, 150_000);

afterAll(async () => {
  await browser?.close();
  await cluster?.stop();
});

describe('web interface, part two', () => {
  it('shows worksheet text as markdown, with raw HTML escaped', async () => {
    await page.getByRole('heading', { name: 'Notes', level: 2 }).waitFor();
    expect(await page.getByRole('link', { name: 'the docs' }).getAttribute('href')).toBe('https://example.org/docs');
    expect(await page.locator('.markup li').nth(1).textContent()).toBe('<script>alert(1)</script>');
    expect(await page.locator('.markup script').count()).toBe(0);
  }, WAIT_MS);

  it('uploads a file by the file input and another by a drop, with progress', async () => {
    await page.getByLabel('Choose files to upload').setInputFiles({ name: 'numbers.txt', mimeType: 'text/plain', buffer: Buffer.from('1\n2\n3\n') });
    await page.locator('.transfers').getByText('uploaded').waitFor({ timeout: WAIT_MS });
    await row('numbers.txt').getByText('ready').waitFor({ timeout: WAIT_MS });

    await page.locator('[data-testid="drop-zone"]').evaluate((zone) => {
      const data = new DataTransfer();
      data.items.add(new File(['dropped bytes\n'], 'dropped.txt', { type: 'text/plain' }));
      zone.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
    });
    await row('dropped.txt').getByText('ready').waitFor({ timeout: WAIT_MS });
    await screenshot('worksheet-uploaded');
  }, WAIT_MS * 2);

  it('refuses a bad resource request, then starts a run on the upload from the page', async () => {
    await page.getByLabel('Command').fill('wc -l < numbers.txt > count.txt && cat count.txt');
    await page.getByLabel('Name (optional)').fill('counter');
    await page.getByRole('checkbox', { name: 'numbers.txt' }).check();
    expect(await page.getByLabel('as key').inputValue()).toBe('numbers.txt');
    await page.getByLabel('Memory').fill('lots');
    await page.getByRole('button', { name: 'Start run' }).click();
    await page.locator('form.new-run .error').filter({ hasText: 'lots' }).waitFor();
    await page.getByLabel('Memory').fill('1g');
    await screenshot('new-run');
    await page.getByRole('button', { name: 'Start run' }).click();
    await row('counter').getByText('ready').waitFor({ timeout: WAIT_MS });
  }, WAIT_MS * 2);

  it('finds the run with the search box', async () => {
    await page.getByLabel('Search bundles').fill('counter type=run');
    await page.getByLabel('Search bundles').press('Enter');
    await page.getByRole('heading', { name: 'Search: counter type=run' }).waitFor();
    await row('counter').waitFor();
    expect(await page.locator('table.bundles tbody tr').count()).toBe(1);
    await screenshot('search');
  }, WAIT_MS);

  it('shows provenance and dependents, and lets the owner rename the run', async () => {
    await row('counter').getByRole('link', { name: 'counter' }).click();
    await page.getByRole('heading', { name: 'counter', level: 1 }).waitFor();
    await page.locator('.provenance').getByRole('link', { name: 'numbers.txt' }).waitFor();
    await page.getByRole('button', { name: 'Edit metadata' }).click();
    await page.getByLabel('Name', { exact: true }).fill('line-counter');
    await page.getByLabel('Tags (separated by commas or spaces)').fill('web, e2e');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: 'line-counter', level: 1 }).waitFor();
    await page.locator('table.metadata').getByText('web, e2e').waitFor();
    await screenshot('bundle-edited');

    await page.locator('.provenance').getByRole('link', { name: 'numbers.txt' }).click();
    await page.getByRole('heading', { name: 'numbers.txt', level: 1 }).waitFor();
    await page.locator('.dependents').getByRole('link', { name: 'line-counter' }).waitFor();
  }, WAIT_MS);

  it("shows the worker and a staged run's reason on the workers page", async () => {
    const stuck = await cluster.clOk(['run', 'echo never', '--request-queue', 'nobody', '-n', 'stuck']);
    await page.getByRole('link', { name: 'Workers' }).click();
    await page.getByRole('heading', { name: 'Workers', level: 1 }).waitFor();
    await page.locator('tr[data-worker="e2e-web-more"]').getByText('online').waitFor({ timeout: WAIT_MS });
    const reason = page.locator(`table.staged tr[data-uuid="${stuck}"] td.reason`);
    await reason.filter({ hasText: 'nobody' }).waitFor({ timeout: WAIT_MS });
    await screenshot('workers');
  }, WAIT_MS * 2);

  it('renders a worksheet of 320 rows virtualized, and Tab still reaches its links', async () => {
    const bundle = await cluster.clOk(['upload', '-c', 'one of many', '-n', 'many']);
    await cluster.clOk(['new', 'big']);
    await cluster.clOk(['add', 'bundle', ...Array<string>(320).fill(bundle), '-d', 'big']);
    await page.goto(`${cluster.url}/worksheets/big`);
    const table = page.locator('[data-testid="virtual-table"]');
    await table.waitFor();
    expect(await table.locator('tbody tr[data-uuid]').count()).toBeLessThan(100);
    await table.getByRole('link', { name: 'many' }).first().focus();
    for (let i = 0; i < 60; i += 1) await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement?.closest('tr')?.getAttribute('aria-rowindex'));
    expect(Number(focused)).toBeGreaterThan(55);
    await table.evaluate((scroller) => scroller.scrollTo(0, scroller.scrollHeight));
    await table.locator('tr[aria-rowindex="321"]').waitFor();
    expect(await table.locator('tr[aria-rowindex="321"] td').first().textContent()).toBe('^1');
    await screenshot('virtualized');
  }, WAIT_MS * 2);
});
