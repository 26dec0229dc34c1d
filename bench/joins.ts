/**
 * The join bench (issue 14, "Benchmarks"): a five-table equi-join of the
 * TPC-H shape — region, nation, customer, orders, lineitem, a few thousand
 * rows per table — run by the engine (in its worker, over IndexedDB) and by
 * SQLite-WASM (in its worker, over OPFS), in one page and one run.
 *
 * The data is a pure function of the seed, so both sides hold the same rows,
 * and each query's answer is compared between them before its time counts.
 * The SQL text is the same on both sides (it is plain SQL both accept).
 */

import { seededRandom } from './rows';

export const JOINS_SEED = 20261207;

/** Rows per table at the default size ("a few thousand rows per table"); --quick divides them by 4. */
export interface JoinsSize {
  customers: number;
  orders: number;
  lineitems: number;
}

export const JOINS_SIZE: JoinsSize = { customers: 2_000, orders: 4_000, lineitems: 8_000 };
export const JOINS_QUICK_SIZE: JoinsSize = { customers: 500, orders: 1_000, lineitems: 2_000 };

export const REGIONS = ['AFRICA', 'AMERICA', 'ASIA', 'EUROPE', 'MIDDLE EAST'] as const;
export const NATIONS_PER_REGION = 5;
export const SEGMENTS = ['AUTOMOBILE', 'BUILDING', 'FURNITURE', 'HOUSEHOLD', 'MACHINERY'] as const;
/** Order days run over two years. */
export const ORDER_DAYS = 730;

export type Table = 'region' | 'nation' | 'customer' | 'orders' | 'lineitem';
export const TABLES: readonly Table[] = ['region', 'nation', 'customer', 'orders', 'lineitem'];

/** Column names per table, in insert order; every id and foreign key is an INT, prices DOUBLE, names TEXT. */
export const COLUMNS: Record<Table, readonly string[]> = {
  region: ['id', 'name'],
  nation: ['id', 'name', 'region_id'],
  customer: ['id', 'name', 'nation_id', 'segment'],
  orders: ['id', 'customer_id', 'order_day', 'status'],
  lineitem: ['id', 'order_id', 'price', 'discount'],
};

const TYPES: Record<string, string> = { name: 'TEXT', segment: 'TEXT', status: 'TEXT', price: 'DOUBLE', discount: 'DOUBLE' };

/** `CREATE TABLE` column lists, the same for both sides (`id INT PRIMARY KEY`, the rest by name). */
export function columnDefs(table: Table): string {
  return COLUMNS[table].map((c) => (c === 'id' ? 'id INT PRIMARY KEY' : `${c} ${TYPES[c] ?? 'INT'} NOT NULL`)).join(', ');
}

export type Cell = number | string;

/** Every table's rows as arrays of cells in COLUMNS order. */
export function joinsData(size: JoinsSize): Record<Table, Cell[][]> {
  const r = seededRandom(JOINS_SEED);
  const pick = (n: number) => Math.floor(r() * n);
  const nations = REGIONS.length * NATIONS_PER_REGION;
  return {
    region: REGIONS.map((name, i) => [i + 1, name]),
    nation: Array.from({ length: nations }, (_, i) => [i + 1, `NATION ${i + 1}`, (i % REGIONS.length) + 1]),
    customer: Array.from({ length: size.customers }, (_, i) => [i + 1, `Customer#${i + 1}`, pick(nations) + 1, SEGMENTS[pick(SEGMENTS.length)]]),
    orders: Array.from({ length: size.orders }, (_, i) => [i + 1, pick(size.customers) + 1, pick(ORDER_DAYS), r() < 0.5 ? 'F' : 'O']),
    // Prices in whole cents and discounts in whole percent, so the sums are the same in any order of addition.
    lineitem: Array.from({ length: size.lineitems }, (_, i) => [i + 1, pick(size.orders) + 1, (100 + pick(99_900)) / 100, pick(11) / 100]),
  };
}

/**
 * The two timed queries. `q5` is TPC-H Q5's shape (FROM in TPC-H's order, join
 * terms in WHERE, a region and a one-year window of order days, revenue per
 * nation); `top` is the same five tables written with JOIN … ON, returning
 * the 100 most expensive lines of one customer segment.
 */
export const QUERIES = {
  q5: {
    sql:
      'SELECT n.name AS nation, SUM(l.price * (1 - l.discount)) AS revenue, COUNT(*) AS lines ' +
      'FROM customer c, orders o, lineitem l, nation n, region r ' +
      'WHERE c.id = o.customer_id AND l.order_id = o.id AND c.nation_id = n.id AND n.region_id = r.id ' +
      'AND r.name = $1 AND o.order_day >= $2 AND o.order_day < $3 ' +
      'GROUP BY n.name ORDER BY revenue DESC, nation',
    params: (i: number): Cell[] => {
      const from = (i * 97) % (ORDER_DAYS - 365);
      return [REGIONS[i % REGIONS.length], from, from + 365];
    },
  },
  top: {
    sql:
      'SELECT l.id, o.id AS order_id, c.name AS customer, n.name AS nation, r.name AS region, l.price ' +
      'FROM lineitem l JOIN orders o ON l.order_id = o.id JOIN customer c ON o.customer_id = c.id ' +
      'JOIN nation n ON c.nation_id = n.id JOIN region r ON n.region_id = r.id ' +
      'WHERE c.segment = $1 ORDER BY l.price DESC, l.id LIMIT 100',
    params: (i: number): Cell[] => [SEGMENTS[i % SEGMENTS.length]],
  },
} as const;

export type QueryName = keyof typeof QUERIES;
export const QUERY_NAMES = Object.keys(QUERIES) as QueryName[];

/**
 * Why two answers differ, or '' when they are the same: same rows in the same
 * order, text equal, numbers equal within 1e-9 relative (sums of doubles may
 * be added in another order).
 */
export function difference(a: readonly Record<string, unknown>[], b: readonly Record<string, unknown>[]): string {
  if (a.length !== b.length) return `${a.length} rows against ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    const keys = Object.keys(a[i]).sort();
    if (keys.join() !== Object.keys(b[i]).sort().join()) return `row ${i}: columns ${keys.join()} against ${Object.keys(b[i]).sort().join()}`;
    for (const k of keys) {
      const x = a[i][k];
      const y = b[i][k];
      const same =
        (typeof x === 'number' || typeof x === 'bigint') && (typeof y === 'number' || typeof y === 'bigint')
          ? Math.abs(Number(x) - Number(y)) <= 1e-9 * Math.max(1, Math.abs(Number(x)))
          : String(x) === String(y);
      if (!same) return `row ${i}, ${k}: ${String(x)} against ${String(y)}`;
    }
  }
  return '';
}

export interface Timing {
  n: number;
  p50: number;
  p95: number;
  min: number;
  max: number;
}

export function timing(samples: readonly number[]): Timing {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
  return { n: s.length, p50: at(50), p95: at(95), min: s[0], max: s[s.length - 1] };
}

export type JoinsSide = 'engine' | 'sqlite';

/** What the page returns: per side, the load time and per query its timing and result rows' count. */
export interface JoinsResult {
  size: JoinsSize;
  sqliteVersion: string;
  sides: Record<JoinsSide, { loadMs: number; queries: Record<QueryName, { timing: Timing; rows: number }> }>;
  /** Per query: whether every timed parameter set gave the same answer on both sides. */
  checks: { query: QueryName; ok: boolean; detail: string }[];
}
