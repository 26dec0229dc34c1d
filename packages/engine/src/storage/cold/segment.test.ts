import { Decimal } from '../../core/decimal';
import { describe, expect, it } from 'vitest';
import type { TableDef } from '../../core/schema';
import type { Value } from '../../core/types';
import { tableFromArrays, tableFromIPC, tableToIPC } from 'apache-arrow';
import { RowGroupCache } from './cache';
import { decodeBatch, SCHEMA_CACHE_BYTES, schemaCacheBytes } from './ipc-batch';
import { selectRowGroups, selectSegments, boundMayMatch, type ScanBound } from './prune';
import { decodeRowGroup, decodeSegment, encodeRowGroup, encodeSegment, manifestStats, STATS_TEXT_MAX } from './segment';
import type { RowGroupData, SegmentMeta } from './types';
import { registerDecimalMath } from '../../core/decimal-registry';
import { DECIMAL_MATH } from '../../plan/decimal-math';

registerDecimalMath(DECIMAL_MATH); // DECIMAL's chunk, as a database with a DECIMAL column loads it

const table: TableDef = {
  id: 7, namespace: 'app', name: 'all_types', type: 'SHARED', pk: 0, options: {}, version: 1, createdAt: 0,
  columns: [
    { id: 1, name: 'id', type: 'BIGINT', notNull: true, primaryKey: true },
    { id: 2, name: 'b', type: 'BOOLEAN', notNull: false, primaryKey: false },
    { id: 3, name: 's', type: 'SMALLINT', notNull: false, primaryKey: false },
    { id: 4, name: 'i', type: 'INT', notNull: false, primaryKey: false },
    { id: 5, name: 'f', type: 'FLOAT', notNull: false, primaryKey: false },
    { id: 6, name: 'd', type: 'DOUBLE', notNull: false, primaryKey: false },
    { id: 7, name: 'dec', type: 'DECIMAL', notNull: false, primaryKey: false },
    { id: 8, name: 't', type: 'TEXT', notNull: false, primaryKey: false },
    { id: 9, name: 'by', type: 'BYTES', notNull: false, primaryKey: false },
    { id: 10, name: 'j', type: 'JSON', notNull: false, primaryKey: false },
    { id: 11, name: 'ts', type: 'TIMESTAMP', notNull: false, primaryKey: false },
    { id: 12, name: 'dt', type: 'DATE', notNull: false, primaryKey: false },
    { id: 13, name: 'tm', type: 'TIME', notNull: false, primaryKey: false },
    { id: 14, name: 'u', type: 'UUID', notNull: false, primaryKey: false },
  ],
};

const row = (...v: Value[]) => Object.freeze(v);
const rows = [
  row(2n ** 62n, true, 3, 70000, 1.5, 2.25, new Decimal(105n, 1), 'héllo', new Uint8Array([1, 2]), { a: [1, 'x'] }, 1700000000000, '2024-02-29', '12:30:00', '018f0000-0000-7000-8000-000000000000', 5n, false),
  row(-1n, null, null, null, null, null, null, null, null, null, null, null, null, null, 9n, true),
];

function metaOf(stats: SegmentMeta['column_stats'], id = 'S1', minSeq = 1n, maxSeq = 2n): SegmentMeta {
  return { id, table_id: 7, user_id: '', min_seq: minSeq, max_seq: maxSeq, row_count: 1, size_bytes: 1, created_at: 0, column_stats: stats, schema_version: 1, status: 'committed', hot_purged: true };
}

