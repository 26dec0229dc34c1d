// Dependency rules for the packages' sources, checked by `npm run deps`
// (part of `npm test`):
//
//   npx depcruise --config .dependency-cruiser.cjs packages/engine/src packages/worker/src packages/react-hooks/src
//
// Paths in the rules are relative to the directory the cruise runs from (the
// repository root), so a tree laid out as packages/<name>/src/… elsewhere
// (scripts/dependency-rules.test.ts builds one in a temp dir) is checked by
// the same rules.

/** The engine's layers, bottom to top: a layer may import its own and lower layers only. */
const ENGINE_LAYERS = ['core', 'storage', 'sql', 'catalog', 'auth', 'exec', 'plan', 'jobs', 'live', 'system', 'execute', 'api'];

const ENGINE_SRC = '^packages/engine/src/';
/** Tests and their fixtures: they may reach into their own package's internals. */
const TEST_FILE = '\\.(?:test|fixture)\\.tsx?$';

/** The public faces, above every layer: index.ts (what `@kalamlite/engine` resolves to) and cli.ts (the `kalamlite` bin). */
const ENGINE_FACES = '(?:index|cli)\\.ts$';

/**
 * One rule per layer below the top: its production files must not import a
 * higher layer nor a public face (packages/engine/src/index.ts or cli.ts).
 */
const engineLayerRules = ENGINE_LAYERS.map((layer, i) => {
  const above = ENGINE_LAYERS.slice(i + 1);
  const forbidden = above.length > 0 ? `(?:(?:${above.join('|')})/|${ENGINE_FACES})` : ENGINE_FACES;
  return {
    name: `engine-layer-${layer}`,
    severity: 'error',
    comment:
      `engine/src/${layer}/ may import only ${ENGINE_LAYERS.slice(0, i + 1).join(', ')} ` +
      `(layers: ${ENGINE_LAYERS.join(' < ')} < index.ts, cli.ts). Tests (*.test.ts, *.fixture.ts) are exempt.`,
    from: { path: `${ENGINE_SRC}${layer}/`, pathNot: TEST_FILE },
    to: { path: `${ENGINE_SRC}${forbidden}` },
  };
});

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycles. Type-only imports and dynamic import() count.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'engine-not-to-worker-or-react-hooks',
      severity: 'error',
      comment: 'The engine is the bottom package: it must not import @kalamlite/worker or @kalamlite/react.',
      from: { path: '^packages/engine/' },
      to: {
        path: '^(?:packages/(?:worker|react-hooks)/|node_modules/@kalamlite/(?:worker|react)/|@kalamlite/(?:worker|react)(?:/|$))',
      },
    },
    {
      name: 'worker-not-to-react',
      severity: 'error',
      comment: 'The worker must not import @kalamlite/react or React.',
      from: { path: '^packages/worker/' },
      to: {
        path:
          '^(?:packages/react-hooks/|node_modules/@kalamlite/react/|@kalamlite/react(?:/|$)' +
          '|node_modules/(?:react|react-dom)/|(?:react|react-dom)(?:/|$))',
      },
    },
    {
      name: 'no-relative-path-into-other-package',
      severity: 'error',
      comment: "Import another package by its name (@kalamlite/…), not by a relative path into its folder.",
      from: { path: '^packages/([^/]+)/' },
      to: { path: '^packages/', pathNot: '^packages/$1/', dependencyTypes: ['local'] },
    },
    {
      name: 'only-other-package-entry',
      severity: 'error',
      comment:
        "Another package is reached only through its entry (packages/<name>/src/index.ts, what @kalamlite/<name> " +
        'resolves to), never a module inside its src.',
      from: { path: '^packages/([^/]+)/' },
      to: { path: '^packages/[^/]+/', pathNot: ['^packages/$1/', '^packages/[^/]+/src/index\\.ts$'] },
    },
    {
      name: 'not-to-test-files',
      severity: 'error',
      comment: 'Production modules must not import tests or test fixtures (*.test.ts, *.fixture.ts).',
      from: { pathNot: TEST_FILE },
      to: { path: TEST_FILE },
    },
    {
      name: 'engine-module-in-a-layer',
      severity: 'error',
      comment: `Every engine module lives in one of the layers (${ENGINE_LAYERS.join(', ')}) or is a public face (index.ts, cli.ts).`,
      from: {},
      to: { path: ENGINE_SRC, pathNot: [`${ENGINE_SRC}(?:${ENGINE_LAYERS.join('|')})/`, `${ENGINE_SRC}${ENGINE_FACES}`] },
    },
    {
      name: 'engine-sql-parser-through-its-loader',
      severity: 'error',
      comment:
        'node-sql-parser is loaded as the engine opens, through sql/parser-loader.ts only (the published worker ships it ' +
        'as worker-sql.js beside worker.js, scripts/build.mjs); parse.ts reads it through sqlParser().',
      from: { path: ENGINE_SRC, pathNot: [`${ENGINE_SRC}sql/parser-loader\\.ts$`, TEST_FILE] },
      to: { path: 'node-sql-parser' },
    },
    // The Arrow codecs (api/arrow.ts, storage/cold/segment.ts, row-group.ts, arrow-types.ts) may import at run
    // time only apache-arrow, each other and core/values.ts: scripts/build.mjs checks that when it bundles them
    // into worker-arrow.js (this parser setup cannot tell type-only imports apart, so no rule here).
    ...engineLayerRules,
  ],
  options: {
    // TypeScript 7 (the native compiler) cannot serve as dependency-cruiser 17's parser; swc can.
    parser: 'swc',
    // Keep type-only imports (`import type`, `export type … from`) in the graph.
    tsPreCompilationDeps: true,
    // `@kalamlite/engine` etc. are workspace symlinks in node_modules; resolving
    // through them with the workspace's `kalamlite-source` export condition
    // gives packages/<name>/src/index.ts, which the rules above match.
    preserveSymlinks: false,
    enhancedResolveOptions: {
      conditionNames: ['kalamlite-source', 'import', 'require', 'node', 'default'],
      exportsFields: ['exports'],
    },
    doNotFollow: { path: 'node_modules' },
    // dependency-cruiser's swc setup cannot parse JSX. The only .tsx files are
    // the react-hooks tests and their helper test-dom.tsx, which only those
    // tests import: nothing in src imports them, so they can be neither part
    // of a cycle nor the target of a layer or package violation.
    exclude: { path: '^packages/react-hooks/src/(?:[^/]+\\.test\\.tsx|test-dom\\.tsx)$' },
  },
};
