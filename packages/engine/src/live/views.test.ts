/**
 * Live queries over views: the view is expanded when the live query is
 * planned, so its plan reads the tables underneath and the subscription is
 * re-run on their commits, under the subscriber's session.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database, type Session } from '../api/database';
import type { KalamError } from '../core/errors';
import type { Row } from '../core/types';

let db: Database;
let root: Session;
let alice: Session;
let bob: Session;

interface Probe {
  deliveries: (readonly Row[])[];
  errors: KalamError[];
  stop: () => void;
  readonly last: readonly Row[];
}

async function probe(s: Session, sql: string): Promise<Probe> {
  const deliveries: (readonly Row[])[] = [];
  const errors: KalamError[] = [];
  const stop = await s.live(sql, [], (rows) => deliveries.push(rows), (e) => errors.push(e));
  return { deliveries, errors, stop, get last() { return deliveries[deliveries.length - 1]; } };
}

beforeEach(async () => {
  db = await openDatabase({ storage: 'memory' });
  root = db.session({ user: 'root', role: 'system' });
  alice = db.session({ user: 'alice', role: 'service' });
  bob = db.session({ user: 'bob', role: 'service' });
  await root.execute(`CREATE NAMESPACE app;
    CREATE USER TABLE app.notes (id INT PRIMARY KEY, rank INT, body TEXT);
    CREATE SHARED TABLE app.labels (rank INT PRIMARY KEY, label TEXT);
    CREATE VIEW app.top_notes AS SELECT id, body FROM app.notes WHERE rank >= 5;
    CREATE VIEW app.labelled AS SELECT n.id, l.label FROM app.top_notes t JOIN app.notes n ON n.id = t.id JOIN app.labels l ON l.rank = n.rank`);
});

afterEach(() => db.close());

describe('live queries over views', () => {
  it('follow inserts, updates and deletes of the table underneath, per user', async () => {
    const a = await probe(alice, 'SELECT * FROM app.top_notes ORDER BY id');
    const b = await probe(bob, 'SELECT * FROM app.top_notes ORDER BY id');
    expect(a.last).toEqual([]);
    await alice.execute(`INSERT INTO app.notes (id, rank, body) VALUES (1, 9, 'high'), (2, 1, 'low')`);
    expect(a.last).toEqual([{ id: 1, body: 'high' }]);
    await alice.execute(`UPDATE app.notes SET rank = 7 WHERE id = 2`);
    expect(a.last).toEqual([{ id: 1, body: 'high' }, { id: 2, body: 'low' }]);
    await alice.execute(`DELETE FROM app.notes WHERE id = 1`);
    expect(a.last).toEqual([{ id: 2, body: 'low' }]);
    // Bob's subscription to the same view never saw alice's rows, and only his own commit reaches it.
    expect(b.deliveries).toEqual([[]]);
    await bob.execute(`INSERT INTO app.notes (id, rank, body) VALUES (1, 5, 'bob')`);
    expect(b.last).toEqual([{ id: 1, body: 'bob' }]);
    expect(a.last).toEqual([{ id: 2, body: 'low' }]);
    expect([...a.errors, ...b.errors]).toEqual([]);
    a.stop();
    b.stop();
  });

  it('a nested view joining a USER and a SHARED table follows commits to either', async () => {
    const p = await probe(alice, 'SELECT * FROM app.labelled ORDER BY id');
    await alice.execute(`INSERT INTO app.notes (id, rank, body) VALUES (1, 9, 'x'), (2, 6, 'y')`);
    expect(p.last).toEqual([]);
    await root.execute(`INSERT INTO app.labels (rank, label) VALUES (9, 'urgent')`);
    expect(p.last).toEqual([{ id: 1, label: 'urgent' }]);
    await alice.execute(`UPDATE app.notes SET rank = 9 WHERE id = 2`);
    expect(p.last).toEqual([{ id: 1, label: 'urgent' }, { id: 2, label: 'urgent' }]);
    const live = await root.query(`SELECT namespace_id, table_name, query FROM system.live WHERE user_id = 'alice'`);
    expect(live.rows).toEqual([{ namespace_id: 'app', table_name: expect.stringMatching(/^(notes|labels)$/), query: 'SELECT * FROM app.labelled ORDER BY id' }]);
    expect(p.errors).toEqual([]);
    p.stop();
  });
});
