/**
 * Isolation attack suite (issue 3). Bob (role `user`) tries to read or
 * change alice's USER and STREAM rows and to read a `private` SHARED table
 * through every SQL shape we could think of. Each attempt must return only
 * bob's own data or fail with PERMISSION_DENIED; after each one, alice's
 * rows, alice's events and the vault must be byte-for-byte unchanged.
 * Fixture and judges: isolation.fixture.ts. This file holds reads;
 * writes, EXECUTE AS, transactions, schema changes and live queries are in
 * isolation-writes.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KalamError } from '../core/errors';
import {
  attempt,
  bobSecrets,
  buildFixture,
  codeOf,
  expectBobRows,
  expectBobWrite,
  expectDenied,
  expectRefused,
  expectNoLeak,
  expectUntouched,
  findLeak,
  snapshot,
  type Fixture,
} from './isolation.fixture';
import type { Session } from './database';
import type { Row, StatementResult, Value } from '../core/types';

let f: Fixture;

beforeEach(async () => {
  f = await buildFixture();
});

afterEach(async () => {
  await f.db.close();
});

const BOB = [
  { id: 'bob-k1', secret: 'bob-1', amount: 1 },
  { id: 'k-common', secret: 'bob-2', amount: 2 },
];
const BOB_EVENT = { id: 'be1', kind: 'login', payload: 'bob-event-1', n: 4 };

type RowsCase = { name: string; sql: string; rows: Record<string, Value>[]; params?: Value[] };
type DeniedCase = { name: string; sql: string; params?: Value[] };

/** it.each rows as [title, case], so titles print in full ('$name' would cut them at 40 characters). */
const named = <T extends { name: string }>(cases: T[]): [string, T][] => cases.map((c) => [c.name, c]);

describe('fixture', () => {
  it('declares alice and bob with CREATE USER as a dba', async () => {
    expect(f.createUserError?.message ?? null).toBeNull();
    const users = await f.root.query(`SELECT user_id, role FROM system.users WHERE user_id = 'alice' OR user_id = 'bob' ORDER BY user_id`);
    expect(users.rows).toEqual([{ user_id: 'alice', role: 'user' }, { user_id: 'bob', role: 'user' }]);
  });

  it('gives bob exactly his own rows, tombstone and event to compare against', async () => {
    expect(await bobSecrets(f)).toEqual([
      { id: 'bob-del', secret: 'bob-deleted', amount: 3, _deleted: true },
      { id: 'bob-k1', secret: 'bob-1', amount: 1, _deleted: false },
      { id: 'k-common', secret: 'bob-2', amount: 2, _deleted: false },
    ]);
    expect((await f.bob.query(`SELECT id, kind, payload, n FROM app.events`)).rows).toEqual([BOB_EVENT]);
  });
  it('the baseline helper itself notices a change (so the write checks can fail)', async () => {
    await f.alice.execute(`UPDATE app.secrets SET amount = 1 WHERE id = 'alice-k1'`);
    expect(await codeOf(expectUntouched(f))).toMatch(/non-KalamError: Error: LEAK \(write\): aliceSecrets changed/);
    const now = await snapshot(f);
    expect(now.aliceSecrets.find((r) => r.id === 'alice-k1')?.amount).toBe(1);
  });

  it('the leak scanner finds alice and vault values, keys and _seq anywhere in a result', () => {
    const seq = [...f.forbiddenSeqs][0];
    expect(findLeak([{ a: 'ok' }, { b: ['x', { c: 'ALICE-SECRET-1' }] }], f.forbiddenSeqs)).toMatch(/ALICE-SECRET-1/);
    expect(findLeak({ 'VAULT-TOKEN-1': 1 }, f.forbiddenSeqs)).toMatch(/key/);
    expect(findLeak({ s: 'alice-k1' }, f.forbiddenSeqs)).toMatch(/alice-k1/);
    expect(findLeak({ n: 91001 }, f.forbiddenSeqs)).toMatch(/91001/);
    expect(findLeak({ seq }, f.forbiddenSeqs)).toMatch(/_seq/);
    expect(findLeak({ rows: BOB, msg: "Insufficient privileges to read shared table 'app.vault'", who: 'alice' }, f.forbiddenSeqs)).toBeNull();
  });
});

