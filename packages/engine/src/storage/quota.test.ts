import { describe, expect, it } from 'vitest';
import { openDatabase } from '../api/database';
import { KalamError } from '../core/errors';
import { storageError } from './idb';
import { recordingStore } from './kv.fixture';
import { openMemoryStore } from './memory';
import { isQuotaError } from './quota';

async function setup() {
  const kv = recordingStore(openMemoryStore());
  const db = await openDatabase({ storage: kv });
  const admin = db.session({ user: 'root', role: 'dba' });
  await admin.execute(`CREATE NAMESPACE app; CREATE USER TABLE app.todos (id INT PRIMARY KEY, title TEXT)`);
  const alice = db.session({ user: 'alice' });
  await alice.execute(`INSERT INTO app.todos (id, title) VALUES (1, 'committed')`);
  return { kv, db, admin, alice };
}

async function failure(p: Promise<unknown>): Promise<KalamError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(KalamError);
    return e as KalamError;
  }
  throw new Error('expected a failure');
}

describe('storage quota', () => {
  it("maps IndexedDB's QuotaExceededError to QUOTA_EXCEEDED with a message that says what to do", () => {
    const e = storageError('writing to "db"', new DOMException('quota', 'QuotaExceededError'));
    expect(e.code).toBe('QUOTA_EXCEEDED');
    expect(e.message).toMatch(/^Storage quota exceeded/);
    expect(e.message).toMatch(/free space/i);
    expect(e.message).toMatch(/nothing of this write was saved/);
    expect(storageError('x', new DOMException('other', 'AbortError')).code).toBe('STORAGE_ERROR');
  });

  it('recognises the quota failure by name only', () => {
    expect(isQuotaError(new DOMException('q', 'QuotaExceededError'))).toBe(true);
    expect(isQuotaError(Object.assign(new Error('q'), { name: 'QuotaExceededError' }))).toBe(true);
    expect(isQuotaError(new Error('QuotaExceededError'))).toBe(false);
    expect(isQuotaError(null)).toBe(false);
  });

  it('fails an INSERT with QUOTA_EXCEEDED, keeps what was committed, and accepts the next write once there is space', async () => {
    const { kv, alice } = await setup();
    kv.isFull = true;
    expect((await failure(alice.execute(`INSERT INTO app.todos (id, title) VALUES (2, 'too much')`))).code).toBe('QUOTA_EXCEEDED');
    expect((await failure(alice.execute(`UPDATE app.todos SET title = 'changed' WHERE id = 1`))).code).toBe('QUOTA_EXCEEDED');
    expect((await alice.query('SELECT id, title FROM app.todos')).rows).toEqual([{ id: 1, title: 'committed' }]);
    kv.isFull = false;
    await alice.execute(`INSERT INTO app.todos (id, title) VALUES (2, 'fits now')`);
    expect((await alice.query('SELECT id FROM app.todos ORDER BY id')).rows).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it('rolls back a transaction whose commit hits the quota, with QUOTA_EXCEEDED', async () => {
    const { kv, alice } = await setup();
    const tx = await alice.begin();
    await tx.execute(`INSERT INTO app.todos (id, title) VALUES (5, 'staged'); DELETE FROM app.todos WHERE id = 1`);
    kv.isFull = true;
    expect((await failure(tx.commit())).code).toBe('QUOTA_EXCEEDED');
    kv.isFull = false;
    expect((await alice.query('SELECT id, title FROM app.todos')).rows).toEqual([{ id: 1, title: 'committed' }]);
    await alice.transaction(async (again) => {
      await again.execute(`INSERT INTO app.todos (id, title) VALUES (5, 'retried')`);
    });
    expect((await alice.query('SELECT id FROM app.todos ORDER BY id')).rows).toEqual([{ id: 1 }, { id: 5 }]);
  });

  it('fails DDL with QUOTA_EXCEEDED without changing the catalog', async () => {
    const { kv, admin } = await setup();
    kv.isFull = true;
    expect((await failure(admin.execute(`CREATE SHARED TABLE app.more (id INT PRIMARY KEY)`))).code).toBe('QUOTA_EXCEEDED');
    kv.isFull = false;
    expect((await failure(admin.query(`SELECT * FROM app.more`))).code).toBe('TABLE_NOT_FOUND');
    await admin.execute(`CREATE SHARED TABLE app.more (id INT PRIMARY KEY)`);
    expect((await admin.query(`SELECT * FROM app.more`)).rows).toEqual([]);
  });

  it('keeps committed rows across a reopen after a quota failure', async () => {
    const inner = openMemoryStore();
    const kv = recordingStore(inner);
    const db = await openDatabase({ storage: kv });
    const admin = db.session({ user: 'root', role: 'dba' });
    await admin.execute(`CREATE NAMESPACE app; CREATE SHARED TABLE app.t (id INT PRIMARY KEY)`);
    await admin.execute(`INSERT INTO app.t (id) VALUES (1), (2)`);
    kv.isFull = true;
    await failure(admin.execute(`INSERT INTO app.t (id) VALUES (3)`));
    kv.isFull = false;
    // A second engine over the same storage sees exactly the committed rows.
    const again = await openDatabase({ storage: recordingStore(inner) });
    expect((await again.session({ user: 'root', role: 'dba' }).query(`SELECT id FROM app.t ORDER BY id`)).rows).toEqual([{ id: 1 }, { id: 2 }]);
  });
});
