import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database, type Session } from '../api/database';
import { KalamError } from '../core/errors';
import type { Row, Value } from '../core/types';

let db: Database;
let root: Session;

async function setup(options: Parameters<typeof openDatabase>[0] = { storage: 'memory' }): Promise<void> {
  db = await openDatabase(options);
  root = db.session({ user: 'root', role: 'dba' });
  await root.execute(`CREATE NAMESPACE app;
    CREATE SHARED TABLE app.people (id INT PRIMARY KEY, name TEXT, dept TEXT, age INT) WITH (ACCESS_LEVEL = 'public');
    CREATE SHARED TABLE app.depts (code TEXT PRIMARY KEY, title TEXT) WITH (ACCESS_LEVEL = 'public');
    INSERT INTO app.people (id, name, dept, age) VALUES (1, 'ann', 'eng', 30), (2, 'bob', 'eng', 25), (3, 'cid', 'ops', 41);
    INSERT INTO app.depts (code, title) VALUES ('eng', 'Engineering'), ('ops', 'Operations')`);
}

beforeEach(async () => {
  await setup();
});

afterEach(async () => {
  await db.close();
});

const rows = async (sql: string, params: Value[] = [], who = root): Promise<readonly Row[]> => (await who.query(sql, params)).rows;

async function errorOf(p: Promise<unknown>): Promise<KalamError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(KalamError);
    return e as KalamError;
  }
  throw new Error('expected the statement to fail');
}

describe('CREATE VIEW and reading it', () => {
  it('returns its query’s rows, filtered, sorted and joined like a table', async () => {
    expect((await root.execute('CREATE VIEW app.engineers AS SELECT id, name, age FROM app.people WHERE dept = \'eng\''))[0].message)
      .toBe('View app.engineers created');
    expect(await rows('SELECT name FROM app.engineers ORDER BY name')).toEqual([{ name: 'ann' }, { name: 'bob' }]);
    expect(await rows('SELECT e.name FROM app.engineers e WHERE e.age > $1', [26])).toEqual([{ name: 'ann' }]);
    expect(await rows('SELECT COUNT(*) AS n FROM app.engineers')).toEqual([{ n: 2 }]);
    expect(await rows(`SELECT p.name, e.age FROM app.people p JOIN app.engineers e ON e.id = p.id ORDER BY p.id`))
      .toEqual([{ name: 'ann', age: 30 }, { name: 'bob', age: 25 }]);
    expect(await rows(`SELECT name FROM app.people WHERE id IN (SELECT id FROM app.engineers) ORDER BY id`))
      .toEqual([{ name: 'ann' }, { name: 'bob' }]);
  });

  it('sees rows written after it was created (it stores the query, not its rows)', async () => {
    await root.execute('CREATE VIEW app.everyone AS SELECT name FROM app.people');
    await root.execute(`INSERT INTO app.people (id, name, dept, age) VALUES (4, 'dee', 'eng', 50)`);
    expect(await rows('SELECT name FROM app.everyone ORDER BY name')).toEqual(['ann', 'bob', 'cid', 'dee'].map((name) => ({ name })));
  });

  it('resolves unqualified names in the view’s namespace, whatever namespace the reader is in', async () => {
    await root.execute('USE app; CREATE VIEW ages AS SELECT name, age FROM people');
    const other = db.session({ user: 'root', role: 'dba' }); // namespace default
    await other.execute('CREATE SHARED TABLE default.people (id INT PRIMARY KEY, name TEXT, age INT)');
    await other.execute(`INSERT INTO default.people (id, name, age) VALUES (9, 'zed', 99)`);
    expect(await rows('SELECT name FROM app.ages WHERE age > 40', [], other)).toEqual([{ name: 'cid' }]);
    expect(await rows('SELECT name FROM ages WHERE age > 40')).toEqual([{ name: 'cid' }]);
  });

  it('keeps the reader’s WITH names and columns out of the view’s query', async () => {
    await root.execute('USE app; CREATE VIEW names AS SELECT name FROM people');
    // The reader's CTE called `people` does not replace the table the view reads.
    expect(await rows(`WITH people AS (SELECT 'fake' AS name) SELECT name FROM app.names ORDER BY name`))
      .toEqual([{ name: 'ann' }, { name: 'bob' }, { name: 'cid' }]);
    // A reader's CTE may share the view's name: the CTE wins, as for tables.
    expect(await rows(`WITH names AS (SELECT 'cte' AS name) SELECT name FROM names`)).toEqual([{ name: 'cte' }]);
  });

  it('renames columns with a column list', async () => {
    await root.execute('CREATE VIEW app.short (who, years) AS SELECT name, age, dept FROM app.people WHERE id = 1');
    expect(await rows('SELECT * FROM app.short')).toEqual([{ who: 'ann', years: 30, dept: 'eng' }]);
    expect(await rows('SELECT x.who, x.years FROM app.short AS x')).toEqual([{ who: 'ann', years: 30 }]);
    expect((await errorOf(root.execute('CREATE VIEW app.bad (a, b) AS SELECT name FROM app.people'))).code).toBe('INVALID_SQL');
  });

  it('reads other views, in other namespaces too', async () => {
    await root.execute(`CREATE NAMESPACE rpt;
      CREATE VIEW app.adults AS SELECT id, name, dept FROM app.people WHERE age >= 30;
      CREATE VIEW rpt.adult_depts AS SELECT a.name, d.title FROM app.adults a JOIN app.depts d ON d.code = a.dept`);
    expect(await rows('SELECT * FROM rpt.adult_depts ORDER BY name')).toEqual([
      { name: 'ann', title: 'Engineering' },
      { name: 'cid', title: 'Operations' },
    ]);
  });
});

