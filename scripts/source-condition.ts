import { defaultClientConditions, defaultServerConditions, type UserConfig } from 'vite';

/**
 * The workspace consumes its packages from source: each package's
 * `exports` has a `kalamlite-source` condition (→ src/index.ts) ahead of
 * the published `types`/`import` (→ dist/). The demo, Vitest, the e2e and
 * bench pages resolve with it (tsconfig.json's customConditions and
 * .dependency-cruiser.cjs say the same); an app that installs the packages
 * never sets it, so it gets dist/.
 */
export const SOURCE_CONDITION = 'kalamlite-source';

/** The `resolve` (browser) and `ssr.resolve` (Node: Vitest) settings that add it. */
export const sourceResolve: Pick<UserConfig, 'resolve' | 'ssr'> = {
  resolve: { conditions: [SOURCE_CONDITION, ...defaultClientConditions] },
  ssr: { resolve: { conditions: [SOURCE_CONDITION, ...defaultServerConditions], externalConditions: [SOURCE_CONDITION] } },
};
