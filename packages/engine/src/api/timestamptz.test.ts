// TIMESTAMPTZ / TIMESTAMP WITH TIME ZONE: UTC instants, as PostgreSQL stores
// them (§8.5.1.3: "An input value that has an explicit time zone specified is
// converted to UTC using the appropriate offset"). Values cross the API as
// TIMESTAMP does: milliseconds since the epoch (DIALECT.md's wire mapping).
import { describe, expect, it } from 'vitest';
import { openDatabase } from './database';

describe('TIMESTAMPTZ', () => {
  it('stores text with an offset as the UTC instant, under both spellings, and casts to it', async () => {
    const db = await openDatabase({ name: 'tz', storage: 'memory' });
    try {
      const s = db.session({ user: 'root', role: 'system' });
      await s.execute(`CREATE NAMESPACE app; CREATE SHARED TABLE app.ev (id INT PRIMARY KEY, a TIMESTAMPTZ, b TIMESTAMP WITH TIME ZONE)`);
      // §8.5.1.3's example: '2004-10-19 10:23:54+02' is 2004-10-19 08:23:54 UTC.
      const utc = Date.UTC(2004, 9, 19, 8, 23, 54);
      await s.execute(`INSERT INTO app.ev (id, a, b) VALUES (1, '2004-10-19 10:23:54+02', '2004-10-19 08:23:54Z')`);
      const { rows, columns } = await s.query(`SELECT a, b, a = b AS same, '2004-10-19 10:23:54+02'::TIMESTAMPTZ AS c FROM app.ev`);
      expect(rows).toEqual([{ a: utc, b: utc, same: true, c: utc }]);
      expect(columns.map((c) => c.type)).toEqual(['DATETIME', 'DATETIME', 'BOOLEAN', 'DATETIME']);
      expect((await s.query(`SELECT id FROM app.ev WHERE a = '2004-10-19 04:23:54-04:00'`)).rows).toEqual([{ id: 1 }]);
      await expect(s.execute(`INSERT INTO app.ev (id, a) VALUES (2, 'yesterday-ish')`)).rejects.toMatchObject({ code: 'TYPE_MISMATCH' });
    } finally {
      await db.close();
    }
  });
});
