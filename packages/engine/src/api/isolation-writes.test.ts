/**
 * Isolation attack suite (issue 3). Bob (role `user`) tries to read or
 * change alice's USER and STREAM rows and to read a `private` SHARED table
 * through every SQL shape we could think of. Each attempt must return only
 * bob's own data or fail with PERMISSION_DENIED; after each one, alice's
 * rows, alice's events and the vault must be byte-for-byte unchanged.
 * Fixture and judges: isolation.fixture.ts. Reads are in
 * isolation.test.ts; this file holds writes, EXECUTE AS, transactions,
 * schema changes and live queries.
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

describe('EXECUTE AS USER', () => {
  const DENIED_ALICE = `EXECUTE AS USER is not authorized: actor 'bob' with role User cannot target 'alice' with role User`;

  async function auditEntries(): Promise<readonly Row[]> {
    return (await f.root.query(
      `SELECT actor_user_id, subject_user_id, action, outcome FROM system.audit_log WHERE actor_user_id = 'bob' AND action = 'EXECUTE_AS_USER'`,
    )).rows;
  }

  it.each(named<DeniedCase>([
    { name: 'EXECUTE AS USER alice (SELECT …) is denied and audited', sql: `EXECUTE AS USER 'alice' (SELECT * FROM app.secrets)` },
    { name: 'EXECUTE AS USER alice (UPDATE … WHERE 1=1) is denied and audited', sql: `EXECUTE AS USER 'alice' (UPDATE app.secrets SET secret = 'pwned' WHERE 1=1)` },
    { name: 'EXECUTE AS USER alice (DELETE … WHERE 1=1) is denied and audited', sql: `EXECUTE AS USER 'alice' (DELETE FROM app.secrets WHERE 1=1)` },
    { name: 'EXECUTE AS USER alice (INSERT …) is denied and audited', sql: `EXECUTE AS USER 'alice' (INSERT INTO app.secrets (id, secret, amount) VALUES ('alice-k1', 'pwned', 0))` },
    { name: 'EXECUTE AS USER alice on her STREAM events is denied and audited', sql: `EXECUTE AS USER 'alice' (SELECT * FROM app.events)` },
    { name: 'lower-case execute as user alice is denied and audited', sql: `execute as user 'alice' (select secret from app.secrets where amount > 0)` },
    { name: 'EXECUTE AS USER alice with a parameter is denied and audited', sql: `EXECUTE AS USER 'alice' (SELECT * FROM app.secrets WHERE id = $1)`, params: ['alice-k1'] },
  ]))('%s', async (_title, { sql, params }) => {
    expect(await auditEntries()).toEqual([]);
    const err = await expectDenied(f, sql, params);
    expect(err.message).toBe(DENIED_ALICE);
    expect(await auditEntries()).toEqual([{ actor_user_id: 'bob', subject_user_id: 'alice', action: 'EXECUTE_AS_USER', outcome: 'denied' }]);
  });

  it('EXECUTE AS USER alice after a harmless statement in the same batch is denied', async () => {
    await expectDenied(f, `SELECT id FROM app.board WHERE id = 'n1'; EXECUTE AS USER 'alice' (DELETE FROM app.secrets WHERE true OR _deleted)`);
  });

  it('EXECUTE AS USER of an undeclared user is denied (unknown ids count as role user)', async () => {
    await expectDenied(f, `EXECUTE AS USER 'mallory' (SELECT * FROM app.secrets)`);
  });

  it('EXECUTE AS USER root (a dba) is denied', async () => {
    await expectDenied(f, `EXECUTE AS USER 'root' (SELECT * FROM app.secrets)`);
  });

  it('EXECUTE AS USER on the shared vault is denied', async () => {
    await expectDenied(f, `EXECUTE AS USER 'root' (SELECT * FROM app.vault)`);
  });

  it('EXECUTE AS USER bob nesting EXECUTE AS USER alice is refused', async () => {
    // INVALID_SQL: EXECUTE AS USER wraps exactly one SELECT/INSERT/UPDATE/DELETE (reference §2.5).
    await expectRefused(f, `EXECUTE AS USER 'bob' (EXECUTE AS USER 'alice' (SELECT * FROM app.secrets))`, ['INVALID_SQL']);
  });

  it('EXECUTE AS USER bob (himself) returns bob’s rows', async () => {
    await expectBobRows(f, `EXECUTE AS USER 'bob' (SELECT * FROM app.secrets)`, BOB);
  });
});

describe('UPDATE and DELETE with always-true predicates touch only bob’s rows', () => {
  it('UPDATE … WHERE 1=1 updates bob’s two rows', async () => {
    await expectBobWrite(f, `UPDATE app.secrets SET secret = 'pwned' WHERE 1=1`, 2);
    expect((await f.bob.query(`SELECT secret FROM app.secrets`)).rows).toEqual([{ secret: 'pwned' }, { secret: 'pwned' }]);
  });

  it('UPDATE … WHERE true OR _deleted touches at most bob’s three rows', async () => {
    const o = await attempt(f, () => f.bob.query(`UPDATE app.secrets SET amount = 0 WHERE true OR _deleted`), 'UPDATE true OR _deleted');
    expect(o.kind).toBe('ok');
    if (o.kind === 'ok') expect(o.last.rowCount).toBeLessThanOrEqual(3);
  });

  it.each(named<{ name: string; sql: string; count: number; params?: Value[] }>([
    { name: 'UPDATE of alice’s key updates nothing', sql: `UPDATE app.secrets SET secret = 'pwned' WHERE id = 'alice-k1'`, count: 0 },
    { name: 'UPDATE of the shared key updates bob’s row only', sql: `UPDATE app.secrets SET secret = 'mine' WHERE id = 'k-common'`, count: 1 },
    { name: 'UPDATE on alice’s amounts updates nothing', sql: `UPDATE app.secrets SET amount = amount + 1 WHERE amount > 90000`, count: 0 },
    { name: 'UPDATE of alice’s tombstone updates nothing', sql: `UPDATE app.secrets SET secret = 'revived' WHERE _deleted = true AND id = 'alice-k5'`, count: 0 },
    { name: 'UPDATE with a table alias named alice updates nothing of hers', sql: `UPDATE app.secrets AS alice SET secret = 'x' WHERE alice.id = 'alice-k1'`, count: 0 },
    { name: 'UPDATE setting a subquery value uses bob’s values', sql: `UPDATE app.secrets SET secret = (SELECT MAX(secret) FROM app.secrets) WHERE 1=1`, count: 2 },
    { name: 'UPDATE … WHERE id IN (subquery) updates bob’s rows', sql: `UPDATE app.secrets SET amount = 7 WHERE id IN (SELECT id FROM app.secrets)`, count: 2 },
    { name: 'DELETE … WHERE 1=1 deletes bob’s two rows', sql: `DELETE FROM app.secrets WHERE 1=1`, count: 2 },
    { name: 'DELETE of alice’s key deletes nothing', sql: `DELETE FROM app.secrets WHERE id = 'alice-k2'`, count: 0 },
    { name: 'DELETE … WHERE _seq > 0 deletes bob’s two rows', sql: `DELETE FROM app.secrets WHERE _seq > 0`, count: 2 },
    { name: 'DELETE of the shared key deletes bob’s row only', sql: `DELETE FROM app.secrets WHERE id = 'k-common'`, count: 1 },
    { name: 'DELETE … WHERE id IN (board ids) deletes bob’s rows only', sql: `DELETE FROM app.secrets WHERE id IN (SELECT id FROM app.board)`, count: 2 },
    { name: 'DELETE … WHERE EXISTS (self) deletes bob’s rows only', sql: `DELETE FROM app.secrets WHERE EXISTS (SELECT 1 FROM app.secrets)`, count: 2 },
  ]))('%s', async (_title, { sql, count, params }) => {
    await expectBobWrite(f, sql, count, params);
    expectNoLeak(f, await bobSecrets(f), `bob's rows after ${sql}`);
  });

  it('DELETE … WHERE true OR _deleted deletes at most bob’s three rows', async () => {
    const o = await attempt(f, () => f.bob.query(`DELETE FROM app.secrets WHERE true OR _deleted`), 'DELETE true OR _deleted');
    expect(o.kind).toBe('ok');
    if (o.kind === 'ok') expect(o.last.rowCount).toBeLessThanOrEqual(3);
    expect((await f.bob.query(`SELECT * FROM app.secrets`)).rows).toEqual([]);
  });

  it('UPDATE setting a value read from the vault is denied', async () => {
    await expectDenied(f, `UPDATE app.secrets SET secret = (SELECT MAX(secret) FROM app.vault) WHERE 1=1`);
    expect((await f.bob.query(`SELECT * FROM app.secrets`)).rows).toEqual(BOB);
  });
});

describe('INSERT', () => {
  it('INSERT … SELECT copying from the table copies only bob’s rows', async () => {
    await expectBobWrite(f, `INSERT INTO app.secrets (id, secret, amount) SELECT id || '-copy', secret, amount FROM app.secrets`, 2);
    expect((await f.bob.query(`SELECT id FROM app.secrets ORDER BY id`)).rows.map((r) => r.id)).toEqual(['bob-k1', 'bob-k1-copy', 'k-common', 'k-common-copy']);
  });

  it('INSERT … SELECT of tombstones copies only bob’s tombstone', async () => {
    await expectBobWrite(f, `INSERT INTO app.secrets (id, secret, amount) SELECT id || '-undead', secret, amount FROM app.secrets WHERE _deleted = true`, 1);
    expect((await f.bob.query(`SELECT secret FROM app.secrets WHERE id = 'bob-del-undead'`)).rows).toEqual([{ secret: 'bob-deleted' }]);
  });

  it('INSERT … SELECT from a CTE copies only bob’s rows', async () => {
    await expectBobWrite(f, `INSERT INTO app.secrets (id, secret, amount) WITH s AS (SELECT * FROM app.secrets) SELECT id || '-cte', secret, amount FROM s`, 2);
  });

  it('INSERT with alice’s primary key creates bob’s own row and leaves hers alone', async () => {
    await expectBobWrite(f, `INSERT INTO app.secrets (id, secret, amount) VALUES ('alice-k1', 'bob-owned', 5)`, 1);
    expect((await f.bob.query(`SELECT secret FROM app.secrets WHERE id = 'alice-k1'`)).rows).toEqual([{ secret: 'bob-owned' }]);
  });

  it('INSERT with alice’s deleted primary key creates bob’s row and does not revive hers', async () => {
    await expectBobWrite(f, `INSERT INTO app.secrets (id, secret, amount) VALUES ('alice-k5', 'bob-owned-5', 5)`, 1);
    expect((await f.bob.query(`SELECT secret FROM app.secrets WHERE id = 'alice-k5'`)).rows).toEqual([{ secret: 'bob-owned-5' }]);
  });

  it.each(named<DeniedCase>([
    { name: 'INSERT … SELECT from the vault is denied', sql: `INSERT INTO app.secrets (id, secret, amount) SELECT id, secret, 0 FROM app.vault` },
    { name: 'INSERT … SELECT of bob’s secrets into the public board is denied (role user cannot write it)', sql: `INSERT INTO app.board (id, owner, note) SELECT id || '-x', 'bob', secret FROM app.secrets` },
  ]))('%s', async (_title, { sql, params }) => {
    await expectDenied(f, sql, params);
    expect((await f.bob.query(`SELECT * FROM app.secrets`)).rows).toEqual(BOB);
  });
});

describe('parameters carrying SQL text are values, never SQL', () => {
  it.each(named<RowsCase>([
    { name: "$1 = x' OR '1'='1 matches nothing", sql: `SELECT * FROM app.secrets WHERE id = $1`, params: [`x' OR '1'='1`], rows: [] },
    { name: "$1 = '; DROP TABLE app.secrets; -- matches nothing", sql: `SELECT * FROM app.secrets WHERE secret = $1`, params: [`'; DROP TABLE app.secrets; --`], rows: [] },
    { name: '$1 carrying a UNION with the vault matches nothing', sql: `SELECT * FROM app.secrets WHERE id = $1`, params: [`1' UNION SELECT id, secret, level FROM app.vault --`], rows: [] },
    { name: '$1 = % in LIKE matches bob’s rows only', sql: `SELECT id FROM app.secrets WHERE secret LIKE $1 ORDER BY id`, params: ['%'], rows: [{ id: 'bob-k1' }, { id: 'k-common' }] },
  ]))('%s', async (_title, { sql, rows, params }) => {
    await expectBobRows(f, sql, rows, params);
    expect((await f.bob.query(`SELECT COUNT(*) AS c FROM app.secrets`)).rows).toEqual([{ c: 2 }]);
  });

  it.each(named<{ name: string; sql: string; params: Value[]; count: number }>([
    { name: "UPDATE … WHERE id = $2 with $2 = x' OR '1'='1 updates nothing", sql: `UPDATE app.secrets SET secret = $1 WHERE id = $2`, params: ['pwned', `x' OR '1'='1`], count: 0 },
    { name: "DELETE … WHERE id = $1 with alice-k1' OR 'a'='a deletes nothing", sql: `DELETE FROM app.secrets WHERE id = $1`, params: [`alice-k1' OR 'a'='a`], count: 0 },
    { name: 'INSERT of a value that is a DELETE statement stores it as text', sql: `INSERT INTO app.secrets (id, secret, amount) VALUES ($1, $2, $3)`, params: ['inj', `'); DELETE FROM app.secrets WHERE ('1'='1`, 9], count: 1 },
  ]))('%s', async (_title, { sql, params, count }) => {
    await expectBobWrite(f, sql, count, params);
    expect((await f.bob.query(`SELECT id FROM app.secrets WHERE id <> 'inj' ORDER BY id`)).rows.map((r) => r.id)).toEqual(['bob-k1', 'k-common']);
  });
});

describe('the private vault', () => {
  it.each(named<DeniedCase>([
    { name: 'SELECT * is denied', sql: `SELECT * FROM app.vault` },
    { name: 'upper-case APP.VAULT is denied', sql: `SELECT * FROM APP.VAULT` },
    { name: 'quoted "app"."vault" is denied', sql: `SELECT * FROM "app"."vault"` },
    { name: 'unqualified vault after USE app is denied', sql: `USE app; SELECT * FROM vault` },
    { name: 'a primary-key lookup is denied', sql: `SELECT secret FROM app.vault WHERE id = 'v1'` },
    { name: 'a scan with WHERE false is denied', sql: `SELECT 1 FROM app.vault WHERE false` },
    { name: 'a batch ending in a vault read is denied', sql: `SELECT id FROM app.board WHERE id = 'n1'; SELECT * FROM app.vault` },
    { name: 'INSERT is denied', sql: `INSERT INTO app.vault (id, secret, level) VALUES ('v9', 'bob-forged', 1)` },
    { name: 'INSERT over an existing key is denied', sql: `INSERT INTO app.vault (id, secret, level) VALUES ('v1', 'bob-forged', 1)` },
    { name: 'UPDATE … WHERE 1=1 is denied', sql: `UPDATE app.vault SET secret = 'pwned' WHERE 1=1` },
    { name: 'UPDATE … WHERE false is denied', sql: `UPDATE app.vault SET secret = 'pwned' WHERE false` },
    { name: 'DELETE … WHERE 1=1 is denied', sql: `DELETE FROM app.vault WHERE 1=1` },
    { name: 'DELETE of one key is denied', sql: `DELETE FROM app.vault WHERE id = 'v1'` },
    { name: 'UPDATE of the public board is denied to role user', sql: `UPDATE app.board SET note = 'pwned' WHERE 1=1` },
    { name: 'DELETE from the public board is denied to role user', sql: `DELETE FROM app.board WHERE 1=1` },
  ]))('%s', async (_title, { sql, params }) => {
    await expectDenied(f, sql, params);
  });
});

describe('privilege escalation toward the data', () => {
  it.each(named<DeniedCase>([
    { name: 'ALTER TABLE app.vault SET ACCESS LEVEL public is denied', sql: `ALTER TABLE app.vault SET ACCESS LEVEL public` },
    { name: 'ALTER TABLE app.vault SET TBLPROPERTIES (ACCESS_LEVEL = PUBLIC) is denied', sql: `ALTER TABLE app.vault SET TBLPROPERTIES (ACCESS_LEVEL = 'PUBLIC')` },
    { name: 'ALTER USER bob SET ROLE dba is denied', sql: `ALTER USER 'bob' SET ROLE dba` },
    { name: 'CREATE USER mallory ROLE dba is denied', sql: `CREATE USER 'mallory' ROLE dba` },
    { name: 'DROP USER alice is denied', sql: `DROP USER 'alice'` },
    { name: 'DROP TABLE app.secrets is denied', sql: `DROP TABLE app.secrets` },
    { name: 'DROP NAMESPACE app is denied', sql: `DROP NAMESPACE app` },
  ]))('%s', async (_title, { sql, params }) => {
    await expectDenied(f, sql, params);
    await expectDenied(f, `SELECT * FROM app.vault`);
  });
});

describe('transactions', () => {
  it('BEGIN; UPDATE … WHERE 1=1; COMMIT updates bob’s rows only', async () => {
    const o = await attempt(f, () => f.bob.execute(`BEGIN; UPDATE app.secrets SET secret = 'tx' WHERE 1=1; COMMIT`), 'BEGIN/UPDATE/COMMIT');
    expect(o.kind).toBe('ok');
    if (o.kind === 'ok') expect(o.results[1].rowCount).toBe(2);
    expect((await f.bob.query(`SELECT secret FROM app.secrets`)).rows).toEqual([{ secret: 'tx' }, { secret: 'tx' }]);
  });

  it('reads inside a transaction see bob’s staged rows and none of alice’s', async () => {
    const o = await attempt(
      f,
      () => f.bob.execute(`BEGIN; INSERT INTO app.secrets (id, secret, amount) VALUES ('k-tx', 'bob-tx', 6); SELECT id, secret FROM app.secrets ORDER BY id; COMMIT`),
      'BEGIN/INSERT/SELECT/COMMIT',
    );
    expect(o.kind).toBe('ok');
    if (o.kind === 'ok') {
      expect(o.results[2].rows).toEqual([{ id: 'bob-k1', secret: 'bob-1' }, { id: 'k-common', secret: 'bob-2' }, { id: 'k-tx', secret: 'bob-tx' }]);
    }
  });

  it('BEGIN; DELETE … WHERE true OR _deleted; ROLLBACK changes nothing', async () => {
    const o = await attempt(f, () => f.bob.execute(`BEGIN; DELETE FROM app.secrets WHERE true OR _deleted; ROLLBACK`), 'BEGIN/DELETE/ROLLBACK');
    expect(o.kind).toBe('ok');
    expect((await f.bob.query(`SELECT * FROM app.secrets`)).rows).toEqual(BOB);
  });

  it('a transaction writing the vault is denied and leaves bob’s session usable', async () => {
    await expectDenied(f, `BEGIN; UPDATE app.secrets SET secret = 'half' WHERE 1=1; INSERT INTO app.vault (id, secret, level) VALUES ('v9', 'x', 1); COMMIT`);
    expect((await f.bob.query(`SELECT * FROM app.secrets`)).rows).toEqual(BOB);
  });

  it('EXECUTE AS USER alice inside a transaction is refused and applies nothing', async () => {
    // TRANSACTION_ERROR is a deliberate refusal: EXECUTE AS USER is not allowed inside BEGIN … COMMIT.
    await expectRefused(f, `BEGIN; UPDATE app.secrets SET secret = 'half' WHERE 1=1; EXECUTE AS USER 'alice' (DELETE FROM app.secrets WHERE 1=1); COMMIT`, ['TRANSACTION_ERROR']);
    expect((await f.bob.query(`SELECT * FROM app.secrets`)).rows).toEqual(BOB);
  });

  it('session.transaction(…) with always-true writes touches only bob’s rows', async () => {
    await attempt(f, async () => {
      await f.bob.transaction(async (t) => {
        await t.execute(`UPDATE app.secrets SET amount = 0 WHERE 1=1`);
        await t.execute(`DELETE FROM app.secrets WHERE id = 'k-common'`);
        expectNoLeak(f, (await t.query(`SELECT * FROM app.secrets WHERE true OR _deleted`)).rows, 'read inside session.transaction');
      });
      return [];
    }, 'session.transaction');
    expect((await f.bob.query(`SELECT id, amount FROM app.secrets`)).rows).toEqual([{ id: 'bob-k1', amount: 0 }]);
  });

  it('session.begin() staging an EXISTS probe and an always-true DELETE, then rollback, changes nothing', async () => {
    const tx = await f.bob.begin();
    const o = await attempt(f, () => tx.execute(`DELETE FROM app.secrets WHERE true OR _deleted; SELECT COUNT(*) AS c FROM app.secrets WHERE _deleted = true`), 'begin()/DELETE/COUNT');
    expect(o.kind).toBe('ok');
    if (o.kind === 'ok') {
      expect(o.results[0].rowCount).toBeLessThanOrEqual(3);
      expect(o.last.rows).toEqual([{ c: 3 }]);
    }
    await tx.rollback();
    expect((await f.bob.query(`SELECT * FROM app.secrets`)).rows).toEqual(BOB);
  });
});

describe('shared engine state: plan cache and transactions', () => {
  it('bob re-running query texts alice just ran (cached plans) gets his own rows', async () => {
    const texts = [
      `SELECT * FROM app.secrets WHERE id = 'alice-k1'`,
      `SELECT id, secret FROM app.secrets ORDER BY id`,
      `SELECT CURRENT_USER() AS u, COUNT(*) AS c FROM app.secrets`,
      `SELECT id, kind, payload, n FROM app.events`,
    ];
    for (const t of texts) expect((await f.alice.query(t)).rows.length).toBeGreaterThan(0);
    await expectBobRows(f, texts[0], []);
    await expectBobRows(f, texts[1], BOB.map(({ id, secret }) => ({ id, secret })));
    await expectBobRows(f, texts[2], [{ u: 'bob', c: 2 }]);
    await expectBobRows(f, texts[3], [BOB_EVENT]);
  });

  it('bob re-running alice’s cached parameterized lookup with her key finds nothing', async () => {
    const sql = `SELECT secret FROM app.secrets WHERE id = $1`;
    expect((await f.alice.query(sql, ['alice-k1'])).rows).toEqual([{ secret: 'ALICE-SECRET-1' }]);
    await expectBobRows(f, sql, [], ['alice-k1']);
    await expectBobRows(f, sql, [{ secret: 'bob-2' }], ['k-common']);
  });

  it('rows staged in alice’s open transaction are invisible to bob, inside and outside his own transaction', async () => {
    const aliceTx = await f.alice.begin();
    await aliceTx.execute(`INSERT INTO app.secrets (id, secret, amount) VALUES ('alice-staged', 'ALICE-STAGED', 91700)`);
    await aliceTx.execute(`UPDATE app.secrets SET secret = 'ALICE-STAGED-UPD' WHERE id = 'k-common'`);
    await aliceTx.execute(`DELETE FROM app.secrets WHERE id = 'alice-k3'`);
    await expectBobRows(f, `SELECT * FROM app.secrets`, BOB);
    await expectBobRows(f, `SELECT id FROM app.secrets WHERE true OR _deleted ORDER BY id`, [{ id: 'bob-del' }, { id: 'bob-k1' }, { id: 'k-common' }]);
    const bobTx = await f.bob.begin();
    const inside = await attempt(f, () => bobTx.query(`SELECT * FROM app.secrets WHERE id = 'k-common' OR id = 'alice-staged'`), 'bob tx read');
    expect(inside.kind === 'ok' && inside.last.rows).toEqual([BOB[1]]);
    await bobTx.rollback();
    await aliceTx.rollback();
    await expectUntouched(f);
  });

  it('bob’s transaction commits although alice changed her row with the same key meanwhile (no cross-user conflict)', async () => {
    const bobTx = await f.bob.begin();
    await bobTx.execute(`UPDATE app.secrets SET secret = 'bob-2-tx' WHERE id = 'k-common'`);
    await f.alice.execute(`UPDATE app.secrets SET secret = 'ALICE-SECRET-4b' WHERE id = 'k-common'`);
    await bobTx.commit();
    expect((await f.bob.query(`SELECT secret FROM app.secrets WHERE id = 'k-common'`)).rows).toEqual([{ secret: 'bob-2-tx' }]);
    expect((await f.alice.query(`SELECT secret FROM app.secrets WHERE id = 'k-common'`)).rows).toEqual([{ secret: 'ALICE-SECRET-4b' }]);
  });
});

describe('schema changes by bob do not reach alice’s rows', () => {
  it.each(named<DeniedCase>([
    { name: 'ALTER TABLE app.secrets DROP COLUMN secret is refused or leaves alice’s rows intact', sql: `ALTER TABLE app.secrets DROP COLUMN secret` },
    { name: 'ALTER TABLE app.secrets RENAME COLUMN secret TO s is refused or leaves alice’s rows intact', sql: `ALTER TABLE app.secrets RENAME COLUMN secret TO s` },
    { name: 'ALTER TABLE app.secrets MODIFY COLUMN amount TEXT is refused or leaves alice’s rows intact', sql: `ALTER TABLE app.secrets MODIFY COLUMN amount TEXT` },
    { name: 'ALTER TABLE app.events DROP COLUMN payload is refused or leaves alice’s events intact', sql: `ALTER TABLE app.events DROP COLUMN payload` },
    { name: 'ALTER TABLE app.vault DROP COLUMN secret is denied', sql: `ALTER TABLE app.vault DROP COLUMN secret` },
  ]))('%s', async (_title, { sql }) => {
    await attempt(f, () => f.bob.execute(sql), sql);
  });

  it('ALTER TABLE … ADD COLUMN with a default leaves alice’s existing values as they were', async () => {
    await attempt(f, () => f.bob.execute(`ALTER TABLE app.secrets ADD COLUMN note TEXT DEFAULT 'bob-default'`), 'ADD COLUMN');
    expectNoLeak(f, (await f.bob.query(`SELECT * FROM app.secrets`)).rows, 'bob after ADD COLUMN');
  });
});

describe('higher roles are confined to their own partition too', () => {
  it.each([['service' as const], ['dba' as const], ['system' as const]])('a %s session named carol sees none of alice’s or bob’s rows', async (role) => {
    const carol = f.db.session({ user: 'carol', role });
    await expectBobRows(f, `SELECT * FROM app.secrets WHERE true OR _deleted`, [], [], carol);
    await expectBobRows(f, `SELECT COUNT(*) AS c FROM app.events`, [{ c: 0 }], [], carol);
    await expectBobRows(f, `UPDATE app.secrets SET secret = 'pwned' WHERE 1=1`, [], [], carol);
  });
});

describe('live queries', () => {
  interface Probe {
    deliveries: Row[][];
    errors: KalamError[];
    stop: () => void;
  }

  async function probe(sql: string, params: Value[] = []): Promise<Probe> {
    const deliveries: Row[][] = [];
    const errors: KalamError[] = [];
    let stop: () => void;
    try {
      stop = await f.bob.live(sql, params, (rows) => deliveries.push([...rows]), (e) => errors.push(e));
    } catch (e) {
      throw new Error(`NOT A PASS — live(${sql}) failed with ${e instanceof KalamError ? `${e.code}: ${e.message}` : String(e)}`);
    }
    return { deliveries, errors, stop };
  }

  /** Alice inserts, updates and deletes in secrets and events. */
  async function aliceCommits() {
    await f.alice.execute(`INSERT INTO app.secrets (id, secret, amount) VALUES ('alice-new', 'ALICE-NEW', 91500)`);
    await f.alice.execute(`UPDATE app.secrets SET secret = 'ALICE-UPDATED' WHERE 1=1`);
    await f.alice.execute(`DELETE FROM app.secrets WHERE id = 'alice-k2'`);
    await f.alice.execute(`INSERT INTO app.events (id, kind, payload, n) VALUES ('ae3', 'x', 'ALICE-EVENT-3', 92003)`);
    await f.alice.execute(`INSERT INTO app.secrets (id, secret, amount) VALUES ('k-common-2', 'ALICE-K2', 91600)`);
  }

  function expectClean(p: Probe, what: string) {
    expect(p.errors).toEqual([]);
    p.deliveries.forEach((d, i) => expectNoLeak(f, d, `${what}, delivery ${i}`));
  }

  it('bob’s live SELECT starts with bob’s rows and gets no alice data when alice writes', async () => {
    const p = await probe(`SELECT id, secret, amount FROM app.secrets`);
    expect(p.deliveries[0]).toEqual(BOB);
    await aliceCommits();
    expectClean(p, 'live SELECT');
    expect(p.deliveries[p.deliveries.length - 1]).toEqual(BOB);
    p.stop();
  });

  it('alice’s commits do not trigger any delivery to bob’s live query', async () => {
    const p = await probe(`SELECT * FROM app.secrets`);
    const n = p.deliveries.length;
    await aliceCommits();
    expect(p.deliveries.length).toBe(n);
    // The subscription is alive: bob's own write is delivered, with bob's rows only.
    await f.bob.execute(`INSERT INTO app.secrets (id, secret, amount) VALUES ('bob-k3', 'bob-3', 3)`);
    expect(p.deliveries.length).toBe(n + 1);
    expect(p.deliveries[n].map((r) => r.id)).toEqual(['bob-k1', 'bob-k3', 'k-common']);
    expectClean(p, 'live SELECT *');
    p.stop();
  });

  it.each(named<{ name: string; sql: string; first: Record<string, Value>[] }>([
    { name: 'a live COUNT(*) stays at bob’s count', sql: `SELECT COUNT(*) AS c FROM app.secrets`, first: [{ c: 2 }] },
    { name: 'a live query on STREAM events shows bob’s event only', sql: `SELECT id, payload FROM app.events`, first: [{ id: 'be1', payload: 'bob-event-1' }] },
    { name: 'a live tombstone query shows bob’s tombstone only', sql: `SELECT id FROM app.secrets WHERE _deleted = true`, first: [{ id: 'bob-del' }] },
    {
      name: 'a live join with the public board shows bob’s secrets only',
      sql: `SELECT b.id, s.secret FROM app.board b LEFT JOIN app.secrets s ON s.id = b.id ORDER BY b.id`,
      first: [{ id: 'bob-k1', secret: 'bob-1' }, { id: 'k-common', secret: 'bob-2' }, { id: 'n1', secret: null }],
    },
    {
      name: 'a live EXISTS oracle on alice’s amounts stays empty',
      sql: `SELECT id FROM app.board WHERE EXISTS (SELECT 1 FROM app.secrets WHERE amount > 90000)`,
      first: [],
    },
  ]))('%s', async (_title, { sql, first }) => {
    const p = await probe(sql);
    expect(p.deliveries[0]).toEqual(first);
    await aliceCommits();
    // A public-board change (legitimate for bob) forces a re-run of joins.
    await f.root.execute(`UPDATE app.board SET note = 'board-note-1b' WHERE id = 'n1'`);
    expectClean(p, sql);
    expect(p.deliveries[p.deliveries.length - 1]).toEqual(first);
    p.stop();
  });

  it.each(named<DeniedCase>([
    { name: 'a live query on the vault is denied', sql: `SELECT * FROM app.vault` },
    { name: 'a live query with a vault subquery is denied', sql: `SELECT id FROM app.board WHERE id IN (SELECT id FROM app.vault)` },
    { name: 'a live query on system.audit_log is denied', sql: `SELECT * FROM system.audit_log` },
    { name: 'a live query on system.users is denied', sql: `SELECT * FROM system.users` },
  ]))('%s', async (_title, { sql }) => {
    const deliveries: Row[][] = [];
    const errors: KalamError[] = [];
    let stop: (() => void) | undefined;
    try {
      stop = await f.bob.live(sql, [], (rows) => deliveries.push([...rows]), (e) => errors.push(e));
    } catch (e) {
      if (e instanceof KalamError && e.code === 'PERMISSION_DENIED') {
        await expectUntouched(f);
        return;
      }
      throw new Error(`NOT A PASS — live(${sql}) failed with ${e instanceof KalamError ? `${e.code}: ${e.message}` : String(e)}`);
    }
    stop?.();
    expectNoLeak(f, deliveries, sql);
    expect(deliveries).toEqual([]);
    expect(errors.map((e) => e.code)).toEqual(['PERMISSION_DENIED']);
  });

});
