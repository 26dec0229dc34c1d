import { describe, expect, it } from 'vitest';
import { decodeArrow, encodeArrow, resultToArrow, SQL_TYPE_KEY } from './arrow';
import { openDatabase, type Session } from './database';
import { KalamError } from '../core/errors';
import type { StatementResult } from '../core/types';

const CREATE = `CREATE SHARED TABLE app.everything (
  id BIGINT PRIMARY KEY, flag BOOLEAN, small SMALLINT, n INT, f FLOAT, d DOUBLE, dec DECIMAL,
  body TEXT, uid UUID, t TIME, doc JSON, raw BYTES, ts TIMESTAMP, dt DATETIME, dday DATE)`;
const INSERT = 'INSERT INTO app.everything VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)';

async function admin(): Promise<Session> {
  const db = await openDatabase({ storage: 'memory' });
  const s = db.session({ user: 'admin', role: 'dba' });
  await s.execute('CREATE NAMESPACE app');
  await s.execute(CREATE);
  return s;
}

function fieldTypes(table: ReturnType<typeof resultToArrow>): Record<string, string> {
  return Object.fromEntries(table.schema.fields.map((f) => [f.name, String(f.type)]));
}

function rowsResult(columns: StatementResult['columns'], rows: StatementResult['rows']): StatementResult {
  return { kind: 'rows', columns, rows, rowCount: rows.length, message: '' };
}

describe('session.queryArrow', () => {
  it('maps every SQL type to the Arrow type of the dialect mapping', async () => {
    const s = await admin();
    const at = Date.UTC(2024, 5, 11, 8, 30, 15, 250);
    await s.execute(INSERT, [
      2n ** 60n, true, -7, 123456, 1.5, 2.25, 3.75, 'héllo', '0190a8a4-0000-7000-8000-000000000001', '12:34:56',
      { a: [1, 'x'] }, new Uint8Array([0, 255, 7]), at, at + 1, '2024-06-11',
    ]);
    const table = await s.queryArrow('SELECT * FROM app.everything');
    expect(fieldTypes(table)).toEqual({
      id: 'Int64', flag: 'Bool', small: 'Int16', n: 'Int32', f: 'Float32', d: 'Float64', dec: 'Utf8',
      body: 'Utf8', uid: 'Utf8', t: 'Utf8', doc: 'Utf8', raw: 'Binary', ts: 'Timestamp<MILLISECOND>',
      dt: 'Timestamp<MILLISECOND>', dday: 'Date32<DAY>',
    });
    expect(table.numRows).toBe(1);
    const row = table.get(0)!;
    expect(row.id).toBe(2n ** 60n);
    expect(row.flag).toBe(true);
    expect(row.small).toBe(-7);
    expect(row.n).toBe(123456);
    expect(row.f).toBe(1.5);
    expect(row.d).toBe(2.25);
    expect(row.dec).toBe('3.75'); // DECIMAL as its exact text
    expect(row.body).toBe('héllo');
    expect(row.uid).toBe('0190a8a4-0000-7000-8000-000000000001');
    expect(row.t).toBe('12:34:56');
    expect(JSON.parse(row.doc as string)).toEqual({ a: [1, 'x'] });
    expect([...(row.raw as Uint8Array)]).toEqual([0, 255, 7]);
    expect(row.ts).toBe(at);
    expect(row.dt).toBe(at + 1);
    expect(row.dday).toBe(Date.UTC(2024, 5, 11));
  });

  it('records each column’s SQL type in the field metadata', async () => {
    const s = await admin();
    const table = await s.queryArrow('SELECT id, ts, doc, id + 1 AS next FROM app.everything');
    expect(table.schema.fields.map((f) => f.metadata.get(SQL_TYPE_KEY))).toEqual(['BIGINT', 'TIMESTAMP', 'JSON', 'UNKNOWN']);
  });

  it('keeps NULLs as nulls in every type', async () => {
    const s = await admin();
    await s.execute(INSERT, [1n, null, null, null, null, null, null, null, null, null, null, null, null, null, null]);
    await s.execute(INSERT, [2n, false, 1, 2, 3, 4, 5, 'b', '0190a8a4-0000-7000-8000-000000000002', '01:02:03', [1], new Uint8Array([1]), 10, 20, '2000-01-01']);
    const table = await s.queryArrow('SELECT * FROM app.everything ORDER BY id');
    expect(table.numRows).toBe(2);
    for (const field of table.schema.fields) {
      if (field.name === 'id') continue;
      expect(table.getChild(field.name)!.get(0), field.name).toBeNull();
      expect(table.getChild(field.name)!.nullCount, field.name).toBe(1);
    }
    expect(table.getChild('small')!.get(1)).toBe(1);
    expect(table.getChild('flag')!.get(1)).toBe(false);
  });

  it('keeps result column order and answers aggregates with their types', async () => {
    const s = await admin();
    for (let i = 1; i <= 5; i++) await s.execute(INSERT, [BigInt(i), null, null, i, null, i / 2, null, i % 2 ? 'odd' : 'even', null, null, null, null, null, null, null]);
    const table = await s.queryArrow('SELECT body, COUNT(*) AS n, SUM(id) AS total, AVG(d) AS mean FROM app.everything GROUP BY body ORDER BY body');
    expect(table.schema.fields.map((f) => f.name)).toEqual(['body', 'n', 'total', 'mean']);
    expect(fieldTypes(table)).toEqual({ body: 'Utf8', n: 'Int32', total: 'Int64', mean: 'Float64' });
    expect(table.toArray().map((r) => r.toJSON())).toEqual([
      { body: 'even', n: 2, total: 6n, mean: 1.5 },
      { body: 'odd', n: 3, total: 9n, mean: 1.5 },
    ]);
  });

  it('returns an empty table with the result’s schema when no row matches', async () => {
    const s = await admin();
    const table = await s.queryArrow('SELECT id, body FROM app.everything WHERE id = $1', [42n]);
    expect(table.numRows).toBe(0);
    expect(fieldTypes(table)).toEqual({ id: 'Int64', body: 'Utf8' });
  });

  it('refuses a statement that returns no rows before running it, and batches', async () => {
    const s = await admin();
    await expect(s.queryArrow("INSERT INTO app.everything (id) VALUES (1)")).rejects.toMatchObject({ code: 'INVALID_SQL' });
    await expect(s.queryArrow("EXECUTE AS USER 'bob' (DELETE FROM app.everything WHERE id = 1)")).rejects.toMatchObject({ code: 'INVALID_SQL' });
    await expect(s.queryArrow('SELECT 1 AS a; SELECT 2 AS b')).rejects.toMatchObject({ code: 'INVALID_SQL' });
    expect((await s.query('SELECT COUNT(*) AS n FROM app.everything')).rows[0].n).toBe(0);
  });

  it('answers SHOW and WITH statements too', async () => {
    const s = await admin();
    expect((await s.queryArrow('SHOW NAMESPACES')).numRows).toBeGreaterThan(0);
    const table = await s.queryArrow('WITH x AS (SELECT 1 AS one) SELECT one FROM x');
    expect([...table.getChild('one')!]).toEqual([1]);
  });
});

