import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { KalamError } from '../core/errors';
import type { FileRef, ParamValue } from '../core/types';
import { MemoryBlobStore } from '../storage/blob-store';
import { faultyStore, reopened } from '../storage/faulty.fixture';
import { openMemoryStore } from '../storage/memory';
import type { KvStore } from '../storage/kv';
import { Engine, type SessionState } from './engine';
import { readFile, withUploads } from './files';

const T0 = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;
const root: SessionState = { user: 'root', role: 'dba', namespace: 'default' };
const alice: SessionState = { user: 'alice', role: 'user', namespace: 'default' };

afterEach(() => {
  vi.useRealTimers();
});

function clockAt(ms: number): void {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(ms);
}

const bytes = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const run = (engine: Engine, state: SessionState, sql: string, params: ParamValue[] = []) => withUploads(engine, params, (p) => engine.execute(state, sql, p));
const refOf = async (engine: Engine, id: number, where = '') =>
  (await engine.execute(alice, `SELECT body FROM app.docs WHERE id = ${id}${where}`))[0].rows[0].body as unknown as FileRef;
const contents = async (engine: Engine, ref: FileRef) => sha(new Uint8Array(await (await readFile(engine, alice, ref)).arrayBuffer()));
const settle = () => new Promise((r) => setTimeout(r, 0)); // blobs are deleted right after their commit

async function stats(engine: Engine): Promise<Record<string, number>> {
  const r = await engine.execute(root, `SELECT metric_name, metric_value FROM system.stats WHERE metric_name LIKE 'file%'`);
  return Object.fromEntries(r[0].rows.map((x) => [x.metric_name as string, Number(x.metric_value)]));
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(KalamError);
    return (e as KalamError).code;
  }
  throw new Error('expected a failure');
}

async function open(kv: KvStore, blobStore: MemoryBlobStore, retention = 'WITH (DELETED_RETENTION_HOURS = 24)'): Promise<Engine> {
  const engine = await Engine.open({ storage: kv, blobStore });
  await engine.execute(root, `CREATE NAMESPACE IF NOT EXISTS app;
    CREATE USER TABLE IF NOT EXISTS app.docs (id INT PRIMARY KEY, body FILE) ${retention}`);
  return engine;
}

