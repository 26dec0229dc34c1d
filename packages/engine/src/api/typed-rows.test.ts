// Typed rows: query<T>() and live<T>() hand back the rows as T, with the
// runtime values the generated types (`kalamlite types`, schema-types.ts)
// promise — bigint for BIGINT, number for TIMESTAMP, null for an empty
// nullable column. The type assertions are checked by `tsc` (npm test).
import { describe, expect, expectTypeOf, it } from 'vitest';
import { openDatabase } from './database';
import type { LiveChange } from '../live/types';

/** What `kalamlite types` emits for the table below (schema-types.test.ts checks that). */
interface Items {
  readonly id: bigint;
  readonly name: string;
  readonly note: string | null;
  readonly meta: unknown;
  readonly added_at: number | null;
}

const SCHEMA = `CREATE NAMESPACE shop; CREATE SHARED TABLE shop.items (id BIGINT PRIMARY KEY, name TEXT NOT NULL, note TEXT, meta JSON, added_at TIMESTAMP DEFAULT NOW())`;

describe('typed rows', () => {
  it('query<T>() and a transaction query<T>() give rows typed T with the values the type mapping promises', async () => {
    const db = await openDatabase({ name: 'typed-rows', storage: 'memory' });
    try {
      const s = db.session({ user: 'root', role: 'system' });
      await s.execute(SCHEMA);
      await s.execute(`INSERT INTO shop.items (id, name, meta) VALUES (9007199254740993, 'bolt', '{"size": 3}')`);
      const { rows } = await s.query<Items>('SELECT * FROM shop.items');
      expectTypeOf(rows).toEqualTypeOf<readonly Items[]>();
      const [item] = rows;
      expect(item.id).toBe(9007199254740993n);
      expect(item.name.toUpperCase()).toBe('BOLT');
      expect(item.note).toBeNull();
      expect(item.meta).toEqual({ size: 3 });
      expect(typeof item.added_at).toBe('number');
      const inTx = await s.transaction((tx) => tx.query<Pick<Items, 'name'>>('SELECT name FROM shop.items'));
      expectTypeOf(inTx.rows).toEqualTypeOf<readonly Pick<Items, 'name'>[]>();
      expect(inTx.rows.map((r) => r.name)).toEqual(['bolt']);
      // Untyped, a row is a record of Values.
      const untyped = await s.query('SELECT name FROM shop.items');
      expectTypeOf(untyped.rows[0].name).toEqualTypeOf<import('../core/types').Value>();
    } finally {
      await db.close();
    }
  });

  it('live<T>() delivers typed rows and typed changes', async () => {
    const db = await openDatabase({ name: 'typed-live', storage: 'memory' });
    try {
      const s = db.session({ user: 'root', role: 'system' });
      await s.execute(SCHEMA);
      const seen: (readonly Items[])[] = [];
      const changes: LiveChange<Items>[] = [];
      const stop = await s.live<Items>('SELECT * FROM shop.items ORDER BY id', undefined, (rows, change) => {
        expectTypeOf(rows).toEqualTypeOf<readonly Items[]>();
        expectTypeOf(change).toEqualTypeOf<LiveChange<Items>>();
        seen.push(rows);
        changes.push(change);
      });
      await s.execute(`INSERT INTO shop.items (id, name, note) VALUES (1, 'nut', 'M4')`);
      await expect.poll(() => seen.length).toBe(2);
      stop();
      expect(seen[1].map((r) => [r.id, r.note])).toEqual([[1n, 'M4']]);
      const change = changes[1];
      expect(change.kind).toBe('changes');
      if (change.kind === 'changes') expect(change.inserted[0].name).toBe('nut');
    } finally {
      await db.close();
    }
  });
});
