import { beforeEach, describe, expect, it, vi } from 'vitest';

// Whether apache-arrow has been imported since the module registry was reset.
const arrow = { loaded: false };

beforeEach(() => {
  vi.resetModules();
  arrow.loaded = false;
  vi.doMock('apache-arrow', async (importOriginal) => {
    arrow.loaded = true;
    return importOriginal();
  });
});

describe('apache-arrow on both sides of the client', () => {
  it('is not loaded by queries, writes and live queries, and is by the first queryArrow', async () => {
    const { openDatabase } = await import('@kalamlite/engine');
    const { createLocalClient } = await import('./client');
    const client = createLocalClient(await openDatabase({ storage: 'memory' }));
    try {
      const s = client.session({ user: 'root', role: 'dba' });
      await s.execute("CREATE NAMESPACE app; CREATE SHARED TABLE app.items (id INT PRIMARY KEY, name TEXT); INSERT INTO app.items (id, name) VALUES (1, 'a')");
      let latest: readonly unknown[] = [];
      const stop = await s.live('SELECT id, name FROM app.items', [], (rows) => { latest = rows; });
      expect((await s.query('SELECT id, name FROM app.items')).rows).toEqual([{ id: 1, name: 'a' }]);
      expect(latest).toEqual([{ id: 1, name: 'a' }]);
      await stop();
      expect(arrow.loaded).toBe(false);

      const table = await s.queryArrow('SELECT id, name FROM app.items');
      expect(arrow.loaded).toBe(true);
      expect(table.getChild('name')?.toArray()).toEqual(['a']);
    } finally {
      await client.close();
    }
  });
});