describe('Arrow IPC segments', () => {
  it('round-trip every data type, nulls, _seq and _deleted', () => {
    const enc = encodeSegment(table, rows);
    expect(enc.minSeq).toBe(5n);
    expect(enc.maxSeq).toBe(9n);
    const dec = decodeSegment(enc.bytes, table);
    expect(dec).toEqual(rows);
    expect(Object.isFrozen(dec[0])).toBe(true);
  });

  it('record min, max and null count per column id, and none for unordered types', () => {
    const { stats } = encodeSegment(table, rows);
    expect(stats['1']).toEqual({ min: -1n, max: 2n ** 62n, null_count: 0 });
    expect(stats['8']).toEqual({ min: 'héllo', max: 'héllo', null_count: 1 });
    expect(stats['10']).toEqual({ min: null, max: null, null_count: 1 });
    expect(stats._seq).toEqual({ min: 5n, max: 9n, null_count: 0 });
  });

  it('read by column id under a newer definition: added columns take their literal default, dropped ones vanish, renamed keep values', () => {
    const small: TableDef = { ...table, columns: table.columns.slice(0, 2) };
    const enc = encodeSegment(small, [row(1n, true, 3n, false)]);
    const next: TableDef = {
      ...small,
      version: 3,
      columns: [
        { ...small.columns[0], name: 'key' },
        { id: 20, name: 'added', type: 'TEXT', notNull: false, primaryKey: false, default: { kind: 'literal', value: 'dflt' } },
      ],
    };
    expect(decodeSegment(enc.bytes, next)).toEqual([[1n, 'dflt', 3n, false]]);
  });

  it('read float values under a DECIMAL(p, s) column as exact decimals at its scale (segments written before DECIMAL was exact, or a MODIFY from DOUBLE)', () => {
    const floats: TableDef = { ...table, columns: [table.columns[0], { id: 7, name: 'dec', type: 'DOUBLE', notNull: false, primaryKey: false }] };
    const dec: TableDef = { ...floats, columns: [floats.columns[0], { ...floats.columns[1], type: 'DECIMAL', precision: 10, scale: 2 }] };
    const rowsIn = [row(1n, 12.3, 3n, false), row(2n, 0.1, 4n, false)];
    const asText = (rs: readonly (readonly Value[])[]) => rs.map((r) => [r[0], String(r[1])]);
    expect(asText(decodeSegment(encodeSegment(floats, rowsIn).bytes, dec))).toEqual([[1n, '12.30'], [2n, '0.10']]);
    const g = encodeRowGroup(floats, rowsIn, 0, 2);
    expect(Array.from(decodeRowGroup(g.bytes, dec.columns[0]).column(dec.columns[1])).map(String)).toEqual(['12.30', '0.10']);
  });

  it("read TIME written before its text was PostgreSQL's ('10:23') as it is written now ('10:23:00')", () => {
    const times: TableDef = { ...table, columns: [table.columns[0], table.columns[12]] };
    const g = encodeRowGroup(times, [row(1n, '10:23', 3n, false), row(2n, '08:00:00.500', 4n, false)], 0, 2);
    expect(Array.from(decodeRowGroup(g.bytes, times.columns[0]).column(times.columns[1]))).toEqual(['10:23:00', '08:00:00.5']);
  });
});