describe('CREATE VIEW checks', () => {
  it('refuses a query that does not plan, naming what is wrong', async () => {
    const missing = await errorOf(root.execute('CREATE VIEW app.v AS SELECT nope FROM app.people'));
    expect(missing.code).toBe('COLUMN_NOT_FOUND');
    expect((await errorOf(root.execute('CREATE VIEW app.v AS SELECT * FROM app.ghost'))).code).toBe('TABLE_NOT_FOUND');
    expect((await errorOf(root.execute('CREATE VIEW nowhere.v AS SELECT 1 AS one'))).code).toBe('NAMESPACE_NOT_FOUND');
    expect(await rows(`SELECT view_name FROM system.views`)).toEqual([]);
  });

  it('refuses parameters, duplicate output names, and writes as the query', async () => {
    const param = await errorOf(root.execute('CREATE VIEW app.v AS SELECT * FROM app.people WHERE id = $1', [1]));
    expect([param.code, param.message]).toEqual(['INVALID_SQL', expect.stringContaining('cannot use parameters')]);
    const dup = await errorOf(root.execute('CREATE VIEW app.v (id) AS SELECT name, id FROM app.people'));
    expect([dup.code, dup.message]).toEqual(['DUPLICATE_COLUMN', expect.stringContaining('AS')]);
    expect((await errorOf(root.execute(`CREATE VIEW app.v AS DELETE FROM app.people WHERE id = 1`))).code).toBe('PARSE_ERROR');
    expect((await errorOf(root.execute('CREATE OR REPLACE VIEW IF NOT EXISTS app.v AS SELECT 1 AS x'))).code).toBe('INVALID_SQL');
  });

  it('plans the query for its creator: tables they may not read refuse the view', async () => {
    await root.execute(`CREATE SHARED TABLE app.payroll (id INT PRIMARY KEY, pay INT) WITH (ACCESS_LEVEL = 'dba')`);
    const svc = db.session({ user: 'svc', role: 'service' });
    expect((await errorOf(svc.execute('CREATE VIEW app.pay AS SELECT pay FROM app.payroll'))).code).toBe('PERMISSION_DENIED');
    expect((await errorOf(svc.execute('CREATE VIEW app.who AS SELECT user_id FROM system.users'))).code).toBe('PERMISSION_DENIED');
    // A dba may: and a dba reading it gets the system table's rows.
    await root.execute('CREATE VIEW app.table_names AS SELECT table_name FROM system.tables WHERE namespace_id = \'app\'');
    expect(await rows('SELECT * FROM app.table_names ORDER BY table_name')).toEqual([{ table_name: 'depts' }, { table_name: 'payroll' }, { table_name: 'people' }]);
  });

  it('keeps tables and views apart: one name, one kind', async () => {
    const onTable = await errorOf(root.execute('CREATE VIEW app.people AS SELECT 1 AS x'));
    expect([onTable.code, onTable.message]).toEqual(['TABLE_EXISTS', expect.stringContaining('cannot share a name')]);
    await root.execute('CREATE VIEW app.v AS SELECT name FROM app.people');
    const onView = await errorOf(root.execute('CREATE SHARED TABLE app.v (id INT PRIMARY KEY)'));
    expect([onView.code, onView.message]).toEqual(['TABLE_EXISTS', expect.stringContaining('View app.v already exists')]);
    expect((await root.execute('CREATE SHARED TABLE IF NOT EXISTS app.v (id INT PRIMARY KEY)'))[0].message).toBe('View app.v already exists');
    for (const sql of ['DROP TABLE app.v', 'DROP TABLE IF EXISTS app.v', 'ALTER TABLE app.v ADD COLUMN x INT', 'FLUSH TABLE app.v', 'SHOW STATS FOR TABLE app.v']) {
      const e = await errorOf(root.execute(sql));
      expect([sql, e.code, e.message]).toEqual([sql, 'INVALID_SQL', expect.stringContaining("'app.v' is a view, not a table")]);
    }
    const dropTableAsView = await errorOf(root.execute('DROP VIEW app.people'));
    expect([dropTableAsView.code, dropTableAsView.message]).toEqual(['INVALID_SQL', expect.stringContaining('use DROP TABLE'.slice(4))]);
  });

  it('is all-or-nothing: a refused CREATE OR REPLACE keeps the old query', async () => {
    await root.execute('CREATE VIEW app.v AS SELECT name FROM app.people WHERE id = 1');
    await errorOf(root.execute('CREATE OR REPLACE VIEW app.v AS SELECT missing FROM app.people'));
    expect(await rows('SELECT * FROM app.v')).toEqual([{ name: 'ann' }]);
  });
});