describe('plain SELECT returns only bob’s rows', () => {
  it.each(named<RowsCase>([
    { name: 'a qualified SELECT *', sql: `SELECT * FROM app.secrets`, rows: BOB },
    { name: 'an unqualified SELECT after USE app', sql: `USE app; SELECT * FROM secrets`, rows: BOB },
    { name: 'upper-case APP.SECRETS', sql: `SELECT * FROM APP.SECRETS`, rows: BOB },
    { name: 'mixed-case App.Secrets and keywords', sql: `sElEcT * fRoM App.Secrets`, rows: BOB },
    { name: 'quoted "app"."secrets"', sql: `SELECT * FROM "app"."secrets"`, rows: BOB },
    { name: 'quoted upper-case "APP"."SECRETS"', sql: `SELECT * FROM "APP"."SECRETS"`, rows: BOB },
    { name: 'a point lookup on alice’s primary key', sql: `SELECT * FROM app.secrets WHERE id = 'alice-k1'`, rows: [] },
    { name: 'a point lookup on the key both users have', sql: `SELECT * FROM app.secrets WHERE id = 'k-common'`, rows: [BOB[1]] },
    { name: 'a point lookup on alice’s key as a parameter', sql: `SELECT * FROM app.secrets WHERE id = $1`, params: ['alice-k2'], rows: [] },
    { name: 'an IN list of alice’s keys', sql: `SELECT * FROM app.secrets WHERE id IN ('alice-k1', 'alice-k2', 'alice-k3', 'alice-k5')`, rows: [] },
    { name: 'an IN list of alice’s keys and the common one, as parameters', sql: `SELECT * FROM app.secrets WHERE id IN ($1, $2, $3)`, params: ['alice-k1', 'k-common', 'alice-k2'], rows: [BOB[1]] },
    { name: 'an OR of alice’s keys and the common one', sql: `SELECT * FROM app.secrets WHERE id = 'alice-k1' OR id = 'k-common' OR id = 'alice-k3'`, rows: [BOB[1]] },
    { name: 'a LIKE on alice’s values', sql: `SELECT * FROM app.secrets WHERE secret LIKE 'ALICE%'`, rows: [] },
    { name: 'a range on alice’s amounts', sql: `SELECT * FROM app.secrets WHERE amount BETWEEN 90000 AND 99999`, rows: [] },
    { name: 'a table alias named alice', sql: `SELECT alice.secret FROM app.secrets AS alice ORDER BY alice.secret`, rows: [{ secret: 'bob-1' }, { secret: 'bob-2' }] },
    { name: 'CURRENT_USER() next to a count', sql: `SELECT CURRENT_USER() AS u, COUNT(*) AS c FROM app.secrets`, rows: [{ u: 'bob', c: 2 }] },
    { name: 'a predicate on CURRENT_USER() claiming to be alice', sql: `SELECT * FROM app.secrets WHERE CURRENT_USER() = 'alice' OR id = 'alice-k1'`, rows: [] },
  ]))('%s', async (_title, { sql, rows, params }) => {
    await expectBobRows(f, sql, rows, params);
  });

  it('an unqualified SELECT in a session opened on namespace app', async () => {
    const bobInApp = f.db.session({ user: 'bob', role: 'user', namespace: 'app' });
    await expectBobRows(f, `SELECT * FROM secrets`, BOB, [], bobInApp);
  });

  it('projecting _seq and _deleted returns bob’s sequence numbers, never alice’s', async () => {
    const r = await expectBobRows(f, `SELECT id, _deleted FROM app.secrets ORDER BY id`, [
      { id: 'bob-k1', _deleted: false },
      { id: 'k-common', _deleted: false },
    ]);
    expect(r.rowCount).toBe(2);
    const seqs = await attempt(f, () => f.bob.query(`SELECT _seq FROM app.secrets`), 'SELECT _seq');
    expect(seqs.kind).toBe('ok');
    if (seqs.kind === 'ok') expect(seqs.last.rows).toHaveLength(2);
  });
});