describe('resultToArrow', () => {
  it('infers a type from the values of a computed column', () => {
    const table = resultToArrow(
      rowsResult(
        [
          { name: 'ints', type: 'UNKNOWN' },
          { name: 'mixed_int', type: 'UNKNOWN' },
          { name: 'text', type: 'UNKNOWN' },
          { name: 'bytes', type: 'UNKNOWN' },
          { name: 'nothing', type: 'UNKNOWN' },
          { name: 'objects', type: 'UNKNOWN' },
          { name: 'bools', type: 'UNKNOWN' },
        ],
        [
          { ints: 1, mixed_int: 2n, text: 'a', bytes: new Uint8Array([1]), nothing: null, objects: { x: 1 }, bools: true },
          { ints: 2.5, mixed_int: 3, text: null, bytes: null, nothing: null, objects: 'plain', bools: null },
        ],
      ),
    );
    expect(fieldTypes(table)).toEqual({ ints: 'Float64', mixed_int: 'Int64', text: 'Utf8', bytes: 'Binary', nothing: 'Null', objects: 'Utf8', bools: 'Bool' });
    expect(table.getChild('ints')!.toArray()).toEqual(new Float64Array([1, 2.5]));
    expect([...table.getChild('mixed_int')!]).toEqual([2n, 3n]);
    expect([...table.getChild('objects')!]).toEqual(['{"x":1}', '"plain"']);
  });

  it('falls back to the values’ type when they overflow the declared one', () => {
    const table = resultToArrow(rowsResult([{ name: 'total', type: 'INT' }], [{ total: 3_000_000_000 }, { total: 1 }]));
    expect(fieldTypes(table)).toEqual({ total: 'Float64' });
    expect([...table.getChild('total')!]).toEqual([3_000_000_000, 1]);
  });

  it('keeps one field for a repeated column name, as the rows do', () => {
    const table = resultToArrow(rowsResult([{ name: 'a', type: 'INT' }, { name: 'a', type: 'INT' }], [{ a: 1 }]));
    expect(table.schema.fields.map((f) => f.name)).toEqual(['a']);
  });
});

describe('encodeArrow / decodeArrow', () => {
  it('round-trips a table through one exactly sized IPC buffer', async () => {
    const s = await admin();
    for (let i = 1; i <= 300; i++) await s.execute(INSERT, [BigInt(i), i % 3 === 0, null, i, null, i * 0.5, null, `row ${i}`, null, null, { i }, null, 1_700_000_000_000 + i, null, null]);
    const table = await s.queryArrow('SELECT id, flag, n, d, body, doc, ts FROM app.everything ORDER BY id');
    const bytes = encodeArrow(table);
    expect(bytes.byteOffset).toBe(0);
    expect(bytes.byteLength).toBe(bytes.buffer.byteLength);
    const back = decodeArrow(bytes);
    expect(back.numRows).toBe(300);
    expect(fieldTypes(back)).toEqual(fieldTypes(table));
    expect(back.schema.fields[0].metadata.get(SQL_TYPE_KEY)).toBe('BIGINT');
    expect(back.toArray().map((r) => r.toJSON())).toEqual(table.toArray().map((r) => r.toJSON()));
    expect(back.get(299)!.toJSON()).toEqual({ id: 300n, flag: true, n: 300, d: 150, body: 'row 300', doc: '{"i":300}', ts: 1_700_000_000_300 });
  });
});
