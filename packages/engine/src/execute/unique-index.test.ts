import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KalamError } from '../core/errors';
import type { Value } from '../core/types';
import type { KvStore } from '../storage/kv';
import { openMemoryStore } from '../storage/memory';
import { Engine, type SessionState } from './engine';

const root: SessionState = { user: 'root', role: 'dba', namespace: 'default' };
const as = (user: string): SessionState => ({ user, role: 'user', namespace: 'default' });

/** A memory store that outlives the engines opened over it. */
function durable(kv: KvStore): KvStore {
  return { kind: kv.kind, get: (s, k) => kv.get(s, k), scan: (s, r, v) => kv.scan(s, r, v), commit: (w) => kv.commit(w), close: async () => undefined };
}

let kv: KvStore;
let engine: Engine;
const open = () => Engine.open({ storage: kv, rowGroupRows: 4, maxSegmentRows: 16, flushCheckIntervalMs: 0 });

beforeEach(async () => {
  kv = durable(openMemoryStore());
  engine = await open();
  await engine.execute(root, `CREATE NAMESPACE app;
    CREATE SHARED TABLE app.people (id INT PRIMARY KEY, email TEXT, team TEXT, n INT);
    CREATE USER TABLE app.notes (id INT PRIMARY KEY, slug TEXT);
    CREATE UNIQUE INDEX by_email ON app.people (email);
    CREATE UNIQUE INDEX by_team_n ON app.people (team, n);
    CREATE UNIQUE INDEX by_slug ON app.notes (slug)`);
  await engine.execute(root, `INSERT INTO app.people (id, email, team, n) VALUES (1, 'a@x', 'red', 1), (2, 'b@x', 'red', 2), (3, NULL, 'blue', NULL)`);
});

afterEach(async () => {
  await engine.close();
});

const run = (sql: string, who: SessionState = root, params: Value[] = []) => engine.execute(who, sql, params);
const rows = async (sql: string, who: SessionState = root) => (await run(sql, who))[0].rows;

async function errorOf(p: Promise<unknown>): Promise<KalamError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(KalamError);
    return e as KalamError;
  }
  throw new Error('expected the statement to fail');
}

const flush = async () => {
  await run('FLUSH TABLE app.people');
  await engine.jobs.idle();
};

const ids = async () => (await rows('SELECT id FROM app.people ORDER BY id')).map((r) => r.id);

