/**
 * Isolation attack suite, topics (issue 16): a topic carries the changes of
 * every user's rows, so CONSUME by a user-role session must return only the
 * messages of its own USER/STREAM-table rows and of SHARED tables its role
 * may read, and its consumer groups must be its own (bob can neither read
 * from nor move alice's position). Same fixture and judges as
 * isolation.test.ts (isolation.fixture.ts): alice's values and the vault's
 * never reach bob, in rows or error messages.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildFixture, expectDenied, expectNoLeak, expectUntouched, snapshot, type Fixture } from './isolation.fixture';
import { KalamError } from '../core/errors';
import type { Row } from '../core/types';

let f: Fixture;

beforeEach(async () => {
  f = await buildFixture();
  // The dba routes every change of every table into one topic (and one per table type).
  await f.root.execute(`CREATE TOPIC everything PARTITIONS 3;
    ALTER TOPIC everything ADD SOURCE app.secrets ON INSERT; ALTER TOPIC everything ADD SOURCE app.secrets ON UPDATE WITH (payload = 'diff');
    ALTER TOPIC everything ADD SOURCE app.secrets ON DELETE WITH (payload = 'full');
    ALTER TOPIC everything ADD SOURCE app.events ON INSERT; ALTER TOPIC everything ADD SOURCE app.vault ON INSERT;
    ALTER TOPIC everything ADD SOURCE app.vault ON UPDATE; ALTER TOPIC everything ADD SOURCE app.board ON INSERT;
    CREATE TOPIC keys; ALTER TOPIC keys ADD SOURCE app.secrets ON INSERT WITH (payload = 'key')`);
  await f.alice.execute(`INSERT INTO app.secrets (id, secret, amount) VALUES ('alice-new1', 'ALICE-NEW-1', 91101);
    UPDATE app.secrets SET secret = 'ALICE-CHANGED-2' WHERE id = 'alice-k2'; DELETE FROM app.secrets WHERE id = 'alice-k3';
    INSERT INTO app.events (id, kind, payload, n) VALUES ('ae9', 'click', 'ALICE-EVENT-9', 92009)`);
  await f.root.execute(`INSERT INTO app.vault (id, secret, level) VALUES ('v9', 'VAULT-TOKEN-9', 93009);
    UPDATE app.vault SET secret = 'VAULT-TOKEN-1B' WHERE id = 'v1'; INSERT INTO app.board (id, owner, note) VALUES ('n9', 'root', 'board-note-9')`);
  await f.bob.execute(`INSERT INTO app.secrets (id, secret, amount) VALUES ('bob-new1', 'bob-new', 5);
    INSERT INTO app.events (id, kind, payload, n) VALUES ('be9', 'click', 'bob-event-9', 6)`);
  // Alice's new rows are part of what must stay untouched and unseen.
  f.baseline = await snapshot(f);
  for (const r of [...f.baseline.aliceSecrets, ...f.baseline.aliceEvents, ...f.baseline.vault]) f.forbiddenSeqs.add(r._seq as bigint);
});

afterEach(async () => {
  await f.db.close();
});

const bobSees = (rows: readonly Row[]) => rows.map((r) => [r.table_name, r.op, r.key]);

/**
 * Bob runs `sql` (a CONSUME or ACK); it must succeed, nothing it returns may
 * carry alice's or the vault's data, and nothing may change. A message's
 * `timestamp` (a commit time in ms) is left out of the leak scan: the
 * scanner flags every number past alice's amounts.
 */
async function bobConsumes(sql: string): Promise<readonly Row[]> {
  let rows: readonly Row[];
  try {
    rows = (await f.bob.query(sql)).rows;
  } catch (e) {
    throw new Error(`NOT A PASS — ${sql} failed with ${e instanceof KalamError ? `${e.code}: ${e.message}` : String(e)}`);
  }
  expectNoLeak(f, rows.map(({ timestamp: _t, ...rest }) => rest), sql);
  await expectUntouched(f);
  return rows;
}

