import { describe, expect, it } from 'vitest';
import type { TableDef } from '../core/schema';
import type { DmlStatement } from '../sql/ast';
import { parseStatement } from '../sql/parse';
import { scanTemplates, type FindTable } from './scan-bounds';

const table = (id: number, name: string, columns: string[]): TableDef => ({
  id, namespace: 'app', name, type: 'SHARED', pk: 0, options: {}, version: 1, createdAt: 0,
  columns: columns.map((c, i) => ({ id: i + 1, name: c, type: 'INT', notNull: i === 0, primaryKey: i === 0 })),
});
const a = table(1, 'a', ['id', 'x', 'y', 'z']);
const b = table(2, 'b', ['id', 'x', 'w', 'v']);
const find: FindTable = (_ns, name) => (name === 'a' ? a : name === 'b' ? b : undefined);

/** Column names each scan reads, by table name, in scan order. */
function columns(sql: string): [string, string[] | 'all'][] {
  return scanTemplates(parseStatement(sql) as DmlStatement, find).map((s) => {
    const t = s.tableId === 1 ? a : b;
    return [t.name, s.columns === 'all' ? 'all' : t.columns.filter((c) => (s.columns as ReadonlySet<number>).has(c.id)).map((c) => c.name)];
  });
}

describe('the columns a scan reads', () => {
  it('are the table columns named anywhere in the statement', () => {
    expect(columns('SELECT x FROM a WHERE y > 1')).toEqual([['a', ['x', 'y']]]);
    expect(columns('SELECT COUNT(*) FROM a')).toEqual([['a', []]]);
    expect(columns('SELECT y, COUNT(*) FROM a GROUP BY y HAVING SUM(z) > 2 ORDER BY y')).toEqual([['a', ['y', 'z']]]);
    expect(columns('SELECT a.x FROM a JOIN b ON a.id = b.id WHERE b.w = 1')).toEqual([['a', ['id', 'x']], ['b', ['id', 'x', 'w']]]);
    expect(columns('SELECT x FROM a WHERE EXISTS (SELECT 1 FROM b WHERE b.v = a.z)')).toEqual([['a', ['x', 'z']], ['b', ['x', 'v']]]);
  });

  it('are all columns for a star anywhere and for the target of a write', () => {
    expect(columns('SELECT * FROM a')).toEqual([['a', 'all']]);
    expect(columns('SELECT x FROM (SELECT * FROM a) s')).toEqual([['a', 'all']]);
    expect(columns('SELECT a.* FROM a JOIN b ON a.id = b.id')).toEqual([['a', 'all'], ['b', 'all']]);
    expect(columns("UPDATE a SET x = 1 WHERE id IN (SELECT id FROM b WHERE w = 2)")).toEqual([['a', 'all'], ['b', ['id', 'w']]]);
    expect(columns('DELETE FROM a WHERE id = 1')).toEqual([['a', 'all']]);
    expect(columns('INSERT INTO a (id, x) SELECT id, w FROM b')).toEqual([['a', 'all'], ['b', ['id', 'w']]]);
  });
});
