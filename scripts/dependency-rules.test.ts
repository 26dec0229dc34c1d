// The dependency rules in .dependency-cruiser.cjs bite: run with the
// project's config on small trees laid out like the repository
// (packages/<name>/src/…, built in a temp dir), a tree with a cycle, an
// upward layer import and the other forbidden kinds of import fails and
// names each violation, and a clean tree passes.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';

const CONFIG = join(dirname(fileURLToPath(import.meta.url)), '..', '.dependency-cruiser.cjs');

const roots: string[] = [];
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

/** Writes `files` (path → content) under a fresh temp dir with workspace packages linked into node_modules. */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'kalamlite-deps-'));
  roots.push(root);
  const all: Record<string, string> = { ...files };
  for (const [dir, name] of [['engine', 'engine'], ['worker', 'worker'], ['react-hooks', 'react']]) {
    all[`packages/${dir}/package.json`] = JSON.stringify({
      name: `@kalamlite/${name}`,
      type: 'module',
      main: 'src/index.ts',
      exports: { '.': './src/index.ts' },
    });
    all[`packages/${dir}/src/index.ts`] ??= 'export const entry = 1;\n';
    mkdirSync(join(root, 'node_modules/@kalamlite'), { recursive: true });
    symlinkSync(`../../packages/${dir}`, join(root, 'node_modules/@kalamlite', name));
  }
  for (const [path, content] of Object.entries(all)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

async function check(root: string): Promise<{ exitCode: number; violations: string[] }> {
  const options = await extractDepcruiseOptions(CONFIG);
  const { output } = await cruise(['packages/engine/src', 'packages/worker/src', 'packages/react-hooks/src'], {
    ...options,
    baseDir: root,
  });
  const result = output as ICruiseResult;
  // What `depcruise` (npm run deps) exits with: the number of errors.
  const exitCode = result.summary.error;
  // A cycle is reported once, from whichever of its modules the cruise met
  // first: name it by its modules, sorted.
  const violations = result.summary.violations.map((v) =>
    v.rule.name === 'no-circular'
      ? `no-circular: ${(v.cycle ?? []).map((step) => step.name).sort().join(' ⇄ ')}`
      : `${v.rule.name}: ${v.from} → ${v.to}`,
  );
  return { exitCode, violations: violations.sort() };
}

const E = 'packages/engine/src';
const W = 'packages/worker/src';

describe('dependency rules (.dependency-cruiser.cjs)', () => {
  it('fail on cycles, upward layer imports and cross-package shortcuts, naming each', async () => {
    const root = tree({
      // (a) a two-file cycle
      [`${E}/core/cycle-a.ts`]: "import { b } from './cycle-b';\nexport const a = () => b;\n",
      [`${E}/core/cycle-b.ts`]: "import { a } from './cycle-a';\nexport const b = () => a;\n",
      // a cycle of type-only imports counts too
      [`${E}/core/type-a.ts`]: "import type { B } from './type-b';\nexport interface A { b?: B }\n",
      [`${E}/core/type-b.ts`]: "import type { A } from './type-a';\nexport interface B { a?: A }\n",
      // and so does one closed by a dynamic import()
      [`${E}/storage/lazy-a.ts`]: "export const load = () => import('./lazy-b');\n",
      [`${E}/storage/lazy-b.ts`]: "import { load } from './lazy-a';\nexport const again = load;\n",
      // (b) upward layer imports: core → execute, system → execute (type-only), execute → api, api → index
      [`${E}/core/upward.ts`]: "import { run } from '../execute/run';\nexport const up = run;\n",
      [`${E}/system/tables.ts`]: "import type { Tx } from '../execute/run';\nexport type T = Tx;\n",
      [`${E}/execute/run.ts`]: "import { api } from '../api/face';\nexport const run = api;\nexport type Tx = number;\n",
      [`${E}/api/face.ts`]: "import { entry } from '../index';\nexport const api = entry;\n",
      [`${E}/index.ts`]: 'export const entry = 1;\n',
      // a production module importing a test fixture
      [`${E}/storage/kv.ts`]: "import { fake } from './kv.fixture';\nexport const kv = fake;\n",
      [`${E}/storage/kv.fixture.ts`]: 'export const fake = 1;\n',
      // the engine importing the worker, by name and by path
      [`${E}/live/push.ts`]: "import { entry } from '@kalamlite/worker';\nexport const push = entry;\n",
      [`${E}/live/pull.ts`]: "import { entry } from '../../../worker/src/index';\nexport const pull = entry;\n",
      // the worker importing React, and reaching into the engine's src by relative path
      [`${W}/hooks.ts`]: "import { useState } from 'react';\nexport const hook = useState;\n",
      [`${W}/deep.ts`]: "import { a } from '../../engine/src/core/cycle-a';\nexport const deep = a;\n",
    });
    const { exitCode, violations } = await check(root);
    expect(violations).toEqual(
      [
        `no-circular: ${E}/core/cycle-a.ts ⇄ ${E}/core/cycle-b.ts`,
        `no-circular: ${E}/core/type-a.ts ⇄ ${E}/core/type-b.ts`,
        `no-circular: ${E}/storage/lazy-a.ts ⇄ ${E}/storage/lazy-b.ts`,
        `engine-layer-core: ${E}/core/upward.ts → ${E}/execute/run.ts`,
        `engine-layer-system: ${E}/system/tables.ts → ${E}/execute/run.ts`,
        `engine-layer-execute: ${E}/execute/run.ts → ${E}/api/face.ts`,
        `engine-layer-api: ${E}/api/face.ts → ${E}/index.ts`,
        `not-to-test-files: ${E}/storage/kv.ts → ${E}/storage/kv.fixture.ts`,
        `engine-not-to-worker-or-react-hooks: ${E}/live/push.ts → ${W}/index.ts`,
        `engine-not-to-worker-or-react-hooks: ${E}/live/pull.ts → ${W}/index.ts`,
        `no-relative-path-into-other-package: ${E}/live/pull.ts → ${W}/index.ts`,
        `worker-not-to-react: ${W}/hooks.ts → react`,
        `no-relative-path-into-other-package: ${W}/deep.ts → ${E}/core/cycle-a.ts`,
        `only-other-package-entry: ${W}/deep.ts → ${E}/core/cycle-a.ts`,
      ].sort(),
    );
    expect(exitCode).toBe(violations.length);
  });

  it('pass a tree that keeps them', async () => {
    const root = tree({
      [`${E}/core/values.ts`]: 'export const one = 1;\n',
      [`${E}/storage/kv.ts`]: "import { one } from '../core/values';\nexport const kv = one;\nexport type Kv = number;\n",
      [`${E}/sql/parse.ts`]: "import type { Kv } from '../storage/kv';\nexport type P = Kv;\n",
      [`${E}/execute/run.ts`]:
        "import { kv } from '../storage/kv';\nimport { one } from '../core/values';\nexport const run = () => import('../storage/kv').then(() => kv + one);\n",
      [`${E}/api/face.ts`]: "import { run } from '../execute/run';\nexport const api = run;\n",
      [`${E}/index.ts`]: "export { api } from './api/face';\nexport const entry = 1;\n",
      // tests may import anything in their own package, upward layers and fixtures included
      [`${E}/core/values.test.ts`]: "import { api } from '../api/face';\nimport { fake } from './values.fixture';\nexport const t = [api, fake];\n",
      [`${E}/core/values.fixture.ts`]: "import { run } from '../execute/run';\nexport const fake = run;\n",
      // other packages through their names
      [`${W}/index.ts`]: "import { entry } from '@kalamlite/engine';\nexport { entry };\n",
      ['packages/react-hooks/src/index.ts']:
        "import { useState } from 'react';\nimport { entry } from '@kalamlite/worker';\nexport const hook = [useState, entry];\n",
    });
    const { exitCode, violations } = await check(root);
    expect(violations).toEqual([]);
    expect(exitCode).toBe(0);
  });
});