describe('CONSUME by a user-role session', () => {
  it('returns only the messages of bob’s own rows and of the public board', async () => {
    const rows = await bobConsumes('CONSUME FROM everything FROM EARLIEST LIMIT 100');
    expect(bobSees(rows)).toEqual([
      ['app.board', 'insert', 'n9'],
      ['app.secrets', 'insert', 'bob-new1'],
      ['app.events', 'insert', expect.any(String)], // a STREAM row's key is its _seq, past 2^53: JSON text
    ]);
    expect(rows.filter((m) => m.table_name !== 'app.board').every((m) => m.user_id === 'bob')).toBe(true);
  });

  it.each([
    ['every message from offset 0', 'CONSUME FROM everything FROM 0'],
    ['LATEST', 'CONSUME FROM everything FROM LATEST'],
    ['a group', "CONSUME FROM everything GROUP 'g'"],
    ['key-only payloads', 'CONSUME FROM keys FROM EARLIEST'],
    ['a LIMIT of 1 (alice’s messages come first)', 'CONSUME FROM everything LIMIT 1'],
  ])('%s leaks nothing of alice or the vault', async (_what, sql) => {
    await bobConsumes(sql);
  });

  it('alice gets her own messages, not bob’s', async () => {
    const mine = (await f.alice.query('CONSUME FROM everything LIMIT 100')).rows;
    expect(mine.filter((m) => m.table_name === 'app.secrets').map((m) => [m.op, m.key])).toEqual([
      ['insert', 'alice-new1'], ['update', 'alice-k2'], ['delete', 'alice-k3'],
    ]);
    expect(mine.some((m) => JSON.stringify(m.payload).includes('bob'))).toBe(false);
  });

  it('a service session sees every message', async () => {
    const svc = f.db.session({ user: 'svc', role: 'service' });
    const all = (await svc.query('CONSUME FROM everything LIMIT 100')).rows;
    expect(all.length).toBe(9); // alice 4, root 3 (vault 2, board 1), bob 2
    expect(all.some((m) => m.user_id === 'alice')).toBe(true);
  });
});

describe('consumer groups of user-role sessions are their own', () => {
  it('bob’s ACK does not move alice’s group of the same name, nor a service group', async () => {
    const svc = f.db.session({ user: 'svc', role: 'service' });
    const aliceFirst = (await f.alice.query("CONSUME FROM everything GROUP 'sync' LIMIT 100")).rows;
    const svcFirst = (await svc.query("CONSUME FROM everything GROUP 'sync' LIMIT 100")).rows;
    // Bob acks the newest offset of every partition under the same group name.
    const bobs = (await f.bob.query("CONSUME FROM everything GROUP 'sync' LIMIT 100")).rows;
    for (let p = 0; p < 3; p++) {
      const newest = svcFirst.filter((m) => m.partition === p).map((m) => m.offset as bigint).sort().pop();
      if (newest !== undefined) await bobConsumes(`ACK everything GROUP 'sync' PARTITION ${p} UPTO OFFSET ${newest}`);
    }
    expect((await f.bob.query("CONSUME FROM everything GROUP 'sync' LIMIT 100")).rows).toEqual([]);
    expect(bobs.length).toBeGreaterThan(0);
    expect((await f.alice.query("CONSUME FROM everything GROUP 'sync' LIMIT 100")).rows).toEqual(aliceFirst);
    expect((await svc.query("CONSUME FROM everything GROUP 'sync' LIMIT 100")).rows).toEqual(svcFirst);
  });

  it('bob cannot read system.topic_offsets or system.topics', async () => {
    await expectDenied(f, 'SELECT * FROM system.topic_offsets');
    await expectDenied(f, 'SELECT * FROM system.topics');
  });

  it('bob cannot define, clear or re-route topics', async () => {
    for (const sql of ['CLEAR TOPIC everything', 'DROP TOPIC keys', 'ALTER TOPIC keys ADD SOURCE app.vault ON INSERT', 'CREATE TOPIC mine']) {
      await expectDenied(f, sql);
    }
  });
});
