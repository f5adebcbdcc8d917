import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium, driven by playwright-core (no browser download). */
export const CHROMIUM = '/usr/bin/chromium';
const ROOT = join(import.meta.dirname, '../..');
export const ARTIFACTS = join(ROOT, 'test-artifacts');
/** the README's copies */
export const SCREENSHOTS = join(ROOT, 'docs/screenshots');
export const available = existsSync(CHROMIUM);
/** JPEG keeps each README picture small */
export const SMALL = { type: 'jpeg', quality: 70 } as const;
// In CI the browser must be there: a missing one fails the run instead of skipping it.
if (process.env['CI'] && !available) throw new Error(`${CHROMIUM} is missing; .ci/run installs the chromium package`);

/** Headless, no sandbox (root), and none of the background traffic a closed network refuses. */
export function launchBrowser(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  mkdirSync(SCREENSHOTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** Logs in through the page's form and waits for the overview. */
export async function login(page: Page, base: string, username: string, password: string): Promise<void> {
  await page.goto(`${base}/`);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
  await page.waitForSelector('table.matrix');
}