describe('segment pruning', () => {
  const bound = (op: ScanBound['op'], ...values: Value[]): ScanBound => ({ key: '1', isPk: true, op, values });

  it('rules a segment out only when no value in [min, max] can satisfy the bound', () => {
    const stats = { min: 10, max: 20, null_count: 0 };
    expect(boundMayMatch(stats, bound('=', 15))).toBe(true);
    expect(boundMayMatch(stats, bound('=', 21))).toBe(false);
    expect(boundMayMatch(stats, bound('<', 10))).toBe(false);
    expect(boundMayMatch(stats, bound('<=', 10))).toBe(true);
    expect(boundMayMatch(stats, bound('>', 20))).toBe(false);
    expect(boundMayMatch(stats, bound('>=', 20))).toBe(true);
    expect(boundMayMatch(stats, bound('in', 1, 2, 30))).toBe(false);
    expect(boundMayMatch(stats, bound('in', 1, 12))).toBe(true);
    expect(boundMayMatch({ min: null, max: null, null_count: 3 }, bound('=', 1))).toBe(false);
    expect(boundMayMatch(undefined, bound('=', 1))).toBe(true);
    expect(boundMayMatch(stats, bound('=', 'text'))).toBe(true); // a type the stats cannot judge
  });

  it('also reads a newer segment skipped for a non-key bound when it may shadow a read older one', () => {
    const older = metaOf({ 1: { min: 1, max: 5, null_count: 0 }, 2: { min: 'a', max: 'a', null_count: 0 } }, 'old', 1n, 2n);
    const newer = metaOf({ 1: { min: 3, max: 3, null_count: 0 }, 2: { min: 'b', max: 'b', null_count: 0 } }, 'new', 3n, 4n);
    const apart = metaOf({ 1: { min: 100, max: 200, null_count: 0 }, 2: { min: 'b', max: 'b', null_count: 0 } }, 'apart', 5n, 6n);
    const byName: ScanBound = { key: '2', isPk: false, op: '=', values: ['a'] };
    expect(selectSegments([older, newer, apart], [[byName]], '1').map((s) => s.id)).toEqual(['old', 'new']);
    expect(selectSegments([older, newer, apart], [[bound('=', 150)]], '1').map((s) => s.id)).toEqual(['apart']);
    expect(selectSegments([older, newer, apart], [null], '1').map((s) => s.id)).toEqual(['old', 'new', 'apart']);
    expect(selectSegments([older, newer, apart], [[bound('=', 150)], [bound('=', 4)]], '1').map((s) => s.id)).toEqual(['old', 'apart']);
  });

  it('reads, for a key list, the row groups whose key ranges hold its keys, and judges them by the other bounds too', () => {
    // 100 groups of keys [10g, 10g + 9]; column 2 is 'a' in even groups, 'b' in odd ones.
    const n = 100;
    const meta: SegmentMeta = {
      ...metaOf({ 1: { min: 0, max: 10 * n - 1, null_count: 0 } }),
      format: 2,
      groups: {
        rows: Array(n).fill(10), offsets: Array(n).fill(0), bytes: Array(n).fill(1),
        min_seq: Array(n).fill(1n), max_seq: Array(n).fill(2n),
        key_min: Array.from({ length: n }, (_, g) => 10 * g),
        key_max: Array.from({ length: n }, (_, g) => 10 * g + 9),
        columns: { 2: { min: Array.from({ length: n }, (_, g) => (g % 2 ? 'b' : 'a')), max: Array.from({ length: n }, (_, g) => (g % 2 ? 'b' : 'a')), nulls: Array(n).fill(0) } },
      },
    };
    const groups = (...bounds: ScanBound[]) => selectRowGroups([meta], [bounds], '1').groups.get(meta) ?? [];
    // Out of order, repeated, between groups' ranges never (keys are whole), past the end.
    expect(groups(bound('in', 995, 3, 41, 40, 3, 2000, -1))).toEqual([0, 4, 99]);
    expect(groups(bound('=', 57))).toEqual([5]);
    expect(groups(bound('in', 3, 15, 27), { key: '2', isPk: false, op: '=', values: ['b'] })).toEqual([1]);
    // A key of another type than the groups' keys: every group may hold it (as judged one by one).
    expect(groups(bound('in', 'x', 3))).toHaveLength(n);
  });
});

