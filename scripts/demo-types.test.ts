// The demo's row types (demo/src/db-types.ts) are what `kalamlite types`
// generates from its schema (demo/schema.sql): regenerate them with
// `npm run types:demo` after changing the schema.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { main } from '../packages/engine/src/api/cli';

const root = fileURLToPath(new URL('..', import.meta.url));

it('demo/src/db-types.ts is up to date with demo/schema.sql', async () => {
  let stderr = '';
  const code = await main(['types', 'demo/schema.sql', '-o', 'demo/src/db-types.ts', '--check'], {
    stdout: () => undefined,
    stderr: (text) => void (stderr += text),
    readFile: (path) => readFile(join(root, path), 'utf8'),
    writeFile: (path, text) => writeFile(join(root, path), text),
  });
  expect(stderr).toBe('');
  expect(code).toBe(0);
});