describe('IF [NOT] EXISTS, OR REPLACE and DROP VIEW', () => {
  it('create, replace and drop, each as the statement says', async () => {
    await root.execute('CREATE VIEW app.v AS SELECT name FROM app.people WHERE id = 1');
    expect((await errorOf(root.execute('CREATE VIEW app.v AS SELECT 1 AS x'))).code).toBe('TABLE_EXISTS');
    expect((await root.execute('CREATE VIEW IF NOT EXISTS app.v AS SELECT 1 AS x'))[0].message).toBe('View app.v already exists');
    expect(await rows('SELECT * FROM app.v')).toEqual([{ name: 'ann' }]);
    expect((await root.execute('CREATE OR REPLACE VIEW app.v AS SELECT age FROM app.people WHERE id = 3'))[0].message).toBe('View app.v replaced');
    expect(await rows('SELECT * FROM app.v')).toEqual([{ age: 41 }]);
    expect((await root.execute('DROP VIEW app.v'))[0].message).toBe("View 'app.v' dropped");
    const gone = await errorOf(root.query('SELECT * FROM app.v'));
    expect(gone.code).toBe('TABLE_NOT_FOUND');
    expect((await errorOf(root.execute('DROP VIEW app.v'))).code).toBe('TABLE_NOT_FOUND');
    expect((await root.execute('DROP VIEW IF EXISTS app.v'))[0].message).toBe("View 'app.v' does not exist");
  });

  it('DROP NAMESPACE removes its views', async () => {
    await root.execute(`CREATE NAMESPACE tmp; CREATE VIEW tmp.v AS SELECT 1 AS one; CREATE VIEW app.keep AS SELECT 2 AS two`);
    await root.execute('DROP NAMESPACE tmp');
    expect(await rows('SELECT namespace_id, view_name FROM system.views')).toEqual([{ namespace_id: 'app', view_name: 'keep' }]);
    await root.execute('CREATE NAMESPACE tmp');
    expect((await errorOf(root.query('SELECT * FROM tmp.v'))).code).toBe('TABLE_NOT_FOUND');
  });

  it('CREATE OR REPLACE that would make a view read itself is refused, and a cycle never plans', async () => {
    await root.execute(`CREATE VIEW app.a AS SELECT id, name FROM app.people;
      CREATE VIEW app.b AS SELECT id, name FROM app.a`);
    const cycle = await errorOf(root.execute('CREATE OR REPLACE VIEW app.a AS SELECT id, name FROM app.b'));
    expect([cycle.code, cycle.message]).toEqual(['INVALID_SQL', expect.stringContaining('app.a → app.b → app.a')]);
    const self = await errorOf(root.execute('CREATE OR REPLACE VIEW app.a AS SELECT id, name FROM app.a'));
    expect([self.code, self.message]).toEqual(['INVALID_SQL', expect.stringContaining('reads itself')]);
    expect(await rows('SELECT COUNT(*) AS n FROM app.b')).toEqual([{ n: 3 }]);
  });

  it('a chain of views past maxViewExpansions is LIMIT_EXCEEDED naming the option', async () => {
    await db.close();
    await setup({ storage: 'memory', maxViewExpansions: 3 });
    await root.execute(`CREATE VIEW app.v1 AS SELECT id FROM app.people;
      CREATE VIEW app.v2 AS SELECT id FROM app.v1; CREATE VIEW app.v3 AS SELECT id FROM app.v2`);
    expect(await rows('SELECT COUNT(*) AS n FROM app.v3')).toEqual([{ n: 3 }]);
    const e = await errorOf(root.execute('CREATE VIEW app.v4 AS SELECT id FROM app.v3 UNION SELECT id FROM app.v1'));
    expect([e.code, e.message]).toEqual(['LIMIT_EXCEEDED', expect.stringContaining('maxViewExpansions')]);
    // Each use counts: two reads of v2 expand four views.
    const twice = await errorOf(root.query('SELECT x.id FROM app.v2 x JOIN app.v2 y ON x.id = y.id'));
    expect(twice.code).toBe('LIMIT_EXCEEDED');
  });

  it('a view whose table lost a column says so, naming the view', async () => {
    await root.execute('CREATE VIEW app.v AS SELECT name, age FROM app.people');
    await root.execute('ALTER TABLE app.people DROP COLUMN age');
    const e = await errorOf(root.query('SELECT * FROM app.v'));
    expect([e.code, e.message]).toEqual(['COLUMN_NOT_FOUND', expect.stringContaining("(in view 'app.v')")]);
  });
});

