/**
 * Storage and job statements: `FLUSH TABLE t`, `STORAGE FLUSH TABLE t`,
 * `STORAGE FLUSH ALL [IN [NAMESPACE] ns]`, `STORAGE COMPACT TABLE t`,
 * `STORAGE COMPACT ALL [IN [NAMESPACE] ns]` and `KILL JOB '<id>'`.
 */
import type { StorageStatement } from './ast';
import type { Cursor } from './cursor';

export function parseStorageStatement(c: Cursor): StorageStatement | undefined {
  if (c.isWord('FLUSH') && c.isWord('TABLE', 1)) {
    c.next();
    c.next();
    const table = c.tableName();
    c.end();
    return { kind: 'flushTable', table };
  }
  if (c.isWord('STORAGE') && (c.isWord('FLUSH', 1) || c.isWord('COMPACT', 1))) {
    c.next();
    const flush = c.next().text.toUpperCase() === 'FLUSH';
    if (c.acceptWord('TABLE')) {
      const table = c.tableName();
      c.end();
      return { kind: flush ? 'flushTable' : 'compactTable', table };
    }
    if (c.acceptWord('ALL')) {
      let namespace: string | undefined;
      if (c.acceptWord('IN')) {
        c.acceptWord('NAMESPACE');
        namespace = c.identifier('a namespace name');
      }
      c.end();
      return { kind: flush ? 'flushAll' : 'compactAll', namespace };
    }
    c.fail('expected TABLE or ALL');
  }
  if (c.isWord('KILL') && c.isWord('JOB', 1)) {
    c.next();
    c.next();
    const t = c.next();
    if (t.type !== 'string' && t.type !== 'quoted' && t.type !== 'word') c.fail("expected a job id in single quotes, like 'FL00000001'");
    c.end();
    return { kind: 'killJob', jobId: t.text };
  }
  return undefined;
}

export const isStorageStatement = (s: { kind: string }): s is StorageStatement =>
  s.kind === 'flushTable' || s.kind === 'flushAll' || s.kind === 'compactTable' || s.kind === 'compactAll' || s.kind === 'killJob';