describe('STREAM events of alice', () => {
  it.each(named<RowsCase>([
    { name: 'SELECT * returns only bob’s event', sql: `SELECT id, kind, payload, n FROM app.events`, rows: [BOB_EVENT] },
    { name: 'a LIKE on alice’s payloads finds nothing', sql: `SELECT * FROM app.events WHERE payload LIKE 'ALICE%'`, rows: [] },
    { name: 'a lookup of alice’s event id finds nothing', sql: `SELECT * FROM app.events WHERE id = 'ae1'`, rows: [] },
    { name: 'COUNT(*) counts bob’s one event', sql: `SELECT COUNT(*) AS c FROM APP.EVENTS`, rows: [{ c: 1 }] },
    { name: '_seq > 0 returns only bob’s event', sql: `SELECT id FROM app.events WHERE _seq > 0`, rows: [{ id: 'be1' }] },
    {
      name: 'a join of events with secrets pairs only bob’s rows',
      sql: `SELECT s.secret, e.payload FROM app.secrets s JOIN app.events e ON true ORDER BY s.secret`,
      rows: [{ secret: 'bob-1', payload: 'bob-event-1' }, { secret: 'bob-2', payload: 'bob-event-1' }],
    },
    {
      name: 'a UNION ALL of events and secrets returns bob’s three values',
      sql: `SELECT payload AS v FROM app.events UNION ALL SELECT secret FROM app.secrets ORDER BY v`,
      rows: [{ v: 'bob-1' }, { v: 'bob-2' }, { v: 'bob-event-1' }],
    },
  ]))('%s', async (_title, { sql, rows, params }) => {
    await expectBobRows(f, sql, rows, params);
  });

  it('DELETE … WHERE 1=1 hard-deletes bob’s event only', async () => {
    await expectBobWrite(f, `DELETE FROM app.events WHERE 1=1`, 1);
    expect((await f.bob.query(`SELECT * FROM app.events`)).rows).toEqual([]);
  });

  it('INSERT with alice’s event id creates bob’s own event', async () => {
    await expectBobWrite(f, `INSERT INTO app.events (id, kind, payload, n) VALUES ('ae1', 'forged', 'bob-forged', 5)`, 1);
    expect((await f.bob.query(`SELECT id, payload FROM app.events ORDER BY payload`)).rows).toEqual([
      { id: 'be1', payload: 'bob-event-1' },
      { id: 'ae1', payload: 'bob-forged' },
    ]);
  });

  it('INSERT … SELECT from bob’s events into secrets copies only bob’s event', async () => {
    await expectBobWrite(f, `INSERT INTO app.secrets (id, secret, amount) SELECT id, payload, n FROM app.events`, 1);
    expect((await f.bob.query(`SELECT id, secret FROM app.secrets WHERE id = 'be1'`)).rows).toEqual([{ id: 'be1', secret: 'bob-event-1' }]);
  });
});

describe('joins', () => {
  it.each(named<RowsCase>([
    {
      name: 'a self-join on different ids pairs only bob’s rows',
      sql: `SELECT a.secret AS x, b.secret AS y FROM app.secrets a JOIN app.secrets b ON a.id <> b.id ORDER BY x`,
      rows: [{ x: 'bob-1', y: 'bob-2' }, { x: 'bob-2', y: 'bob-1' }],
    },
    {
      name: 'a self-join on equal ids matches each of bob’s rows once',
      sql: `SELECT a.id, b.secret FROM app.secrets a JOIN app.secrets b ON a.id = b.id ORDER BY a.id`,
      rows: [{ id: 'bob-k1', secret: 'bob-1' }, { id: 'k-common', secret: 'bob-2' }],
    },
    { name: 'a self cross join counts bob’s rows squared', sql: `SELECT COUNT(*) AS c FROM app.secrets a CROSS JOIN app.secrets b`, rows: [{ c: 4 }] },
    {
      name: 'a join with the public board returns bob’s secrets only',
      sql: `SELECT b.id, s.secret FROM app.board b JOIN app.secrets s ON s.id = b.id ORDER BY b.id`,
      rows: [{ id: 'bob-k1', secret: 'bob-1' }, { id: 'k-common', secret: 'bob-2' }],
    },
    {
      name: 'a LEFT JOIN from the public board fills only bob’s matches',
      sql: `SELECT b.id, s.secret FROM app.board b LEFT JOIN app.secrets s ON s.id = b.id ORDER BY b.id`,
      rows: [{ id: 'bob-k1', secret: 'bob-1' }, { id: 'k-common', secret: 'bob-2' }, { id: 'n1', secret: null }],
    },
    {
      name: 'a comma join with the board filtered in WHERE returns bob’s secrets only',
      sql: `SELECT b.note, s.secret FROM app.board b, app.secrets s WHERE b.id = s.id ORDER BY b.note`,
      rows: [{ note: 'board-note-bob', secret: 'bob-1' }, { note: 'board-note-common', secret: 'bob-2' }],
    },
    {
      name: 'a join on alice’s amounts finds nothing',
      sql: `SELECT b.id FROM app.board b JOIN app.secrets s ON s.amount > 90000`,
      rows: [],
    },
  ]))('%s', async (_title, { sql, rows, params }) => {
    await expectBobRows(f, sql, rows, params);
  });

  it('a LEFT self-join whose ON names _deleted shows nothing of alice’s', async () => {
    const o = await attempt(f, () => f.bob.query(`SELECT a.id AS x, b.id AS y FROM app.secrets a LEFT JOIN app.secrets b ON b._deleted = true ORDER BY x`), 'LEFT self-join on _deleted');
    expect(o.kind).toBe('ok');
    if (o.kind === 'ok') expect(o.last.rows.map((r) => r.x)).toEqual(['bob-k1', 'k-common']);
  });

  it.each(named<DeniedCase>([
    { name: 'a join with the private vault is denied', sql: `SELECT s.secret, v.secret FROM app.secrets s JOIN app.vault v ON s.id = v.id` },
    { name: 'a LEFT JOIN to the vault ON false is still denied', sql: `SELECT s.secret FROM app.secrets s LEFT JOIN app.vault v ON false` },
    { name: 'a join of the public board with the vault is denied', sql: `SELECT b.note FROM app.board b LEFT JOIN app.vault v ON v.id = b.id` },
    { name: 'a join with system.users is denied', sql: `SELECT s.secret, u.role FROM app.secrets s CROSS JOIN system.users u` },
  ]))('%s', async (_title, { sql, params }) => {
    await expectDenied(f, sql, params);
  });
});

