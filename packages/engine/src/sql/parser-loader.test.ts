import { describe, expect, it } from 'vitest';
import { KalamError } from '../core/errors';
import { loadSqlParser, sqlParser } from './parser-loader';
import { openDatabase } from '../api/database';

describe('the SQL parser loader', () => {
  it('reports INTERNAL when SQL is parsed before anything loaded the grammar, and parses once it is loaded', async () => {
    let thrown: unknown;
    try {
      sqlParser();
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(KalamError);
    expect((thrown as KalamError).code).toBe('INTERNAL');
    await loadSqlParser();
    expect(sqlParser().astify('SELECT 1', { database: 'postgresql' })).toMatchObject({ type: 'select' });
  });

  it('is loaded by openDatabase, so a full-grammar statement runs right after open', async () => {
    const db = await openDatabase({ name: 'parser-loader', storage: 'memory' });
    try {
      const s = db.session({ user: 'root', role: 'system' });
      const { rows } = await s.query('SELECT 1 + 2 AS n UNION SELECT 4 AS n ORDER BY n');
      expect(rows.map((r) => r.n)).toEqual([3, 4]);
    } finally {
      await db.close();
    }
  });
});
