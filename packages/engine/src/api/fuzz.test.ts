/**
 * SQL fuzzing: grammar-based cases (SELECT with WHERE, ORDER BY, LIMIT,
 * GROUP BY, joins, subqueries and set operations; INSERT, UPDATE, DELETE;
 * BEGIN … COMMIT/ROLLBACK batches; hostile literals and parameters) and
 * mutation-based ones (valid statements with tokens and characters deleted,
 * duplicated, swapped or inserted), run against one database over
 * IndexedDB (fake-indexeddb). For every case:
 *
 * - the outcome is success or a KalamError whose code is not INTERNAL;
 * - it settles within the statement budget (statementTimeoutMs, and
 *   maxParseMs for parsing) plus a margin for commits and the machine's pauses;
 * - a case that fails (or a batch that rolls back) leaves every table —
 *   every row, deleted ones and `_seq` included — as it was;
 * - and every few dozen cases the database is closed and reopened, and
 *   what it reads from disk equals what it held in memory.
 *
 * A few thousand cases run in the unit suite with a fixed seed;
 * `npm run fuzz` runs many more (FUZZ_RUNS cases per kind, FUZZ_SEED).
 */
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KalamError } from '../core/errors';
import type { Row, Value } from '../core/types';
import { openDatabase, type Database, type Session } from './database';
import { FUZZ_SCHEMA, FUZZ_TABLES, grammarCase, mutationCase, type FuzzCase } from './fuzz.fixture';

const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261207);
/** The statement budget the engine enforces, set low so that a runaway statement shows. */
const BUDGET_MS = 500;
/** What a case may take beyond the budget: planning, a storage commit, a GC pause on a slow machine. */
const MARGIN_MS = 5000;
const REOPEN_EVERY = 100;

type Snapshot = Record<string, readonly Row[]>;

class Harness {
  private db!: Database;
  private session!: Session;
  private readonly indexedDB = new IDBFactory();
  private snapshot: Snapshot = {};
  cases = 0;
  readonly codes = new Map<string, number>();

  constructor(private readonly name: string) {}

  async open(): Promise<void> {
    this.db = await openDatabase({ storage: 'idb', name: this.name, indexedDB: this.indexedDB, statementTimeoutMs: BUDGET_MS, maxParseMs: BUDGET_MS, streamEvictionIntervalMs: 0 });
    this.session = this.db.session({ user: 'alice', role: 'dba' });
  }

  async setUp(): Promise<void> {
    await this.open();
    await this.session.execute(FUZZ_SCHEMA);
    this.snapshot = await this.read();
  }

  /** Every row of every table, deleted ones and `_seq` included. */
  async read(): Promise<Snapshot> {
    const out: Snapshot = {};
    for (const t of Object.keys(FUZZ_TABLES)) {
      const where = t === 'app.e' ? '' : ' WHERE _deleted OR NOT _deleted';
      out[t] = (await this.session.query(`SELECT *, _seq${t === 'app.e' ? '' : ', _deleted'} FROM ${t}${where} ORDER BY _seq`)).rows;
    }
    return out;
  }

  async run(c: FuzzCase): Promise<void> {
    const started = performance.now();
    let outcome: 'ok' | KalamError;
    let hang: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        this.session.execute(c.sql, c.params as Value[]),
        new Promise((_, reject) => {
          hang = setTimeout(() => reject(new Error(`no answer after ${BUDGET_MS + 10 * MARGIN_MS} ms`)), BUDGET_MS + 10 * MARGIN_MS);
        }),
      ]);
      outcome = 'ok';
    } catch (e) {
      if (!(e instanceof KalamError)) throw new Error(`not a KalamError: ${String(e)}\n${describe_(c)}`, { cause: e });
      if (e.code === 'INTERNAL') throw new Error(`INTERNAL: ${e.message}\n${describe_(c)}`, { cause: e });
      outcome = e;
    } finally {
      clearTimeout(hang);
    }
    const elapsed = performance.now() - started;
    if (elapsed > BUDGET_MS + MARGIN_MS) throw new Error(`took ${Math.round(elapsed)} ms (budget ${BUDGET_MS} ms)\n${describe_(c)}`);
    const code = outcome === 'ok' ? 'ok' : outcome.code;
    this.codes.set(code, (this.codes.get(code) ?? 0) + 1);
    if (process.env.FUZZ_DEBUG && outcome !== 'ok' && code === process.env.FUZZ_DEBUG) console.log(outcome.message.slice(0, 150));

    const now = await this.read();
    const isRolledBack = outcome !== 'ok' || /;\s*ROLLBACK\s*$/i.test(c.sql);
    if (isRolledBack) expect(now, `a failed or rolled-back case changed the database (${code})\n${describe_(c)}`).toEqual(this.snapshot);
    this.snapshot = now;

    if (++this.cases % REOPEN_EVERY === 0) await this.reopen();
  }

  /** Closes and reopens the database: what it reads from disk must equal what it held. */
  async reopen(): Promise<void> {
    await this.db.close();
    await this.open();
    expect(await this.read(), 'after a reopen, disk differs from memory').toEqual(this.snapshot);
  }

  async close(): Promise<void> {
    await this.reopen();
    await this.db.close();
  }
}

function describe_(c: FuzzCase): string {
  const sql = c.sql.length > 600 ? `${c.sql.slice(0, 600)}… (${c.sql.length} chars)` : c.sql;
  const params = c.params.map((p) => {
    try {
      const s = typeof p === 'bigint' ? `${p}n` : typeof p === 'object' && p !== null && !(p instanceof Uint8Array) && !(p instanceof Date) ? JSON.stringify(p) : String(p);
      return s.length > 80 ? `${s.slice(0, 80)}…` : s;
    } catch {
      return '(unprintable)';
    }
  });
  return `SQL: ${sql}\nparams: [${params.join(', ')}]`;
}

async function fuzz(name: string, cases: fc.Arbitrary<FuzzCase>, seed: number): Promise<Harness> {
  const h = new Harness(name);
  await h.setUp();
  await fc.assert(
    fc.asyncProperty(cases, (c) => h.run(c)),
    { numRuns: RUNS, seed, endOnFailure: true },
  );
  await h.close();
  if (process.env.FUZZ_RUNS !== undefined) console.info(`${name}: ${h.cases} cases, seed ${seed}:`, Object.fromEntries([...h.codes].sort((a, b) => b[1] - a[1])));
  return h;
}

describe('SQL fuzzing', () => {
  it('grammar-based cases: success or a non-INTERNAL KalamError, within the budget, nothing partial, memory equals disk', async () => {
    const h = await fuzz('fuzz-grammar', grammarCase, SEED);
    expect(h.cases).toBeGreaterThanOrEqual(RUNS);
    // The grammar reaches real work, not only parse errors.
    expect(h.codes.get('ok') ?? 0).toBeGreaterThan(RUNS / 10);
  }, 600_000);

  it('mutation-based cases: success or a non-INTERNAL KalamError, within the budget, nothing partial, memory equals disk', async () => {
    const h = await fuzz('fuzz-mutation', mutationCase, SEED + 1);
    expect(h.cases).toBeGreaterThanOrEqual(RUNS);
    expect(h.codes.get('PARSE_ERROR') ?? 0).toBeGreaterThan(0);
    expect(h.codes.get('ok') ?? 0).toBeGreaterThan(0);
  }, 600_000);
});