describe('subqueries', () => {
  it.each(named<RowsCase>([
    {
      name: 'IN (subquery) matches only bob’s ids',
      sql: `SELECT id FROM app.board WHERE id IN (SELECT id FROM app.secrets) ORDER BY id`,
      rows: [{ id: 'bob-k1' }, { id: 'k-common' }],
    },
    {
      name: 'a value IN (subquery) oracle on alice’s secret is false',
      sql: `SELECT id FROM app.board WHERE 'ALICE-SECRET-1' IN (SELECT secret FROM app.secrets)`,
      rows: [],
    },
    {
      name: 'a value NOT IN (subquery) oracle on alice’s secret is true for every board row',
      sql: `SELECT id FROM app.board WHERE 'ALICE-SECRET-1' NOT IN (SELECT secret FROM app.secrets) ORDER BY id`,
      rows: [{ id: 'bob-k1' }, { id: 'k-common' }, { id: 'n1' }],
    },
    {
      name: 'an EXISTS oracle on alice’s secret is false',
      sql: `SELECT id FROM app.board WHERE EXISTS (SELECT 1 FROM app.secrets WHERE secret = 'ALICE-SECRET-1')`,
      rows: [],
    },
    {
      name: 'a NOT EXISTS oracle on alice’s amounts is true',
      sql: `SELECT id FROM app.board WHERE NOT EXISTS (SELECT 1 FROM app.secrets WHERE amount > 90000) ORDER BY id`,
      rows: [{ id: 'bob-k1' }, { id: 'k-common' }, { id: 'n1' }],
    },
    {
      name: 'a scalar COUNT(*) subquery in SELECT counts bob’s rows',
      sql: `SELECT (SELECT COUNT(*) FROM app.secrets) AS c FROM app.board WHERE id = 'n1'`,
      rows: [{ c: 2 }],
    },
    {
      name: 'a scalar MAX subquery in SELECT sees bob’s values',
      sql: `SELECT (SELECT MAX(secret) FROM app.secrets) AS m FROM app.board WHERE id = 'n1'`,
      rows: [{ m: 'bob-2' }],
    },
    {
      name: 'a scalar SUM subquery in WHERE sees bob’s amounts',
      sql: `SELECT id FROM app.board WHERE (SELECT SUM(amount) FROM app.secrets) > 1000`,
      rows: [],
    },
    {
      name: 'a derived table in FROM holds bob’s rows',
      sql: `SELECT t.secret FROM (SELECT * FROM app.secrets) AS t ORDER BY t.secret`,
      rows: [{ secret: 'bob-1' }, { secret: 'bob-2' }],
    },
    {
      name: 'a derived table reading tombstones holds bob’s tombstone only',
      sql: `SELECT t.id FROM (SELECT id FROM app.secrets WHERE _deleted = true) AS t`,
      rows: [{ id: 'bob-del' }],
    },
    {
      name: 'doubly nested derived tables count bob’s rows',
      sql: `SELECT COUNT(*) AS c FROM (SELECT * FROM (SELECT * FROM app.secrets) a) b`,
      rows: [{ c: 2 }],
    },
    {
      name: 'a correlated scalar subquery fills only bob’s matches',
      sql: `SELECT b.id, (SELECT s.secret FROM app.secrets s WHERE s.id = b.id) AS s FROM app.board b ORDER BY b.id`,
      rows: [{ id: 'bob-k1', s: 'bob-1' }, { id: 'k-common', s: 'bob-2' }, { id: 'n1', s: null }],
    },
    {
      name: 'a correlated EXISTS on alice’s amounts finds nothing',
      sql: `SELECT b.id FROM app.board b WHERE EXISTS (SELECT 1 FROM app.secrets s WHERE s.id = b.id AND s.amount > 90000)`,
      rows: [],
    },
    {
      name: 'a correlated COUNT per board row counts bob’s rows',
      sql: `SELECT b.id, (SELECT COUNT(*) FROM app.secrets s WHERE s.id = b.id) AS c FROM app.board b ORDER BY b.id`,
      rows: [{ id: 'bob-k1', c: 1 }, { id: 'k-common', c: 1 }, { id: 'n1', c: 0 }],
    },
    {
      name: 'a subquery on alice’s events finds nothing',
      sql: `SELECT id FROM app.board WHERE EXISTS (SELECT 1 FROM app.events WHERE payload LIKE 'ALICE%')`,
      rows: [],
    },
  ]))('%s', async (_title, { sql, rows, params }) => {
    await expectBobRows(f, sql, rows, params);
  });

  it.each(named<DeniedCase>([
    { name: 'an IN subquery on the vault is denied', sql: `SELECT * FROM app.secrets WHERE secret IN (SELECT secret FROM app.vault)` },
    { name: 'a scalar subquery on the vault is denied', sql: `SELECT (SELECT MAX(secret) FROM app.vault) AS m FROM app.board` },
    { name: 'an EXISTS subquery on the vault is denied', sql: `SELECT id FROM app.board WHERE EXISTS (SELECT 1 FROM app.vault WHERE secret LIKE 'VAULT%')` },
    { name: 'a vault subquery behind a false AND is still denied', sql: `SELECT id FROM app.board WHERE false AND EXISTS (SELECT 1 FROM app.vault)` },
    { name: 'a derived table on the vault is denied', sql: `SELECT COUNT(*) FROM (SELECT * FROM app.vault) v` },
    { name: 'a subquery on system.users is denied', sql: `SELECT id FROM app.board WHERE 'bob' IN (SELECT user_id FROM system.users)` },
  ]))('%s', async (_title, { sql, params }) => {
    await expectDenied(f, sql, params);
  });
});