describe('FILE columns: deleted after retention', () => {
  it('a deleted row keeps its file, readable and counted, until the retention job purges its tombstone; then the file goes in that job', async () => {
    clockAt(T0);
    const kv = openMemoryStore();
    const blobs = new MemoryBlobStore();
    let engine = await open(faultyStore(kv, { keepOnClose: true }), blobs);
    await run(engine, alice, 'INSERT INTO app.docs (id, body) VALUES (1, $1), (2, $2)', [new Blob([bytes(100)]), new Blob([bytes(200, 2)])]);
    const one = await refOf(engine, 1);
    await run(engine, alice, 'DELETE FROM app.docs WHERE id = 1');
    expect((await engine.execute(alice, 'SELECT id FROM app.docs'))[0].rows).toEqual([{ id: 2 }]);
    // The tombstone still shows the FileRef, and the file is still there to read.
    expect(await refOf(engine, 1, ' AND _deleted = true')).toEqual(one);
    expect(await contents(engine, one)).toBe(sha(bytes(100)));
    expect(await stats(engine)).toMatchObject({ files: 2, file_bytes: 300, files_retained: 1 });
    expect(await blobs.list()).toHaveLength(2);

    // Kept across a reopen, and not purged before DELETED_RETENTION_HOURS.
    await engine.close();
    engine = await open(reopened(kv), blobs);
    expect(await stats(engine)).toMatchObject({ files: 2, files_retained: 1 });
    await engine.jobs.run('retention', T0 + 23 * HOUR);
    expect(await contents(engine, one)).toBe(sha(bytes(100)));

    const records = await engine.jobs.run('retention', T0 + 25 * HOUR);
    await settle();
    expect(records.map((r) => [r.job_type, r.status, r.rows_affected])).toEqual([
      ['retention', 'completed', 1], // the tombstone
      ['retention', 'completed', 1], // its file
    ]);
    expect(records[1].message).toContain('file');
    expect(await codeOf(readFile(engine, alice, one))).toBe('FILE_NOT_FOUND');
    expect(await blobs.list()).toEqual([(await refOf(engine, 2)).id]);
    expect(await stats(engine)).toMatchObject({ files: 1, file_bytes: 200, files_retained: 0 });
    await engine.close();
  });

  it('a tombstone flushed to the cold tier keeps its file until retention, then the file goes', async () => {
    clockAt(T0);
    const blobs = new MemoryBlobStore();
    const engine = await open(openMemoryStore(), blobs);
    await run(engine, alice, 'INSERT INTO app.docs (id, body) VALUES (1, $1)', [new Blob([bytes(70)])]);
    const ref = await refOf(engine, 1);
    await engine.execute(root, 'STORAGE FLUSH TABLE app.docs');
    await engine.jobs.idle();
    await run(engine, alice, 'DELETE FROM app.docs WHERE id = 1');
    await engine.execute(root, 'STORAGE FLUSH TABLE app.docs');
    await engine.jobs.idle();
    await settle();
    expect(await contents(engine, ref)).toBe(sha(bytes(70)));
    await engine.jobs.run('retention', T0 + 25 * HOUR);
    await engine.jobs.idle();
    await settle();
    expect(await blobs.list()).toEqual([]);
    expect(await stats(engine)).toMatchObject({ files: 0, file_bytes: 0, files_retained: 0 });
    await engine.close();
  });

  it('a retained file still counts against maxFilesBytes until it is purged', async () => {
    clockAt(T0);
    const blobs = new MemoryBlobStore();
    const engine = await Engine.open({ storage: 'memory', blobStore: blobs, maxFilesBytes: 150 });
    await engine.execute(root, `CREATE NAMESPACE app; CREATE USER TABLE app.docs (id INT PRIMARY KEY, body FILE) WITH (DELETED_RETENTION_HOURS = 0)`);
    await run(engine, alice, 'INSERT INTO app.docs (id, body) VALUES (1, $1)', [new Blob([bytes(100)])]);
    await run(engine, alice, 'DELETE FROM app.docs WHERE id = 1');
    const full = run(engine, alice, 'INSERT INTO app.docs (id, body) VALUES (2, $1)', [new Blob([bytes(100)])]);
    await expect(full).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED', message: expect.stringContaining('DELETED_RETENTION_HOURS') });
    vi.setSystemTime(T0 + 1);
    await engine.jobs.run('retention', T0 + 1);
    await run(engine, alice, 'INSERT INTO app.docs (id, body) VALUES (2, $1)', [new Blob([bytes(100)])]);
    expect(await stats(engine)).toMatchObject({ files: 1, file_bytes: 100, files_retained: 0 });
    await engine.close();
  });

  it('an UPDATE replacing a file deletes the old one at once (no old version of a row stays readable); DROP TABLE deletes retained files too', async () => {
    clockAt(T0);
    const blobs = new MemoryBlobStore();
    const engine = await open(openMemoryStore(), blobs);
    await run(engine, alice, 'INSERT INTO app.docs (id, body) VALUES (1, $1), (2, $2)', [new Blob([bytes(10)]), new Blob([bytes(20)])]);
    const first = await refOf(engine, 1);
    await run(engine, alice, 'UPDATE app.docs SET body = $1 WHERE id = 1', [new Blob([bytes(30)])]);
    await settle();
    expect(await codeOf(readFile(engine, alice, first))).toBe('FILE_NOT_FOUND');
    await run(engine, alice, 'DELETE FROM app.docs WHERE id = 2');
    expect(await stats(engine)).toMatchObject({ files: 2, files_retained: 1 });
    await engine.execute(root, 'DROP TABLE app.docs');
    await settle();
    expect(await blobs.list()).toEqual([]);
    expect(await stats(engine)).toMatchObject({ files: 0, file_bytes: 0, files_retained: 0 });
    await engine.close();
  });

  it('a STREAM row keeps its file until it expires: the eviction job deletes both', async () => {
    clockAt(T0);
    const blobs = new MemoryBlobStore();
    const engine = await Engine.open({ storage: 'memory', blobStore: blobs });
    await engine.execute(root, `CREATE NAMESPACE app; CREATE STREAM TABLE app.events (id INT PRIMARY KEY, body FILE) WITH (TTL_SECONDS = 60)`);
    await run(engine, alice, 'INSERT INTO app.events (id, body) VALUES (1, $1)', [new Blob([bytes(10)])]);
    await engine.jobs.run('stream_eviction', T0 + 30_000);
    expect(await blobs.list()).toHaveLength(1);
    vi.setSystemTime(T0 + 61_000);
    await engine.jobs.run('stream_eviction', T0 + 61_000);
    await settle();
    expect(await blobs.list()).toEqual([]);
    expect(await stats(engine)).toMatchObject({ files: 0, files_retained: 0 });
    await engine.close();
  });
});
