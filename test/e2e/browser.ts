/** Debian's Chromium driven by playwright-core (no browser download): headless, quiet, no network. */
import fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { envValue } from '../../src-main/engine/config';

export const CHROMIUM = envValue('LIKENESS_CHROMIUM') ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM))
    throw new Error(
      `e2e: ${CHROMIUM} not found — install it with \`apt-get install -y chromium\` (or set LIKENESS_CHROMIUM)`,
    );
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}