describe('UNION, INTERSECT, EXCEPT', () => {
  it.each(named<RowsCase>([
    {
      name: 'UNION of secrets and board notes holds bob’s secrets only',
      sql: `SELECT secret AS v FROM app.secrets UNION SELECT note FROM app.board ORDER BY v`,
      rows: [{ v: 'board-note-1' }, { v: 'board-note-bob' }, { v: 'board-note-common' }, { v: 'bob-1' }, { v: 'bob-2' }],
    },
    {
      name: 'UNION ALL of secrets with itself counts bob’s rows twice',
      sql: `SELECT COUNT(*) AS c FROM (SELECT id FROM app.secrets UNION ALL SELECT id FROM app.secrets) u`,
      rows: [{ c: 4 }],
    },
    {
      name: 'INTERSECT with the board holds bob’s ids',
      sql: `SELECT id FROM app.secrets INTERSECT SELECT id FROM app.board ORDER BY id`,
      rows: [{ id: 'bob-k1' }, { id: 'k-common' }],
    },
    {
      name: 'an INTERSECT oracle on alice’s amounts is empty',
      sql: `SELECT id FROM app.board INTERSECT SELECT id FROM app.secrets WHERE amount > 90000`,
      rows: [],
    },
    {
      name: 'EXCEPT removes only bob’s ids from the board',
      sql: `SELECT id FROM app.board EXCEPT SELECT id FROM app.secrets ORDER BY id`,
      rows: [{ id: 'n1' }],
    },
    {
      name: 'an EXCEPT oracle on alice’s keys removes nothing',
      sql: `SELECT id FROM app.board EXCEPT SELECT 'n1' FROM app.secrets WHERE id = 'alice-k1' ORDER BY id`,
      rows: [{ id: 'bob-k1' }, { id: 'k-common' }, { id: 'n1' }],
    },
  ]))('%s', async (_title, { sql, rows, params }) => {
    await expectBobRows(f, sql, rows, params);
  });

  it.each(named<DeniedCase>([
    { name: 'UNION with the vault is denied', sql: `SELECT secret FROM app.secrets UNION SELECT secret FROM app.vault` },
    { name: 'INTERSECT with the vault is denied', sql: `SELECT id FROM app.board INTERSECT SELECT id FROM app.vault` },
    { name: 'EXCEPT with the vault is denied', sql: `SELECT id FROM app.board EXCEPT SELECT id FROM app.vault` },
    { name: 'UNION with system.users is denied', sql: `SELECT id FROM app.secrets UNION SELECT user_id FROM system.users` },
  ]))('%s', async (_title, { sql, params }) => {
    await expectDenied(f, sql, params);
  });
});