describe('UNIQUE indexes', () => {
  it('refuse a repeated value, naming the column and the value; the whole INSERT writes nothing', async () => {
    const e = await errorOf(run(`INSERT INTO app.people (id, email) VALUES (10, 'new@x'), (11, 'a@x')`));
    expect(e.code).toBe('UNIQUE_VIOLATION');
    expect(e.message).toContain(`'a@x'`);
    expect(e.message).toContain(`column 'email'`);
    expect(e.message).toContain('app.by_email');
    expect(await ids()).toEqual([1, 2, 3]);
  });

  it('refuse two rows of one statement sharing a value, and name every column of a multi-column index', async () => {
    expect((await errorOf(run(`INSERT INTO app.people (id, email) VALUES (10, 'z@x'), (11, 'z@x')`))).code).toBe('UNIQUE_VIOLATION');
    const e = await errorOf(run(`INSERT INTO app.people (id, team, n) VALUES (12, 'red', 2)`));
    expect(e.message).toContain(`columns (team, n)`);
    expect(await ids()).toEqual([1, 2, 3]);
  });

  it('let NULLs repeat (PostgreSQL rule), in single and multi-column indexes', async () => {
    await run(`INSERT INTO app.people (id, email, team, n) VALUES (10, NULL, 'blue', NULL), (11, NULL, NULL, 5), (12, NULL, NULL, 5)`);
    expect(await ids()).toEqual([1, 2, 3, 10, 11, 12]);
  });

  it('check UPDATEs: moving onto a taken value fails whole, keeping or swapping free values works', async () => {
    expect((await errorOf(run(`UPDATE app.people SET email = 'a@x' WHERE id = 2`))).code).toBe('UNIQUE_VIOLATION');
    expect((await errorOf(run(`UPDATE app.people SET email = 'same@x' WHERE id IN (1, 2)`))).code).toBe('UNIQUE_VIOLATION');
    await run(`UPDATE app.people SET n = n WHERE id IN (1, 2)`);
    await run(`UPDATE app.people SET email = 'c@x' WHERE id = 1`);
    await run(`UPDATE app.people SET email = 'a@x' WHERE id = 2`);
    expect(await rows('SELECT id, email FROM app.people WHERE id < 3 ORDER BY id')).toEqual([{ id: 1, email: 'c@x' }, { id: 2, email: 'a@x' }]);
  });

  it('a deleted row frees its value', async () => {
    await run('DELETE FROM app.people WHERE id = 1');
    await run(`INSERT INTO app.people (id, email) VALUES (20, 'a@x')`);
    expect(await ids()).toEqual([2, 3, 20]);
  });

  it('see cold rows: a flushed value stays taken, a cold row deleted or changed in the hot tier frees it', async () => {
    await flush();
    expect(await engine.cold.manifest.hasSegments(engine.catalog.requireTable('app', 'people').id, '')).toBe(true);
    expect((await errorOf(run(`INSERT INTO app.people (id, email) VALUES (10, 'b@x')`))).code).toBe('UNIQUE_VIOLATION');
    expect((await errorOf(run(`INSERT INTO app.people (id, team, n) VALUES (10, 'red', 1)`))).code).toBe('UNIQUE_VIOLATION');
    await run('DELETE FROM app.people WHERE id = 2');
    await run(`UPDATE app.people SET email = 'moved@x' WHERE id = 1`);
    await run(`INSERT INTO app.people (id, email) VALUES (10, 'b@x'), (11, 'a@x')`);
    await flush();
    expect((await errorOf(run(`INSERT INTO app.people (id, email) VALUES (12, 'moved@x')`))).code).toBe('UNIQUE_VIOLATION');
    expect(await ids()).toEqual([1, 3, 10, 11]);
  });

  it('are per user on USER tables: each user has their own values', async () => {
    await run(`INSERT INTO app.notes (id, slug) VALUES (1, 'hello')`, as('alice'));
    await run(`INSERT INTO app.notes (id, slug) VALUES (1, 'hello')`, as('bob'));
    expect((await errorOf(run(`INSERT INTO app.notes (id, slug) VALUES (2, 'hello')`, as('alice')))).code).toBe('UNIQUE_VIOLATION');
    expect(await rows('SELECT id, slug FROM app.notes', as('bob'))).toEqual([{ id: 1, slug: 'hello' }]);
  });

  it('a transaction that would repeat a value is rolled back whole at COMMIT', async () => {
    const e = await errorOf(run(`BEGIN; INSERT INTO app.people (id, email) VALUES (30, 'tx@x'); UPDATE app.people SET email = 'b@x' WHERE id = 1; COMMIT`));
    expect(e.code).toBe('UNIQUE_VIOLATION');
    expect(await ids()).toEqual([1, 2, 3]);
    await run(`BEGIN; UPDATE app.people SET email = 'tmp@x' WHERE id = 2; UPDATE app.people SET email = 'b@x' WHERE id = 1; COMMIT`);
    expect(await rows('SELECT email FROM app.people WHERE id = 1')).toEqual([{ email: 'b@x' }]);
  });

  it('in one group commit, the statement that repeats a value fails and the others commit', async () => {
    const results = await Promise.allSettled([
      run(`INSERT INTO app.people (id, email) VALUES (40, 'g@x')`),
      run(`INSERT INTO app.people (id, email) VALUES (41, 'g@x')`),
      run(`INSERT INTO app.people (id, email) VALUES (42, 'h@x')`),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(((results[1] as PromiseRejectedResult).reason as KalamError).code).toBe('UNIQUE_VIOLATION');
    expect(await ids()).toEqual([1, 2, 3, 40, 42]);
  });

  it('CREATE UNIQUE INDEX over repeated values (hot or cold) fails and creates nothing', async () => {
    await run('DROP INDEX app.by_team_n');
    await run(`INSERT INTO app.people (id, email, team, n) VALUES (50, 'x@x', 'green', 1), (51, 'y@x', 'green', 1)`);
    await flush();
    const e = await errorOf(run('CREATE UNIQUE INDEX by_team_n ON app.people (team, n)'));
    expect(e.code).toBe('UNIQUE_VIOLATION');
    expect(e.message).toContain(`'green', 1`);
    expect(await rows(`SELECT index_name FROM system.indexes WHERE index_name = 'by_team_n'`)).toEqual([]);
    await run('CREATE UNIQUE INDEX by_team_n ON app.people (team, n DESC, id)');
  });

  it('are enforced after a reopen', async () => {
    await engine.close();
    engine = await open();
    expect((await errorOf(run(`INSERT INTO app.people (id, email) VALUES (60, 'a@x')`))).code).toBe('UNIQUE_VIOLATION');
    await run(`INSERT INTO app.people (id, email) VALUES (60, 'fresh@x')`);
  });

  it('hot index entries are counted in system.stats', async () => {
    await run(`INSERT INTO app.people (id, email) VALUES (70, 'q@x')`);
    const stat = await rows(`SELECT metric_value FROM system.stats WHERE metric_name = 'hot_index_entries'`);
    expect(Number(stat[0].metric_value)).toBeGreaterThan(0);
  });
});

describe('UNIQUE indexes against a model (property)', () => {
  type Row = { id: number; email: string | null };
  type Step =
    | { kind: 'insert'; rows: Row[] }
    | { kind: 'update'; ids: number[]; email: string | null }
    | { kind: 'delete'; id: number }
    | { kind: 'tx'; inserts: Row[]; updateId: number; email: string | null }
    | { kind: 'flush' | 'compact' | 'reopen' };
  const email = fc.option(fc.constantFrom('a', 'b', 'c', 'd', 'e'), { freq: 5 });
  const id = fc.integer({ min: 0, max: 12 });
  const rowArb = fc.record({ id, email });
  const stepArb: fc.Arbitrary<Step> = fc.oneof(
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('insert' as const), rows: fc.array(rowArb, { minLength: 1, maxLength: 4 }) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('update' as const), ids: fc.array(id, { minLength: 1, maxLength: 3 }), email }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), id }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('tx' as const), inserts: fc.array(rowArb, { maxLength: 2 }), updateId: id, email }) },
    { weight: 2, arbitrary: fc.constantFrom({ kind: 'flush' as const }, { kind: 'compact' as const }, { kind: 'reopen' as const }) },
  );
  const lit = (v: string | null) => (v === null ? 'NULL' : `'${v}'`);
  /** The model's table after a statement, or the error code the statement must fail with (and change nothing). */
  const after = (model: Map<number, string | null>, inserts: Row[], updates: [number[], string | null][]): Map<number, string | null> | string => {
    const next = new Map(model);
    const seen = new Set<number>();
    for (const r of inserts) {
      if (next.has(r.id) || seen.has(r.id)) return 'PRIMARY_KEY_VIOLATION';
      seen.add(r.id);
      next.set(r.id, r.email);
    }
    for (const [ids, e] of updates) for (const k of ids) if (next.has(k)) next.set(k, e);
    const values = [...next.values()].filter((v) => v !== null);
    return new Set(values).size === values.length ? next : 'UNIQUE_VIOLATION';
  };

  it('every statement and transaction either writes whole or fails with its violation and writes nothing, through flushes, compactions and reopens', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 14 }), async (steps) => {
        await run('DELETE FROM app.people WHERE id >= 0');
        const model = new Map<number, string | null>();
        for (const step of steps) {
          let sql: string;
          let expected: Map<number, string | null> | string | undefined;
          switch (step.kind) {
            case 'flush': await flush(); continue;
            case 'compact': await run('STORAGE COMPACT TABLE app.people'); await engine.jobs.idle(); continue;
            case 'reopen': await engine.close(); engine = await open(); continue;
            case 'insert':
              sql = `INSERT INTO app.people (id, email) VALUES ${step.rows.map((r) => `(${r.id}, ${lit(r.email)})`).join(', ')}`;
              expected = after(model, step.rows, []);
              break;
            case 'update':
              sql = `UPDATE app.people SET email = ${lit(step.email)} WHERE id IN (${step.ids.join(', ')})`;
              expected = after(model, [], [[step.ids, step.email]]);
              break;
            case 'delete':
              sql = `DELETE FROM app.people WHERE id = ${step.id}`;
              expected = new Map(model);
              expected.delete(step.id);
              break;
            case 'tx': {
              const inserts = step.inserts.map((r) => `INSERT INTO app.people (id, email) VALUES (${r.id}, ${lit(r.email)});`).join(' ');
              sql = `BEGIN; ${inserts} UPDATE app.people SET email = ${lit(step.email)} WHERE id = ${step.updateId}; COMMIT`;
              expected = after(model, step.inserts, [[[step.updateId], step.email]]);
              break;
            }
          }
          const outcome = await run(sql).then(() => 'ok', (e: KalamError) => e.code);
          if (typeof expected === 'string') expect(outcome, sql).toBe(expected);
          else {
            expect(outcome, sql).toBe('ok');
            model.clear();
            for (const [k, v] of expected) model.set(k, v);
          }
          const table = await rows('SELECT id, email FROM app.people ORDER BY id');
          expect(table, sql).toEqual([...model].sort((x, y) => x[0] - y[0]).map(([k, v]) => ({ id: k, email: v })));
        }
      }),
      { numRuns: 30 },
    );
  });
});
