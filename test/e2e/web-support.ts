// What the web interface's browser tests share: a real cl-server (serving dist/web) with one
// worker, and headless Chromium (Debian's, driven by playwright-core).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Cluster, DEFAULT_IMAGE, REPO_ROOT } from './harness.js';

const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOTS = join(REPO_ROOT, 'test-output', 'web-ui');

/** A server with the web build and one two-slot worker `workerId`, with `cl` pointed at it. */
export async function startWebCluster(workerId: string): Promise<Cluster> {
  if (!existsSync(join(REPO_ROOT, 'dist', 'web', 'index.html'))) {
    throw new Error('dist/web is missing: run `npm run build` (the test global setup does unless CL_SKIP_BUILD=1).');
  }
  mkdirSync(SCREENSHOTS, { recursive: true });
  const cluster = new Cluster();
  await cluster.startServer(['--default-cpu-image', DEFAULT_IMAGE]);
  cluster.startWorker({ id: workerId, extraArgs: ['--slots', '2', '--gpuset', 'NONE'] });
  await cluster.clOk(['work', `${cluster.url}::`]);
  return cluster;
}

/** Runs as root here, so without Chromium's sandbox (it refuses root otherwise). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], headless: true });
}

/** Fills in the sign-in form as root and waits for the home worksheet. */
export async function signInAsRoot(page: Page, cluster: Cluster): Promise<void> {
  await page.getByLabel('User name').fill('codalab');
  await page.getByLabel('Password').fill(cluster.rootPassword);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'home-codalab' }).waitFor();
}