describe('CTEs', () => {
  it.each(named<RowsCase>([
    {
      name: 'a CTE over secrets holds bob’s rows',
      sql: `WITH s AS (SELECT * FROM app.secrets) SELECT secret FROM s ORDER BY secret`,
      rows: [{ secret: 'bob-1' }, { secret: 'bob-2' }],
    },
    {
      name: 'a CTE shadowing the table name filtered on alice’s amounts is empty',
      sql: `WITH secrets AS (SELECT * FROM app.secrets WHERE amount > 90000) SELECT COUNT(*) AS c FROM secrets`,
      rows: [{ c: 0 }],
    },
    {
      name: 'chained CTEs sum bob’s amounts',
      sql: `WITH a AS (SELECT id, amount FROM app.secrets), b AS (SELECT * FROM a WHERE amount > 0) SELECT SUM(amount) AS s FROM b`,
      rows: [{ s: 3 }],
    },
    {
      name: 'a CTE joined with the board matches bob’s ids',
      sql: `WITH s AS (SELECT id, secret FROM app.secrets) SELECT b.note, s.secret FROM app.board b JOIN s ON s.id = b.id ORDER BY b.note`,
      rows: [{ note: 'board-note-bob', secret: 'bob-1' }, { note: 'board-note-common', secret: 'bob-2' }],
    },
  ]))('%s', async (_title, { sql, rows, params }) => {
    await expectBobRows(f, sql, rows, params);
  });

  it('a CTE over the vault is denied', async () => {
    await expectDenied(f, `WITH v AS (SELECT * FROM app.vault) SELECT * FROM v`);
  });

  it('a CTE over system.audit_log is denied', async () => {
    await expectDenied(f, `WITH a AS (SELECT * FROM system.audit_log) SELECT COUNT(*) FROM a`);
  });
});

describe('aggregates', () => {
  it.each(named<RowsCase>([
    { name: 'COUNT(*) counts bob’s live rows', sql: `SELECT COUNT(*) AS c FROM app.secrets`, rows: [{ c: 2 }] },
    { name: 'COUNT(*) including tombstones counts bob’s three', sql: `SELECT COUNT(*) AS c FROM app.secrets WHERE _deleted = true OR _deleted = false`, rows: [{ c: 3 }] },
    { name: 'COUNT(*) of tombstones counts bob’s one', sql: `SELECT COUNT(*) AS c FROM app.secrets WHERE _deleted = true`, rows: [{ c: 1 }] },
    {
      name: 'SUM, AVG, MIN and MAX see bob’s values',
      sql: `SELECT SUM(amount) AS s, AVG(amount) AS a, MIN(secret) AS lo, MAX(secret) AS hi, MAX(amount) AS mx FROM app.secrets`,
      rows: [{ s: 3, a: 1.5, lo: 'bob-1', hi: 'bob-2', mx: 2 }],
    },
    {
      name: 'GROUP BY id counts the shared key once',
      sql: `SELECT id, COUNT(*) AS c FROM app.secrets GROUP BY id ORDER BY id`,
      rows: [{ id: 'bob-k1', c: 1 }, { id: 'k-common', c: 1 }],
    },
    {
      name: 'GROUP BY … HAVING a large sum finds nothing',
      sql: `SELECT secret, SUM(amount) AS s FROM app.secrets GROUP BY secret HAVING SUM(amount) > 1000`,
      rows: [],
    },
    { name: 'COUNT(DISTINCT id) counts bob’s keys', sql: `SELECT COUNT(DISTINCT id) AS c FROM app.secrets`, rows: [{ c: 2 }] },
    { name: 'SELECT DISTINCT secret lists bob’s values', sql: `SELECT DISTINCT secret FROM app.secrets ORDER BY secret`, rows: [{ secret: 'bob-1' }, { secret: 'bob-2' }] },
  ]))('%s', async (_title, { sql, rows, params }) => {
    await expectBobRows(f, sql, rows, params);
  });

  it('COUNT(*) on the vault is denied', async () => {
    await expectDenied(f, `SELECT COUNT(*) FROM app.vault`);
  });
});

