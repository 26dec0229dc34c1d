import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Engine, SessionState } from '../execute/engine';

// Whether apache-arrow has been imported since the module registry was last reset.
const arrow = { loaded: false };

/** A fresh module registry: nothing imported yet, and apache-arrow's first import is recorded. */
function resetModules(): void {
  vi.resetModules();
  arrow.loaded = false;
  vi.doMock('apache-arrow', async (importOriginal) => {
    arrow.loaded = true;
    return importOriginal();
  });
}

beforeEach(resetModules);

const root = { user: 'root', role: 'dba' } as const;
const rootState: SessionState = { user: 'root', role: 'dba', namespace: 'default' };

async function openEngine(name: string, indexedDB: IDBFactory): Promise<Engine> {
  const { Engine } = await import('../execute/engine');
  return Engine.open({ storage: 'idb', name, indexedDB });
}

describe('apache-arrow is loaded only when first needed', () => {
  it('not by opening a database (through the public index), hot-only reads, writes, live queries and a reopen', async () => {
    const { openDatabase } = await import('../index');
    const indexedDB = new IDBFactory();
    let db = await openDatabase({ storage: 'idb', name: 'hot', indexedDB });
    let s = db.session(root);
    await s.execute('CREATE NAMESPACE app; CREATE SHARED TABLE app.items (id INT PRIMARY KEY, name TEXT)');
    await s.execute("INSERT INTO app.items (id, name) VALUES (1, 'a'), (2, 'b')");
    await s.execute("UPDATE app.items SET name = 'c' WHERE id = 2");
    let latest: readonly unknown[] = [];
    const stop = await s.live('SELECT id, name FROM app.items ORDER BY id', [], (rows) => { latest = rows; });
    await s.execute('DELETE FROM app.items WHERE id = 1');
    await vi.waitFor(() => expect(latest).toEqual([{ id: 2, name: 'c' }]), { timeout: 5_000 });
    stop();
    expect((await s.query('SELECT COUNT(*) AS n FROM system.manifest')).rows).toEqual([{ n: 0 }]);
    await db.close();

    db = await openDatabase({ storage: 'idb', name: 'hot', indexedDB });
    s = db.session(root);
    expect((await s.query('SELECT id, name FROM app.items')).rows).toEqual([{ id: 2, name: 'c' }]);
    await db.close();
    expect(arrow.loaded).toBe(false);
  });

  it('by FLUSH TABLE', async () => {
    const engine = await openEngine('flush', new IDBFactory());
    try {
      await engine.execute(rootState, 'CREATE NAMESPACE app; CREATE SHARED TABLE app.items (id INT PRIMARY KEY, name TEXT)');
      await engine.execute(rootState, "INSERT INTO app.items (id, name) VALUES (1, 'a')");
      expect(arrow.loaded).toBe(false);
      await engine.execute(rootState, 'FLUSH TABLE app.items');
      await engine.jobs.idle();
      expect(arrow.loaded).toBe(true);
      expect((await engine.execute(rootState, 'SELECT segment_id FROM system.manifest'))[0].rows).toHaveLength(1);
    } finally {
      await engine.close();
    }
  });

  it('by reopening a database that has segments, in the background: the open does not wait for it', async () => {
    const indexedDB = new IDBFactory();
    const first = await openEngine('cold', indexedDB);
    await first.execute(rootState, 'CREATE NAMESPACE app; CREATE SHARED TABLE app.items (id INT PRIMARY KEY, name TEXT); CREATE SHARED TABLE app.other (id INT PRIMARY KEY)');
    await first.execute(rootState, "INSERT INTO app.items (id, name) VALUES (1, 'a'), (2, 'b'); INSERT INTO app.other (id) VALUES (7)");
    await first.execute(rootState, 'FLUSH TABLE app.items');
    await first.jobs.idle();
    await first.close();

    resetModules();
    // The codec's import is held until the open has resolved: the open must not wait for it.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    vi.doMock('apache-arrow', async (importOriginal) => {
      await held;
      arrow.loaded = true;
      return importOriginal();
    });
    const second = await openEngine('cold', indexedDB);
    try {
      expect(arrow.loaded).toBe(false);
      expect((await second.execute(rootState, 'SELECT id FROM app.other'))[0].rows).toEqual([{ id: 7 }]);
      release();
      await vi.waitFor(() => expect(arrow.loaded).toBe(true));
      expect((await second.execute(rootState, 'SELECT id, name FROM app.items ORDER BY id'))[0].rows).toEqual([{ id: 1, name: 'a' }, { id: 2, name: 'b' }]);
    } finally {
      release();
      await second.close();
    }
  });

  it('by queryArrow, and not by a queryArrow refused before it runs', async () => {
    const { openDatabase } = await import('../index');
    const db = await openDatabase({ storage: 'memory' });
    try {
      const s = db.session(root);
      await s.execute('CREATE NAMESPACE app; CREATE SHARED TABLE app.items (id INT PRIMARY KEY)');
      await expect(s.queryArrow('INSERT INTO app.items (id) VALUES (1)')).rejects.toMatchObject({ code: 'INVALID_SQL' });
      expect(arrow.loaded).toBe(false);
      expect((await s.queryArrow('SELECT id FROM app.items')).numRows).toBe(0);
      expect(arrow.loaded).toBe(true);
    } finally {
      await db.close();
    }
  });
});
