/**
 * Isolation attack suite, views (issue 14): a view is expanded under the
 * reader's session, so no view — created by a dba, over USER, STREAM,
 * private SHARED or system tables, nested, joined — lets bob read alice's
 * rows or the vault, or write through it. Same fixture and judges as
 * isolation.test.ts (isolation.fixture.ts).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { attempt, buildFixture, expectBobRows, expectDenied, expectNoLeak, expectRefused, type Fixture } from './isolation.fixture';
import type { Row, Value } from '../core/types';
import { KalamError } from '../core/errors';

let f: Fixture;

beforeEach(async () => {
  f = await buildFixture();
  // Views the dba defines for the app: each reads something bob must only see his part of.
  await f.root.execute(`
    CREATE VIEW app.my_secrets AS SELECT id, secret, amount FROM app.secrets;
    CREATE VIEW app.all_secrets_ever AS SELECT id, secret, amount, _deleted FROM app.secrets WHERE _deleted = true OR _deleted = false;
    CREATE VIEW app.secrets_on_board AS SELECT s.id, s.secret, b.note FROM app.secrets s JOIN app.board b ON b.id = s.id;
    CREATE VIEW app.secrets_and_vault AS SELECT s.id, s.secret, v.secret AS vault_secret FROM app.secrets s LEFT JOIN app.vault v ON v.id = s.id;
    CREATE VIEW app.vault_view AS SELECT id, secret FROM app.vault;
    CREATE VIEW app.my_events AS SELECT id, payload, n FROM app.events;
    CREATE VIEW app.nested AS SELECT id, secret FROM app.my_secrets WHERE amount < 100000;
    CREATE VIEW app.totals AS SELECT COUNT(*) AS c, SUM(amount) AS total FROM app.secrets;
    CREATE VIEW app.users_view AS SELECT user_id FROM system.users`);
});

afterEach(async () => {
  await f.db.close();
});

const BOB = [
  { id: 'bob-k1', secret: 'bob-1', amount: 1 },
  { id: 'k-common', secret: 'bob-2', amount: 2 },
];

describe('a view over a USER table gives each reader their own rows', () => {
  it('alice and bob read the same view and each gets only their rows', async () => {
    await expectBobRows(f, 'SELECT * FROM app.my_secrets ORDER BY id', BOB);
    const alices = (await f.alice.query('SELECT id FROM app.my_secrets ORDER BY id')).rows.map((r) => r.id);
    expect(alices).toEqual(['alice-k1', 'alice-k2', 'alice-k3', 'k-common']);
  });

  it.each([
    ['a point lookup on alice’s key', `SELECT * FROM app.my_secrets WHERE id = 'alice-k1'`, []],
    ['a range on alice’s amounts', `SELECT * FROM app.my_secrets WHERE amount > 90000`, []],
    ['the key both users have', `SELECT * FROM app.my_secrets WHERE id = 'k-common'`, [BOB[1]]],
    ['a view of a view', `SELECT * FROM app.nested ORDER BY id`, BOB.map(({ id, secret }) => ({ id, secret }))],
    ['an aggregate view', `SELECT * FROM app.totals`, [{ c: 2, total: 3 }]],
    ['tombstones through a view naming _deleted', `SELECT id, _deleted FROM app.all_secrets_ever ORDER BY id`,
      [{ id: 'bob-del', _deleted: true }, { id: 'bob-k1', _deleted: false }, { id: 'k-common', _deleted: false }]],
    ['a STREAM view', `SELECT * FROM app.my_events`, [{ id: 'be1', payload: 'bob-event-1', n: 4 }]],
    ['a view in a subquery', `SELECT COUNT(*) AS c FROM app.board WHERE id IN (SELECT id FROM app.my_secrets)`, [{ c: 2 }]],
    ['a view joined with itself', `SELECT a.id FROM app.my_secrets a JOIN app.my_secrets b ON a.id = b.id ORDER BY a.id`, [{ id: 'bob-k1' }, { id: 'k-common' }]],
    ['a view inside a CTE and a UNION', `WITH s AS (SELECT id FROM app.my_secrets) SELECT id FROM s UNION SELECT id FROM app.nested ORDER BY id`,
      [{ id: 'bob-k1' }, { id: 'k-common' }]],
  ] as [string, string, Row[]][])('%s', async (_name, sql, rows) => {
    await expectBobRows(f, sql, rows as Record<string, Value>[]);
  });

  it('a view joining a USER table and a public SHARED table gives bob his rows joined to the board', async () => {
    await expectBobRows(f, 'SELECT * FROM app.secrets_on_board ORDER BY id', [
      { id: 'bob-k1', secret: 'bob-1', note: 'board-note-bob' },
      { id: 'k-common', secret: 'bob-2', note: 'board-note-common' },
    ]);
  });
});

describe('a view grants no rights of its creator', () => {
  it.each([
    ['a view over the private vault', 'SELECT * FROM app.vault_view'],
    ['a view joining bob’s rows to the private vault', 'SELECT * FROM app.secrets_and_vault'],
    ['the vault view in a subquery', `SELECT id FROM app.board WHERE EXISTS (SELECT 1 FROM app.vault_view)`],
    ['the vault view with LIMIT 0', 'SELECT * FROM app.vault_view LIMIT 0'],
    ['a view over system.users', 'SELECT * FROM app.users_view'],
  ])('%s is PERMISSION_DENIED', async (_name, sql) => {
    await expectDenied(f, sql);
  });

  it('bob cannot create, replace or drop views', async () => {
    await expectDenied(f, 'CREATE VIEW app.bob_view AS SELECT * FROM app.secrets');
    await expectDenied(f, 'CREATE OR REPLACE VIEW app.my_secrets AS SELECT id, secret, amount FROM app.board');
    await expectDenied(f, 'DROP VIEW app.my_secrets');
    await expectBobRows(f, 'SELECT * FROM app.my_secrets ORDER BY id', BOB);
  });

  it('a service user may create a view, but it reads only what each reader may read', async () => {
    const svc = f.db.session({ user: 'svc', role: 'service' });
    await svc.execute('CREATE VIEW app.svc_vault AS SELECT id, secret FROM app.vault');
    expect((await svc.query('SELECT COUNT(*) AS c FROM app.svc_vault')).rows).toEqual([{ c: 3 }]);
    await expectDenied(f, 'SELECT * FROM app.svc_vault');
  });

  it('writes through a view are refused and change nothing', async () => {
    for (const sql of [
      `INSERT INTO app.my_secrets (id, secret, amount) VALUES ('alice-k1', 'pwned', 0)`,
      `UPDATE app.my_secrets SET secret = 'pwned' WHERE 1=1`,
      `DELETE FROM app.my_secrets WHERE 1=1`,
      `UPDATE app.vault_view SET secret = 'pwned' WHERE 1=1`,
    ]) {
      const e = await expectRefused(f, sql, ['INVALID_SQL']);
      expect(e.message).toContain('views are read-only');
    }
  });
});

describe('EXECUTE AS USER over a view', () => {
  it('bob impersonating alice through a view is denied', async () => {
    await expectDenied(f, `EXECUTE AS USER 'alice' (SELECT * FROM app.my_secrets)`);
  });

  it('a service impersonating alice reads alice’s rows through the view, and a SHARED view is refused', async () => {
    const svc = f.db.session({ user: 'svc', role: 'service' });
    const r = await svc.execute(`EXECUTE AS USER 'alice' (SELECT id FROM app.my_secrets ORDER BY id)`);
    expect(r[0].rows.map((x) => x.id)).toEqual(['alice-k1', 'alice-k2', 'alice-k3', 'k-common']);
    const mine = await svc.execute(`EXECUTE AS USER 'bob' (SELECT id FROM app.nested ORDER BY id)`);
    expect(mine[0].rows).toEqual([{ id: 'bob-k1' }, { id: 'k-common' }]);
    let err: unknown;
    try {
      await svc.execute(`EXECUTE AS USER 'alice' (SELECT * FROM app.secrets_on_board)`);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KalamError);
    expect((err as KalamError).code).toBe('PERMISSION_DENIED');
  });
});

describe('live queries over views', () => {
  it('bob’s live query over a view of a USER table starts with his rows and never sees alice’s writes', async () => {
    const deliveries: Row[][] = [];
    const errors: unknown[] = [];
    const stop = await f.bob.live('SELECT id, secret, amount FROM app.my_secrets ORDER BY id', [], (rows) => deliveries.push([...rows]), (e) => errors.push(e));
    expect(deliveries[0]).toEqual(BOB);
    await f.alice.execute(`INSERT INTO app.secrets (id, secret, amount) VALUES ('alice-new', 'ALICE-NEW', 91500)`);
    await f.alice.execute(`UPDATE app.secrets SET secret = 'ALICE-UPDATED' WHERE 1=1`);
    expect(deliveries).toHaveLength(1);
    await f.bob.execute(`INSERT INTO app.secrets (id, secret, amount) VALUES ('bob-new', 'bob-3', 5)`);
    expect(deliveries[deliveries.length - 1]).toEqual([BOB[0], { id: 'bob-new', secret: 'bob-3', amount: 5 }, BOB[1]]);
    expect(errors).toEqual([]);
    deliveries.forEach((d, i) => expectNoLeak(f, d, `live view delivery ${i}`));
    stop();
  });

  it('bob’s live query over the vault view is refused', async () => {
    const o = await attempt(f, async () => {
      const stop = await f.bob.live('SELECT * FROM app.vault_view', [], () => undefined);
      stop();
      return [];
    }, 'live over the vault view');
    expect(o.kind).toBe('denied');
  });
});
