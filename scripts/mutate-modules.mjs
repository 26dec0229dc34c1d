// The modules `npm run mutate` mutation-tests (Stryker), each run against only
// its own test files: a mutant counts as killed only if the module's own tests
// notice it, not because some end-to-end test elsewhere happens to fail.
// Shared by scripts/mutate.mjs and scripts/stryker.config.mjs.
export const MUTATION_MODULES = {
  cache: {
    mutate: 'packages/engine/src/plan/cache.ts',
    tests: ['packages/engine/src/plan/cache.test.ts'],
  },
  keys: {
    mutate: 'packages/engine/src/storage/keys.ts',
    tests: ['packages/engine/src/storage/keys.test.ts'],
  },
  permissions: {
    mutate: 'packages/engine/src/auth/permissions.ts',
    tests: ['packages/engine/src/auth/permissions.test.ts', 'packages/engine/src/auth/role-matrix.test.ts', 'packages/engine/src/auth/auth.test.ts'],
  },
  window: {
    mutate: 'packages/engine/src/live/window.ts',
    tests: ['packages/engine/src/live/window.test.ts'],
  },
  outbox: {
    mutate: 'packages/worker/src/outbox.ts',
    tests: ['packages/worker/src/outbox.test.ts'],
  },
  values: {
    mutate: 'packages/engine/src/core/values.ts',
    tests: ['packages/engine/src/core/values.test.ts'],
  },
};

/** The score each module must reach (killed + timed out, over all valid mutants). */
export const MUTATION_THRESHOLD = 90;
