// Every ```sql block of the READMEs (README.md, packages/*/README.md) runs,
// in order, against one fresh memory database as the system role. A snippet
// meant to fail says so on its own line just before it:
//   -- error: CODE
// and must then fail with exactly that KalamError code.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../packages/engine/src/api/database';
import { KalamError } from '../packages/engine/src/core/errors';
import { splitStatements } from '../packages/engine/src/sql/lexer';

const root = fileURLToPath(new URL('..', import.meta.url));

const readmes = ['README.md', ...readdirSync(join(root, 'packages')).map((p) => join('packages', p, 'README.md'))].filter((f) => {
  try {
    readFileSync(join(root, f));
    return true;
  } catch {
    return false;
  }
});

interface Snippet {
  /** Where it is: file:line of its block. */
  where: string;
  sql: string;
  /** The code it must fail with; undefined: it must run. */
  error: string | undefined;
}

/** The statements of the ```sql blocks of a Markdown text, with the `-- error: CODE` marks before them. */
function sqlSnippets(file: string, markdown: string): Snippet[] {
  const out: Snippet[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*```sql\s*$/.test(lines[i])) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^\s*```\s*$/.test(lines[end])) end++;
    const block = lines.slice(start, end).join('\n');
    let previousEnd = 0;
    for (const s of splitStatements(block)) {
      const before = block.slice(previousEnd, s.start);
      const mark = /^\s*--\s*error:\s*([A-Z_]+)\s*$/m.exec(before);
      const line = start + block.slice(0, s.start).split('\n').length; // 1-based: `start` is the 0-based index of the block's first line
      out.push({ where: `${file}:${line}`, sql: s.text, error: mark?.[1] });
      previousEnd = s.start + s.text.length;
    }
    i = end;
  }
  return out;
}

describe('the SQL snippets of the READMEs', () => {
  it('finds the ```sql blocks of the READMEs, and reads an error mark only on its own line', () => {
    const md = ['text', '```sql', 'SELECT 1;  -- error: NOT_A_MARK', '-- error: PARSE_ERROR', 'SELEC 2;', '```', '```ts', 'no', '```'].join('\n');
    expect(sqlSnippets('x.md', md)).toEqual([
      { where: 'x.md:3', sql: 'SELECT 1', error: undefined },
      { where: 'x.md:5', sql: 'SELEC 2', error: 'PARSE_ERROR' },
    ]);
    expect(readmes).toContain('README.md');
  });

  it('runs every snippet in order on a fresh database; those marked to fail fail with their code', async () => {
    const db = await openDatabase({ storage: 'memory' });
    const session = db.session({ user: 'root', role: 'system' });
    const snippets = readmes.flatMap((f) => sqlSnippets(f, readFileSync(join(root, f), 'utf8')));
    expect(snippets.length).toBeGreaterThan(0);
    const outcomes: string[] = [];
    for (const s of snippets) {
      let outcome = 'ran';
      try {
        await session.execute(s.sql);
      } catch (e) {
        outcome = e instanceof KalamError ? e.code : `not a KalamError: ${String(e)}`;
        if (outcome !== s.error) outcome += `: ${(e as Error).message}`;
      }
      outcomes.push(`${s.where} ${s.sql.split('\n')[0]} → ${outcome}`);
    }
    expect(outcomes).toEqual(snippets.map((s) => `${s.where} ${s.sql.split('\n')[0]} → ${s.error ?? 'ran'}`));
    await db.close();
  });
});