describe('ORDER BY / LIMIT / OFFSET probing', () => {
  it.each(named<RowsCase>([
    { name: 'OFFSET past bob’s rows returns nothing', sql: `SELECT id FROM app.secrets ORDER BY id LIMIT 1 OFFSET 2`, rows: [] },
    { name: 'the largest amount is bob’s', sql: `SELECT id FROM app.secrets ORDER BY amount DESC LIMIT 1`, rows: [{ id: 'k-common' }] },
    { name: 'the newest _seq is bob’s', sql: `SELECT id FROM app.secrets ORDER BY _seq DESC LIMIT 1`, rows: [{ id: 'k-common' }] },
    { name: 'a large LIMIT returns bob’s two rows', sql: `SELECT secret FROM app.secrets ORDER BY secret LIMIT 100 OFFSET 0`, rows: [{ secret: 'bob-1' }, { secret: 'bob-2' }] },
    { name: 'LIMIT and OFFSET as parameters page bob’s rows', sql: `SELECT secret FROM app.secrets ORDER BY secret LIMIT $1 OFFSET $2`, params: [10, 1], rows: [{ secret: 'bob-2' }] },
    { name: 'ORDER BY secret DESC starts with bob’s value', sql: `SELECT secret FROM app.secrets ORDER BY secret DESC LIMIT 1`, rows: [{ secret: 'bob-2' }] },
  ]))('%s', async (_title, { sql, rows, params }) => {
    await expectBobRows(f, sql, rows, params);
  });

  it('LIMIT 0 on the vault is still denied', async () => {
    await expectDenied(f, `SELECT * FROM app.vault LIMIT 0`);
  });
});

describe('_seq and _deleted predicates', () => {
  it.each(named<RowsCase>([
    { name: 'WHERE _deleted = true returns bob’s tombstone only', sql: `SELECT id, secret FROM app.secrets WHERE _deleted = true`, rows: [{ id: 'bob-del', secret: 'bob-deleted' }] },
    { name: 'WHERE _seq > 0 returns bob’s live rows', sql: `SELECT id FROM app.secrets WHERE _seq > 0 ORDER BY id`, rows: [{ id: 'bob-k1' }, { id: 'k-common' }] },
    {
      name: 'WHERE true OR _deleted returns bob’s rows and tombstone',
      sql: `SELECT id FROM app.secrets WHERE true OR _deleted ORDER BY id`,
      rows: [{ id: 'bob-del' }, { id: 'bob-k1' }, { id: 'k-common' }],
    },
    { name: 'a tombstone lookup of alice’s deleted key finds nothing', sql: `SELECT * FROM app.secrets WHERE _deleted = true AND id = 'alice-k5'`, rows: [] },
  ]))('%s', async (_title, { sql, rows, params }) => {
    await expectBobRows(f, sql, rows, params);
  });

  it('WHERE _seq = <alice’s _seq> finds nothing', async () => {
    for (const seq of f.forbiddenSeqs) {
      await expectBobRows(f, `SELECT id FROM app.secrets WHERE _seq = $1 OR _seq = $1 + 0`, [], [seq]);
    }
  });

  it('MAX(_seq) over bob’s rows and tombstones is bob’s own', async () => {
    const o = await attempt(f, () => f.bob.query(`SELECT MAX(_seq) AS m FROM app.secrets WHERE _deleted OR NOT _deleted`), 'MAX(_seq)');
    expect(o.kind).toBe('ok');
    if (o.kind === 'ok') expect(typeof o.last.rows[0].m).toBe('bigint');
  });

  it('WHERE _deleted = true on the vault is denied', async () => {
    await expectDenied(f, `SELECT * FROM app.vault WHERE _deleted = true`);
  });
});