describe('the row-group cache', () => {
  const group = (bytes: number): RowGroupData => ({ rows: 0, keys: [], seqs: [], deleted: new Uint8Array(), column: () => [], reader: () => () => null, bytes });

  it('evicts the least recently used group past its byte bound and never keeps an unpinned one larger than the bound', () => {
    const cache = new RowGroupCache(100);
    const a = group(40);
    cache.set('a', 'S1', a);
    cache.set('b', 'S1', group(40));
    expect(cache.get('a')).toBe(a);
    cache.set('c', 'S2', group(40));
    expect(cache.peek('b')).toBeUndefined();
    expect(cache.peek('a')).toBeDefined();
    cache.set('huge', 'S3', group(101));
    expect(cache.peek('huge')).toBeUndefined();
    expect(cache.stats()).toMatchObject({ size: 2, bytes: 80, evictions: 1, hits: 1 });
    cache.forget(new Set(['S1']));
    expect(cache.stats().size).toBe(1);
  });

  it('keeps pinned groups under eviction pressure until released, then trims back within its bound', () => {
    const cache = new RowGroupCache(100);
    cache.set('p1', 'S1', group(60), true);
    cache.set('p2', 'S1', group(60), true);
    for (let i = 0; i < 10; i++) cache.set(`x${i}`, 'S2', group(30));
    expect(cache.peek('p1')).toBeDefined();
    expect(cache.peek('p2')).toBeDefined();
    expect(cache.stats()).toMatchObject({ pinned: 2, pinnedBytes: 120, bytes: 120 }); // unpinned groups went first
    cache.set('huge', 'S3', group(500), true); // larger than the bound: still served to its execution
    expect(cache.peek('huge')).toBeDefined();
    cache.unpin(['p1', 'p2', 'huge']);
    expect(cache.stats().pinnedBytes).toBe(0);
    expect(cache.stats().bytes).toBeLessThanOrEqual(100);
    expect(cache.peek('huge')).toBeUndefined();
  });

  it('shrinks a scanned group instead of evicting it, once: it moves to the most recently used end and is evicted when reached again', () => {
    const cache = new RowGroupCache(100);
    const shrinking = (bytes: number, to: number) => {
      const g = { ...group(bytes), shrunk: false };
      return Object.assign(g, { shrink: () => (g.shrunk ? false : ((g.shrunk = true), (g.bytes = to), true)) });
    };
    const a = shrinking(40, 10);
    cache.set('a', 'S1', a);
    cache.set('b', 'S1', group(40));
    cache.set('c', 'S1', group(40)); // 120 > 100: the oldest, a, shrinks to 10 and is now the newest
    expect(cache.peek('a')).toBe(a);
    expect(a.shrunk).toBe(true);
    expect(cache.stats()).toMatchObject({ bytes: 90, shrinks: 1, evictions: 0 });
    cache.set('d', 'S1', group(40)); // b goes, not a
    expect(cache.peek('b')).toBeUndefined();
    expect(cache.peek('a')).toBe(a);
    cache.set('e', 'S1', group(40));
    cache.set('f', 'S1', group(40)); // now a is the oldest, already shrunk: evicted
    expect(cache.peek('a')).toBeUndefined();
    expect(cache.stats()).toMatchObject({ shrinks: 1, evictions: 4 });
  });

  it('counts an entry a read refuses (getIf) as a miss, and a group replacing a pinned one keeps its pins', () => {
    const cache = new RowGroupCache(100);
    const old = group(30);
    cache.set('g', 'S1', old, true);
    expect(cache.getIf('g', true, () => false)).toBeUndefined();
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 1, pinned: 1 });
    const fresh = group(50);
    cache.set('g', 'S1', fresh, true); // read again whole by a second execution
    expect(cache.stats()).toMatchObject({ pinned: 1, pinnedBytes: 50 });
    cache.unpin(['g']); // the first execution ends: the second still holds it
    expect(cache.stats().pinnedBytes).toBe(50);
    cache.unpin(['g']);
    expect(cache.stats().pinnedBytes).toBe(0);
    expect(cache.getIf('g', false, (d) => d === fresh)).toBe(fresh);
  });

  it('counts columns materialized after a group was added', () => {
    const cache = new RowGroupCache(100);
    const g = { ...group(10) };
    cache.set('g', 'S1', g, true);
    (g as { bytes: number }).bytes = 50;
    cache.resize('g');
    expect(cache.stats()).toMatchObject({ bytes: 50, pinnedBytes: 50 });
  });
});