describe('statement forms', () => {
  it('an unqualified CREATE VIEW goes to the session’s namespace; system is reserved', async () => {
    const inApp = db.session({ user: 'root', role: 'dba', namespace: 'app' });
    await inApp.execute('CREATE VIEW names AS SELECT name FROM people WHERE id = 1');
    expect(await rows('SELECT * FROM app.names')).toEqual([{ name: 'ann' }]);
    expect((await errorOf(root.execute('CREATE VIEW system.v AS SELECT 1 AS x'))).code).toBe('PERMISSION_DENIED');
    expect((await errorOf(root.execute('CREATE VIEW app.select AS SELECT 1 AS x'))).code).toBe('INVALID_NAME');
  });

  it('DROP VIEW of several views or with CASCADE is UNSUPPORTED, saying what to write instead', async () => {
    const many = await errorOf(root.execute('DROP VIEW app.a, app.b'));
    expect([many.code, many.message]).toEqual(['UNSUPPORTED', expect.stringContaining('one DROP VIEW for each')]);
    const cascade = await errorOf(root.execute('DROP VIEW app.a CASCADE'));
    expect([cascade.code, cascade.message]).toEqual(['UNSUPPORTED', expect.stringContaining('drop the views that read this one first')]);
  });

  it('CREATE and DROP VIEW are refused inside a transaction', async () => {
    const e = await errorOf(root.execute('BEGIN; CREATE VIEW app.v AS SELECT 1 AS x; COMMIT'));
    expect(e.code).toBe('TRANSACTION_ERROR');
    expect(await rows('SELECT view_name FROM system.views')).toEqual([]);
  });
});

