import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** Debian's Chromium: no browser is downloaded (the machines reach no download site). */
const CHROMIUM = '/usr/bin/chromium';

/** Whether the browser tests can run: in CI Chromium must be there; elsewhere they skip, saying why. */
export function hasChromium(): boolean {
  if (existsSync(CHROMIUM)) return true;
  const why = `${CHROMIUM} is missing (apt-get install -y chromium)`;
  if (process.env.CI) throw new Error(`The dashboard tests need Chromium in CI: ${why}`);
  console.warn(`\n[api-users] dashboard browser tests skipped: ${why}\n`);
  return false;
}

/** launch() gives the browser a fresh temporary profile (user-data dir) and deletes it on close. */
export const launchChromium = (): Promise<Browser> =>
  chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