describe('format 2 row groups', () => {
  const sorted = [...rows].sort((a, b) => (a[0] as bigint) < (b[0] as bigint) ? -1 : 1);

  it('round-trip every data type, nulls, _seq and _deleted, and know their key range and stats', () => {
    const g = encodeRowGroup(table, sorted, 0, 2);
    expect([g.rows, g.minSeq, g.maxSeq, g.keyMin, g.keyMax]).toEqual([2, 5n, 9n, -1n, 2n ** 62n]);
    expect(g.stats['8']).toEqual({ min: 'héllo', max: 'héllo', nulls: 1 });
    expect(g.stats['10']).toEqual({ min: null, max: null, nulls: 1 });
    const d = decodeRowGroup(g.bytes, table.columns[0]);
    expect(d.rows).toBe(2);
    expect(Array.from(d.keys)).toEqual([-1n, 2n ** 62n]);
    expect(Array.from(d.seqs)).toEqual([9n, 5n]);
    expect([...d.deleted]).toEqual([1, 0]);
    for (let i = 0; i < table.columns.length; i++) expect(Array.from(d.column(table.columns[i]))).toEqual(sorted.map((r) => r[i]));
  });

  it('hand out number columns without nulls as views of the Arrow buffer, nothing materialized', () => {
    const ints: TableDef = { ...table, columns: [table.columns[0], table.columns[3], table.columns[5]] };
    const g = encodeRowGroup(ints, [row(1n, 7, 0.5, 3n, false), row(2n, 8, 1.5, 4n, false)], 0, 2);
    const d = decodeRowGroup(g.bytes, ints.columns[0]);
    const before = d.bytes;
    expect(d.keys).toBeInstanceOf(BigInt64Array);
    expect(d.column(ints.columns[1])).toBeInstanceOf(Int32Array);
    expect(Array.from(d.column(ints.columns[2]))).toEqual([0.5, 1.5]);
    expect(d.bytes).toBe(before);
  });

  it('read a column by id under a newer definition: added columns take their literal default, retyped ones convert', () => {
    const d = decodeRowGroup(encodeRowGroup(table, sorted, 0, 2).bytes, table.columns[0]);
    expect(Array.from(d.column({ id: 99, name: 'added', type: 'TEXT', notNull: false, primaryKey: false, default: { kind: 'literal', value: 'x' } }))).toEqual(['x', 'x']);
    expect(Array.from(d.column({ ...table.columns[2], type: 'TEXT' }))).toEqual([null, '3']);
  });

  it('shrink once scanned: keep keys, _seq, _deleted and the columns read whole, as copies out of the Arrow buffer, and give up the others', () => {
    const d = decodeRowGroup(encodeRowGroup(table, sorted, 0, 2).bytes, table.columns[0]);
    const [id, , , i, , dbl, , text] = table.columns;
    // Read value by value only (a point read): nothing worth keeping, it is evicted instead.
    expect(d.reader(text)(1)).toBe('héllo');
    expect(d.shrink!()).toBe(false);
    const ints = d.column(i);
    const texts = Array.from(d.column(text));
    const before = d.bytes;
    expect(d.shrink!()).toBe(true);
    expect(d.shrink!()).toBe(false);
    expect(d.bytes).toBeLessThan(before);
    expect([d.covers!(id), d.covers!(i), d.covers!(text), d.covers!(dbl)]).toEqual([true, true, true, false]);
    expect(d.covers!({ id: 99, name: 'added', type: 'TEXT', notNull: false, primaryKey: false })).toBe(true);
    expect(Array.from(d.keys)).toEqual([-1n, 2n ** 62n]);
    expect(Array.from(d.seqs)).toEqual([9n, 5n]);
    expect([...d.deleted]).toEqual([1, 0]);
    expect(Array.from(d.column(i))).toEqual(Array.from(ints));
    // The key column was a view of the Arrow buffer: now its own copy, so the buffer can be collected.
    expect((d.keys as BigInt64Array).buffer.byteLength).toBe(16);
    expect(Array.from(d.column(text))).toEqual(texts);
    expect(d.reader(text)(1)).toBe('héllo');
    // A column kept as written converts to another type of it (an ALTER while the group was shrunk).
    expect(Array.from(d.column({ ...i, type: 'TEXT' }))).toEqual([null, '70000']);
    expect(() => d.column(dbl)).toThrow(/gave up its Arrow data/);
  });

  it('materialize a text column with few distinct values as shared strings, counted once', () => {
    const textTable: TableDef = { ...table, columns: [table.columns[0], table.columns[7]] };
    const many = Array.from({ length: 1000 }, (_, k) => row(BigInt(k), k % 2 === 0 ? 'even' : 'odd', 1n, false));
    const unique = Array.from({ length: 1000 }, (_, k) => row(BigInt(k), `value ${k}`, 1n, false));
    const few = decodeRowGroup(encodeRowGroup(textTable, many, 0, many.length).bytes, textTable.columns[0]);
    const all = decodeRowGroup(encodeRowGroup(textTable, unique, 0, unique.length).bytes, textTable.columns[0]);
    const [fewBefore, allBefore] = [few.bytes, all.bytes];
    expect(Array.from(few.column(textTable.columns[1]))).toEqual(many.map((r) => r[1]));
    expect(Array.from(all.column(textTable.columns[1]))).toEqual(unique.map((r) => r[1]));
    expect(few.bytes - fewBefore).toBeLessThan(10_000);
    expect(all.bytes - allBefore).toBeGreaterThan(30_000);
  });

  it('decode without Arrow\'s reader (ipc-batch.ts) to the same values as tableFromIPC, from aligned or unaligned bytes; a stream it does not know gives undefined', () => {
    const bytes = encodeRowGroup(table, sorted, 0, 2).bytes;
    const reference = tableFromIPC(bytes);
    const unaligned = new Uint8Array(bytes.length + 3).subarray(3);
    unaligned.set(bytes);
    for (const input of [bytes, unaligned]) {
      const batch = decodeBatch(input)!;
      expect(batch.rows).toBe(2);
      expect(batch.fields.map((f) => f.name)).toEqual(reference.schema.fields.map((f) => f.name));
      for (const f of batch.fields) {
        const ref = reference.batches[0].getChild(f.name)!.data[0];
        expect(f.metadata).toEqual(reference.schema.fields.find((r) => r.name === f.name)!.metadata);
        expect(f.data.nullCount).toBe(ref.nullCount);
        // The values each row has (Arrow's views may run on over the buffers' padding).
        const used = f.data.valueOffsets ? f.data.valueOffsets[2] : f.name === '_deleted' || f.name === 'c2' ? 1 : 2;
        expect(Array.from(f.data.values as ArrayLike<unknown>).slice(0, used)).toEqual(Array.from(ref.values as ArrayLike<unknown>).slice(0, used));
        if (f.data.valueOffsets) expect(Array.from(f.data.valueOffsets)).toEqual(Array.from(ref.valueOffsets as Int32Array).slice(0, 3));
      }
      const d = decodeRowGroup(input, table.columns[0]);
      for (let i = 0; i < table.columns.length; i++) expect(Array.from(d.column(table.columns[i]))).toEqual(sorted.map((r) => r[i]));
    }
    // Past its bound, the schema cache starts over: decoding many distinct schemas holds at most SCHEMA_CACHE_BYTES.
    for (let k = 0; k < 400; k++) {
      const wide: TableDef = { ...table, columns: [table.columns[0], { ...table.columns[7], id: 1000 + k, name: `t${k}` }] };
      decodeBatch(encodeRowGroup(wide, [row(1n, 'x', 1n, false)], 0, 1).bytes);
      expect(schemaCacheBytes()).toBeLessThanOrEqual(SCHEMA_CACHE_BYTES);
    }
    expect(schemaCacheBytes()).toBeGreaterThan(0);
    // A nested field: Arrow's reader reads it.
    const nested = tableToIPC(tableFromArrays({ list: [[1], [2, 3]] as never }), 'stream');
    expect(decodeBatch(nested)).toBeUndefined();
    expect(decodeBatch(new Uint8Array([1, 2, 3]))).toBeUndefined();
  });

  it('keep long text out of the manifest stats: a prefix as min, no max', () => {
    const long = 'y'.repeat(STATS_TEXT_MAX + 10);
    expect(manifestStats({ min: long, max: long, nulls: 0 })).toEqual({ min: 'y'.repeat(STATS_TEXT_MAX), max: null, nulls: 0 });
    expect(manifestStats({ min: 'a', max: 'b', nulls: 2 })).toEqual({ min: 'a', max: 'b', nulls: 2 });
  });
});
