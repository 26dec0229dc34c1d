import { afterEach, describe, expect, it } from 'vitest';
import { Engine, type SessionState } from '../../execute/engine';
import { flushPartition } from '../../jobs/flush-run';
import { FakeDirectory } from '../opfs.fixture';
import { LogStore } from '../opfs-log';
import { FileSegmentStore, SEGMENT_FILE_HEADER, segmentFileName } from './file-segment-store';
import type { SegmentKey } from './types';

const root: SessionState = { user: 'root', role: 'dba', namespace: 'default' };
const key = (segmentId: string, user = 'al-ice/€'): SegmentKey => ({ tableId: 7, user, segmentId });
const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

describe('the file segment store (over a fake OPFS directory)', () => {
  it('writes a segment as one file, reads any of its row groups at their offsets, lists and deletes it', async () => {
    const dir = new FakeDirectory();
    const store = new FileSegmentStore(dir);
    await store.put(key('S1'), [bytes(5, 1), bytes(3, 2), bytes(7, 3)]);
    const name = segmentFileName(key('S1'));
    expect(dir.files.get(name)!.durable.length).toBe(SEGMENT_FILE_HEADER + 15); // flushed before put resolved
    const [g2, g0] = await store.readGroups(key('S1'), [{ index: 2, offset: 8, bytes: 7 }, { index: 0, offset: 0, bytes: 5 }]);
    expect([...g2!]).toEqual([3, 3, 3, 3, 3, 3, 3]);
    expect([...g0!]).toEqual([1, 1, 1, 1, 1]);
    expect(await store.readGroups(key('S1'), [{ index: 3, offset: 15, bytes: 4 }])).toEqual([undefined]); // beyond the file
    expect(await store.list()).toEqual([key('S1')]);
    await store.delete([{ ...key('S1'), format: 2, groups: 3 }]);
    expect(dir.files.has(name)).toBe(false);
    await store.delete([{ ...key('S1'), format: 2, groups: 3 }]); // a missing file is not an error
    expect(await store.list()).toEqual([]);
  });

  it('keeps at most maxOpenFiles handles open, one per file, and reads back after a reopen and a crash', async () => {
    const dir = new FakeDirectory();
    const store = new FileSegmentStore(dir, { maxOpenFiles: 2 });
    for (let i = 0; i < 5; i++) await store.put(key(`S${i}`), [bytes(4, i)]);
    expect(store.openFiles).toBe(2);
    const reads = await Promise.all([0, 1, 2, 3, 4, 0, 3].map((i) => store.readGroups(key(`S${i}`), [{ index: 0, offset: 0, bytes: 4 }])));
    expect(reads.map((r) => r[0]![0])).toEqual([0, 1, 2, 3, 4, 0, 3]);
    expect(store.openFiles).toBeLessThanOrEqual(2);
    store.close();
    expect([...dir.files.values()].some((f) => f.isOpen)).toBe(false);
    dir.crash();
    const again = new FileSegmentStore(dir);
    expect((await again.readGroups(key('S3'), [{ index: 0, offset: 0, bytes: 4 }]))[0]).toEqual(bytes(4, 3));
    expect((await again.list()).map((k) => k.segmentId).sort()).toEqual(['S0', 'S1', 'S2', 'S3', 'S4']);
    again.close();
  });
});

describe('an engine with file segments (OPFS layout over fake directories)', () => {
  let engines: Engine[] = [];
  afterEach(async () => {
    for (const e of engines) await e.close();
    engines = [];
  });

  async function openOn(log: FakeDirectory, segments: FakeDirectory): Promise<{ engine: Engine; store: FileSegmentStore }> {
    const store = new FileSegmentStore(segments);
    const engine = await Engine.open({ storage: await LogStore.open(log), segmentStore: store, rowGroupRows: 4, maxSegmentRows: 8, flushCheckIntervalMs: 0 });
    engines.push(engine);
    return { engine, store };
  }

  async function closeIt(engine: Engine): Promise<void> {
    await engine.close();
    engines = engines.filter((e) => e !== engine);
  }

  const ids = async (engine: Engine) => (await engine.execute(root, 'SELECT id FROM app.items'))[0].rows.map((r) => r.id);

  it('flushes into files (not the log), reads them back after a reopen, and open deletes files no entry refers to', async () => {
    const log = new FakeDirectory();
    const segments = new FakeDirectory();
    let { engine, store } = await openOn(log, segments);
    await engine.execute(root, 'CREATE NAMESPACE app; CREATE SHARED TABLE app.items (id INT PRIMARY KEY, name TEXT)');
    const values = Array.from({ length: 20 }, (_, i) => `(${20 - i}, 'n${20 - i}')`).join(', ');
    await engine.execute(root, `INSERT INTO app.items (id, name) VALUES ${values}`);
    await engine.execute(root, 'FLUSH TABLE app.items');
    await engine.jobs.idle();
    expect(engine.cold.manifest.size).toBe(3); // 20 rows, 8 per segment
    expect(segments.files.size).toBe(3);
    // The log holds the manifest entries, not the segment bytes.
    let inLog = 0;
    await engine.kv.scan('segments', { lower: new Uint8Array([0]), upper: new Uint8Array([0xff]) }, () => inLog++);
    expect(inLog).toBe(0);
    expect(await ids(engine)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(store.openFiles).toBeGreaterThan(0);
    // A file no entry refers to (a crash between writing it and committing its entry).
    await store.put({ tableId: 99, user: '', segmentId: 'S1' }, [bytes(10, 9)]);
    await closeIt(engine);
    expect([...segments.files.values()].some((f) => f.isOpen)).toBe(false);

    ({ engine, store } = await openOn(log, segments));
    expect(segments.files.size).toBe(3);
    expect(await ids(engine)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect((await engine.execute(root, 'SELECT name FROM app.items WHERE id = 13'))[0].rows).toEqual([{ name: 'n13' }]);
    await engine.execute(root, 'DROP TABLE app.items');
    expect(segments.files.size).toBe(0);
  });

  it('a flush interrupted after writing its file leaves nothing after a reopen; the rows stay hot', async () => {
    const log = new FakeDirectory();
    const segments = new FakeDirectory();
    let { engine } = await openOn(log, segments);
    await engine.execute(root, "CREATE NAMESPACE app; CREATE SHARED TABLE app.items (id INT PRIMARY KEY, name TEXT); INSERT INTO app.items (id, name) VALUES (1, 'a'), (2, 'b')");
    await flushPartition(engine, engine.catalog.requireTable('app', 'items'), '', { stopAfter: 1 });
    expect(segments.files.size).toBe(1);
    await closeIt(engine);
    ({ engine } = await openOn(log, segments));
    expect(segments.files.size).toBe(0);
    expect(engine.cold.manifest.size).toBe(0);
    expect(await ids(engine)).toEqual([1, 2]);
  });
});