describe('system tables are denied to role user', () => {
  it.each(['stats', 'tables', 'users', 'audit_log', 'namespaces', 'columns', 'schemas', 'jobs', 'live', 'live_queries', 'settings', 'transactions', 'manifest'])(
    'SELECT * FROM system.%s',
    async (name) => {
      await expectDenied(f, `SELECT * FROM system.${name}`);
    },
  );

  it('an unqualified read in a session opened on namespace system is denied', async () => {
    const bobInSystem = f.db.session({ user: 'bob', role: 'user', namespace: 'system' });
    await expectDenied(f, `SELECT * FROM users`, [], bobInSystem);
  });

  it('USE system then an unqualified read is refused', async () => {
    // NAMESPACE_NOT_FOUND on USE is a refusal too: `system` is not a namespace bob can switch to.
    await expectRefused(f, `USE system; SELECT * FROM audit_log`, ['NAMESPACE_NOT_FOUND']);
  });

  it.each(named<DeniedCase>([
    { name: 'upper-case SYSTEM.USERS', sql: `SELECT * FROM SYSTEM.USERS` },
    { name: 'quoted "system"."audit_log"', sql: `SELECT * FROM "system"."audit_log"` },
    { name: 'a row-count metric from system.stats', sql: `SELECT metric_value FROM system.stats WHERE metric_name = 'table_rows.app.secrets'` },
    { name: 'COUNT(*) over system.audit_log', sql: `SELECT COUNT(*) FROM system.audit_log` },
    { name: 'UPDATE system.users to make bob a dba', sql: `UPDATE system.users SET role = 'dba' WHERE user_id = 'bob'` },
    { name: 'DELETE FROM system.audit_log to erase the trail', sql: `DELETE FROM system.audit_log WHERE 1=1` },
    { name: 'INSERT INTO system.users a dba', sql: `INSERT INTO system.users (user_id, role) VALUES ('mallory', 'dba')` },
  ]))('%s', async (_title, { sql, params }) => {
    await expectDenied(f, sql, params);
  });
});

describe('SHOW STATS FOR TABLE', () => {
  /** Bob's view of SHOW STATS must not move when someone else writes, and must not count others' rows. */
  async function statsInvariant(sql: string, othersWrite: () => Promise<unknown>, ownRows?: number) {
    const before = await attempt(f, () => f.bob.execute(sql), sql);
    await othersWrite();
    let after: StatementResult[] | KalamError;
    try {
      after = await f.bob.execute(sql);
    } catch (e) {
      if (e instanceof KalamError && e.code === 'PERMISSION_DENIED') after = e;
      else throw new Error(`NOT A PASS — ${sql} failed with ${e instanceof KalamError ? e.code : ''} ${String(e)}`);
    }
    if (before.kind === 'denied') {
      expect(after).toBeInstanceOf(KalamError);
      return;
    }
    expect(after).not.toBeInstanceOf(KalamError);
    expectNoLeak(f, after, sql);
    const rows = (after as StatementResult[])[0].rows;
    expect(rows).toEqual(before.last.rows);
    if (ownRows !== undefined && rows.length > 0 && 'logical_rows' in rows[0]) expect(Number(rows[0].logical_rows)).toBe(ownRows);
  }

  it('SHOW STATS FOR TABLE app.secrets reports bob’s count and does not move when alice writes', async () => {
    await statsInvariant(`SHOW STATS FOR TABLE app.secrets`, async () => {
      for (let i = 0; i < 20; i++) await f.alice.execute(`INSERT INTO app.secrets (id, secret, amount) VALUES ($1, 'ALICE-MORE', 91100)`, [`alice-more-${i}`]);
      await f.alice.execute(`DELETE FROM app.secrets WHERE id = 'alice-k1'`);
      await f.alice.live(`SELECT * FROM app.secrets`, [], () => undefined);
    }, 2);
  });

  it('SHOW STATS FOR TABLE APP.SECRETS (odd casing) reveals nothing of alice', async () => {
    const o = await attempt(f, () => f.bob.execute(`SHOW STATS FOR TABLE APP.SECRETS`), 'SHOW STATS APP.SECRETS');
    if (o.kind === 'ok' && o.last.rows.length > 0 && 'logical_rows' in o.last.rows[0]) expect(Number(o.last.rows[0].logical_rows)).toBe(2);
  });

  it('SHOW STATS FOR TABLE app.events does not move when alice emits events', async () => {
    await statsInvariant(`SHOW STATS FOR TABLE app.events`, async () => {
      for (let i = 0; i < 10; i++) await f.alice.execute(`INSERT INTO app.events (id, kind, payload, n) VALUES ($1, 'x', 'ALICE-MORE', 92100)`, [`am-${i}`]);
    }, 1);
  });

  it('SHOW STATS FOR TABLE app.vault is denied or does not reveal the vault’s size', async () => {
    await statsInvariant(`SHOW STATS FOR TABLE app.vault`, async () => {
      for (let i = 0; i < 10; i++) await f.root.execute(`INSERT INTO app.vault (id, secret, level) VALUES ($1, 'VAULT-MORE', 93100)`, [`vm-${i}`]);
    });
  });
});