describe('views are read-only', () => {
  it.each([
    [`INSERT INTO app.v (name) VALUES ('x')`, 'INSERT into'],
    [`UPDATE app.v SET name = 'x' WHERE name = 'ann'`, 'UPDATE'],
    [`DELETE FROM app.v WHERE name = 'ann'`, 'DELETE from'],
  ])('%s is refused', async (sql, verb) => {
    await root.execute('CREATE VIEW app.v AS SELECT id, name FROM app.people');
    const e = await errorOf(root.execute(sql));
    expect([e.code, e.message]).toEqual(['INVALID_SQL', `Cannot ${verb} 'app.v': it is a view, and views are read-only. Write to the table its query reads instead`]);
    expect(await rows('SELECT COUNT(*) AS n FROM app.people')).toEqual([{ n: 3 }]);
  });

  it('a write may read a view', async () => {
    await root.execute(`CREATE VIEW app.olds AS SELECT id FROM app.people WHERE age > 35;
      CREATE SHARED TABLE app.archive (id INT PRIMARY KEY)`);
    await root.execute('INSERT INTO app.archive (id) SELECT id FROM app.olds');
    await root.execute('DELETE FROM app.people WHERE id IN (SELECT id FROM app.olds)');
    expect(await rows('SELECT id FROM app.archive')).toEqual([{ id: 3 }]);
    expect(await rows('SELECT COUNT(*) AS n FROM app.people')).toEqual([{ n: 2 }]);
  });
});

/** The plan_cache_* counters of system.stats. */
async function cacheStats(): Promise<Record<string, number>> {
  const r = await rows(`SELECT metric_name, metric_value FROM system.stats`);
  return Object.fromEntries(r.filter((x) => String(x.metric_name).startsWith('plan_cache_')).map((x) => [x.metric_name as string, Number(x.metric_value)]));
}

