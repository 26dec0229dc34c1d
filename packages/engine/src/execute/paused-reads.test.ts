import { describe, expect, it } from 'vitest';
import { openDatabase } from '../api/database';

describe('a statement that pauses while commits and flushes run', () => {
  it('reads one committed state, and never fails, while commits and a flush change the hot rows under it', async () => {
    // A 1 ms time slice makes every long read pause many times.
    const db = await openDatabase({ storage: 'memory', statementSliceMs: 1 });
    const s = db.session({ user: 'root', role: 'dba' });
    await s.execute('CREATE NAMESPACE p; CREATE SHARED TABLE p.t (id INT PRIMARY KEY, v INT)');
    const n = 10_000;
    for (let start = 0; start < n; start += 2_000) {
      await s.execute(`INSERT INTO p.t (id, v) VALUES ${Array.from({ length: 1_000 }, (_, i) => `(${(start + i * 2)}, 1)`).join(', ')}`);
    }
    // Each commit adds a few keys between the held ones and deletes a few: changes in the middle of the key order.
    let count = Number((await s.query('SELECT COUNT(*) AS n FROM p.t')).rows[0].n);
    const committed = new Set<number>([count]);
    const counts: { n: number; sum: number }[] = [];
    let done = false;
    const reads = (async () => {
      while (!done) {
        const r = (await s.query('SELECT COUNT(*) AS n, SUM(v) AS s FROM p.t WHERE v > 0')).rows[0];
        counts.push({ n: Number(r.n), sum: Number(r.s) });
      }
    })();
    for (let c = 0; c < 30; c++) {
      const odd = Array.from({ length: 8 }, (_, i) => (c * 331 + i * 1_201) % n | 1);
      const even = Array.from({ length: 4 }, (_, i) => ((c * 577 + i * 2_003) % n) & ~1);
      await s.execute(`INSERT INTO p.t (id, v) VALUES ${[...new Set(odd)].map((id) => `(${id}, 1)`).join(', ')}`).catch(() => undefined);
      await s.execute(`DELETE FROM p.t WHERE id IN (${even.join(', ')})`);
      if (c === 15) await s.execute('STORAGE FLUSH TABLE p.t');
      count = Number((await s.query('SELECT COUNT(*) AS n FROM p.t')).rows[0].n);
      committed.add(count);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    done = true;
    await reads;
    expect(counts.length).toBeGreaterThan(3);
    // Every row has v = 1: a read that saw one state has COUNT = SUM, and that count was a committed one.
    for (const r of counts) {
      expect(r.sum).toBe(r.n);
      expect(committed.has(r.n), `count ${r.n} is a state between commits`).toBe(true);
    }
    await db.close();
  });
});
