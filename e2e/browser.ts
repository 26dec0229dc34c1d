import { chromium, type Browser, type BrowserContext } from 'playwright-core';

/**
 * Where the Chromium used by e2e tests and benchmarks lives. Browser
 * downloads are not used: the system Chromium (or CHROMIUM_PATH) is.
 */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The flags every run here uses. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/**
 * Launches a headless system Chromium with the flags every run here uses.
 * Its `newContext()` contexts are off the record: IndexedDB and OPFS are kept in memory.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath, headless: true, args: CHROMIUM_ARGS });
}

/**
 * The same Chromium with a persistent profile in `userDataDir`, as a user's
 * browser has: IndexedDB and OPFS live on disk there. Closing the context
 * ends the browser; the directory is the caller's to remove.
 */
export function launchPersistentChromium(userDataDir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(userDataDir, { executablePath: chromiumPath, headless: true, args: CHROMIUM_ARGS });
}