describe('the plan cache and views', () => {
  it('never serves a plan made with an older definition after CREATE OR REPLACE or DROP VIEW', async () => {
    await root.execute('CREATE VIEW app.v AS SELECT name FROM app.people WHERE id = 1');
    const sql = 'SELECT * FROM app.v';
    expect(await rows(sql)).toEqual([{ name: 'ann' }]);
    expect(await rows(sql)).toEqual([{ name: 'ann' }]); // cached
    await cacheStats(); // its own plan is cached from here on: reading the counters moves only plan_cache_hits
    await root.execute('CREATE OR REPLACE VIEW app.v AS SELECT name, age FROM app.people WHERE id = 2');
    const replaced = await cacheStats();
    expect(await rows(sql)).toEqual([{ name: 'bob', age: 25 }]);
    const after = await cacheStats();
    expect(after.plan_cache_invalidations).toBe(replaced.plan_cache_invalidations + 1);
    expect(after.plan_cache_misses).toBe(replaced.plan_cache_misses + 1);
    await root.execute('DROP VIEW app.v');
    expect((await errorOf(root.query(sql))).code).toBe('TABLE_NOT_FOUND');
    await root.execute('CREATE SHARED TABLE app.v (name TEXT PRIMARY KEY)');
    await root.execute(`INSERT INTO app.v (name) VALUES ('now a table')`);
    expect(await rows(sql)).toEqual([{ name: 'now a table' }]);
  });

  it('a nested view’s replacement reaches plans of the views that read it', async () => {
    await root.execute('CREATE VIEW app.inner_v AS SELECT id FROM app.people WHERE id < 3; CREATE VIEW app.outer_v AS SELECT COUNT(*) AS n FROM app.inner_v');
    expect(await rows('SELECT n FROM app.outer_v')).toEqual([{ n: 2 }]);
    await root.execute('CREATE OR REPLACE VIEW app.inner_v AS SELECT id FROM app.people');
    expect(await rows('SELECT n FROM app.outer_v')).toEqual([{ n: 3 }]);
  });
});

describe('introspection', () => {
  it('system.views lists each view with its query; SHOW TABLES and DESCRIBE show views', async () => {
    await root.execute(`CREATE VIEW app.ages (who, years) AS SELECT name, age FROM app.people`);
    const [v] = await rows('SELECT * FROM system.views');
    expect(v).toMatchObject({ namespace_id: 'app', view_name: 'ages', definition: 'SELECT name, age FROM app.people', column_names: ['who', 'years'] });
    expect(typeof v.created_at).toBe('number');
    expect(await rows('SHOW TABLES IN app')).toEqual([
      { namespace_id: 'app', table_name: 'ages', table_type: 'VIEW' },
      { namespace_id: 'app', table_name: 'depts', table_type: 'SHARED' },
      { namespace_id: 'app', table_name: 'people', table_type: 'SHARED' },
    ]);
    expect((await rows('DESCRIBE TABLE app.ages')).map((r) => [r.column_name, r.data_type])).toEqual([['who', 'TEXT'], ['years', 'INT']]);
    expect(await rows(`SELECT metric_value FROM system.stats WHERE metric_name = 'views'`)).toEqual([{ metric_value: '1' }]);
  });

  it('system.views is for dba and system, like every system table', async () => {
    const e = await errorOf(db.session({ user: 'u', role: 'user' }).query('SELECT * FROM system.views'));
    expect(e.code).toBe('PERMISSION_DENIED');
  });
});

describe('persistence', () => {
  it('views, their replacements and drops survive a reopen on IndexedDB', async () => {
    await db.close();
    const indexedDB = new IDBFactory();
    await setup({ storage: 'idb', name: 'views', indexedDB });
    await root.execute(`CREATE VIEW app.a AS SELECT name FROM app.people WHERE id = 1;
      CREATE VIEW app.b (n) AS SELECT COUNT(*) FROM app.a;
      CREATE VIEW app.gone AS SELECT 1 AS x;
      CREATE OR REPLACE VIEW app.a AS SELECT name FROM app.people WHERE id <= 2;
      DROP VIEW app.gone`);
    const before = await rows('SELECT namespace_id, view_name, definition, column_names, created_at, updated_at FROM system.views ORDER BY view_name');
    await db.close();
    db = await openDatabase({ storage: 'idb', name: 'views', indexedDB });
    root = db.session({ user: 'root', role: 'dba' });
    expect(await rows('SELECT namespace_id, view_name, definition, column_names, created_at, updated_at FROM system.views ORDER BY view_name')).toEqual(before);
    expect(before.map((r) => r.view_name)).toEqual(['a', 'b']);
    expect(await rows('SELECT n FROM app.b')).toEqual([{ n: 2 }]);
    expect((await errorOf(root.query('SELECT * FROM app.gone'))).code).toBe('TABLE_NOT_FOUND');
  });
});
