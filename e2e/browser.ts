import { chromium, type Browser } from 'playwright-core';

/**
 * Where the Chromium used by e2e tests and benchmarks lives. Browser
 * downloads are not used: the system Chromium (or CHROMIUM_PATH) is.
 */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Launches a headless system Chromium with the flags every run here uses. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
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
}
