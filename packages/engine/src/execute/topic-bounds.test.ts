import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { KalamError } from '../core/errors';
import type { Row } from '../core/types';
import { Engine, type OpenOptions, type SessionState } from './engine';

const root: SessionState = { user: 'root', role: 'system', namespace: 'default' };
let engine: Engine;

async function open(options: Partial<OpenOptions> = {}): Promise<Engine> {
  engine = await Engine.open({ storage: 'memory', retentionIntervalMs: 0, ...options } as OpenOptions);
  await run('CREATE NAMESPACE app; CREATE SHARED TABLE app.t (id INT PRIMARY KEY, v TEXT)');
  return engine;
}

async function run(sql: string): Promise<readonly Row[]> {
  const results = await engine.execute(root, sql);
  return results[results.length - 1].rows;
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

const stat = async (name: string) => Number((await run(`SELECT metric_value FROM system.stats WHERE metric_name = '${name}'`))[0]?.metric_value);
const insert = (from: number, to: number) => run(`INSERT INTO app.t VALUES ${Array.from({ length: to - from + 1 }, (_, i) => `(${from + i}, 'v${from + i}')`).join(', ')}`);

afterEach(async () => {
  await engine.close();
});

describe('maxTopicMessages: every topic log is bounded', () => {
  it('drops the oldest messages in the commit that goes past the bound, across partitions, and says so in system.stats', async () => {
    await open({ maxTopicMessages: 5 });
    await run('CREATE TOPIC t PARTITIONS 2; ALTER TOPIC t ADD SOURCE app.t ON INSERT');
    await insert(1, 4);
    await insert(5, 7);
    const keys = (await run('CONSUME FROM t FROM EARLIEST LIMIT 100')).map((r) => r.key);
    expect(keys).toHaveLength(5);
    // The dropped two are of the older commit (1–4); every message of the newer one stays.
    expect(keys.filter((k) => (k as number) <= 4)).toHaveLength(2);
    expect(keys.filter((k) => (k as number) > 4).sort()).toEqual([5, 6, 7]);
    expect(await stat('topic_messages')).toBe(5);
    expect(await stat('topic_messages_dropped')).toBe(2);
    expect(await stat('topic_messages.t')).toBe(5);
    expect(await stat('topic_messages_max_per_topic')).toBe(5);
  });

  it('keeps only the newest when one statement writes more than the bound', async () => {
    await open({ maxTopicMessages: 3 });
    await run('CREATE TOPIC t; ALTER TOPIC t ADD SOURCE app.t ON INSERT');
    await insert(1, 10);
    const rows = await run('CONSUME FROM t FROM EARLIEST');
    expect(rows.map((r) => [r.key, r.offset])).toEqual([[8, 7n], [9, 8n], [10, 9n]]);
  });

  it('survives a reopen with the bound, its offsets and retained messages intact', async () => {
    const indexedDB = new IDBFactory();
    const options = { storage: 'idb', name: 'bounds', indexedDB, maxTopicMessages: 3 } as const;
    await open(options);
    await run('CREATE TOPIC t; ALTER TOPIC t ADD SOURCE app.t ON INSERT');
    await insert(1, 4);
    await engine.close();
    engine = await Engine.open({ ...options, retentionIntervalMs: 0 });
    await insert(5, 5);
    expect((await run('CONSUME FROM t FROM EARLIEST')).map((r) => [r.key, r.offset])).toEqual([[3, 2n], [4, 3n], [5, 4n]]);
  });
});

describe('messages stored 64 to a page', () => {
  it('keeps exactly the newest maxTopicMessages across page boundaries, drops, CLEAR and a reopen', async () => {
    const indexedDB = new IDBFactory();
    const options = { storage: 'idb', name: 'pages', indexedDB, maxTopicMessages: 100 } as const;
    await open(options);
    await run('CREATE TOPIC t PARTITIONS 3; ALTER TOPIC t ADD SOURCE app.t ON INSERT');
    const written: number[] = [];
    let next = 1;
    const check = async () => {
      const rows = await run('CONSUME FROM t FROM EARLIEST LIMIT 10000');
      expect(rows.map((r) => r.key)).toEqual(written.slice(-100));
      for (let p = 0; p < 3; p++) {
        const offsets = rows.filter((r) => r.partition === p).map((r) => Number(r.offset));
        expect(offsets).toEqual(offsets.map((_, i) => offsets[0] + i)); // contiguous
      }
      // A window starting inside a page, and LIMITs smaller than a page.
      const from = Number(rows[Math.floor(rows.length / 2)]?.offset ?? 0);
      const tail = await run(`CONSUME FROM t FROM ${from} LIMIT 5`);
      expect(tail.every((r) => Number(r.offset) >= from)).toBe(true);
      expect(tail.length).toBe(Math.min(5, rows.filter((r) => Number(r.offset) >= from).length));
    };
    for (const size of [7, 64, 1, 130, 63, 200, 2, 65]) {
      await insert(next, next + size - 1);
      for (let i = 0; i < size; i++) written.push(next + i);
      next += size;
      await check();
    }
    await engine.close();
    engine = await Engine.open({ ...options, retentionIntervalMs: 0 });
    await check();
    await insert(next, next + 40);
    for (let i = 0; i <= 40; i++) written.push(next + i);
    next += 41;
    await check();
    const before = await run('CONSUME FROM t FROM LATEST');
    expect(before).toEqual([]);
    await run('CLEAR TOPIC t');
    written.length = 0;
    await check();
    await insert(next, next + 70);
    for (let i = 0; i <= 70; i++) written.push(next + i);
    await check();
    await engine.close();
    engine = await Engine.open({ ...options, retentionIntervalMs: 0 });
    await check();
    expect(await stat('topic_messages')).toBe(71);
  });
});

describe('maxTopics and maxTopicGroups', () => {
  it('refuses a topic past maxTopics and a new group past maxTopicGroups with LIMIT_EXCEEDED', async () => {
    await open({ maxTopics: 2, maxTopicGroups: 2 });
    await run('CREATE TOPIC a; CREATE TOPIC b');
    const e = await failure(run('CREATE TOPIC c'));
    expect([e.code, e.message]).toEqual(['LIMIT_EXCEEDED', 'There are already 2 topics (maxTopics): drop one first, or raise maxTopics in openDatabase() options']);
    await run('ALTER TOPIC a ADD SOURCE app.t ON INSERT');
    await insert(1, 1);
    await run("ACK a GROUP 'g1' UPTO OFFSET 0; ACK a GROUP 'g2' UPTO OFFSET 0; ACK a GROUP 'g1' UPTO OFFSET 0");
    expect((await failure(run("ACK a GROUP 'g3' UPTO OFFSET 0"))).code).toBe('LIMIT_EXCEEDED');
    expect(await stat('topic_groups')).toBe(2);
    await run('DROP TOPIC b; CREATE TOPIC c');
    expect(await stat('topics')).toBe(2);
  });
});

describe('the topic_retention job', () => {
  it('removes messages older than retention_seconds, recorded in system.jobs', async () => {
    await open();
    await run('CREATE TOPIC t PARTITIONS 2 WITH (retention_seconds = 60); ALTER TOPIC t ADD SOURCE app.t ON INSERT');
    await insert(1, 3);
    const written = Date.now();
    expect(await engine.runTopicRetention(written + 30_000)).toMatchObject({ job_type: 'topic_retention', status: 'completed', rows_affected: 0 });
    const done = await engine.runTopicRetention(Date.now() + 61_000);
    expect(done).toMatchObject({ job_type: 'topic_retention', status: 'completed' });
    expect(done!.job_id).toMatch(/^TR/);
    expect(await run('CONSUME FROM t FROM EARLIEST')).toEqual([]);
    expect(await stat('topic_messages_expired')).toBe(3);
    expect(done!.rows_affected).toBe(3);
    const jobs = await run("SELECT job_type, status FROM system.jobs WHERE job_type = 'topic_retention'");
    expect(jobs.length).toBeGreaterThanOrEqual(2);
  });

  it('removes the oldest messages while the topic is over retention_max_bytes', async () => {
    await open();
    await run('CREATE TOPIC t PARTITIONS 3 WITH (retention_max_bytes = 1000); ALTER TOPIC t ADD SOURCE app.t ON INSERT');
    for (let i = 1; i <= 20; i++) await insert(i, i);
    const bytes = await stat('topic_bytes');
    expect(bytes).toBeGreaterThan(1000);
    const record = await engine.runTopicRetention();
    expect(record?.rows_affected).toBeGreaterThan(0);
    expect(await stat('topic_bytes')).toBeLessThanOrEqual(1000);
    const keys = (await run('CONSUME FROM t FROM EARLIEST')).map((r) => r.key as number);
    expect(keys).toEqual(Array.from({ length: keys.length }, (_, i) => 21 - keys.length + i)); // the newest stay
  });

  it('does not run (no record) when no topic has a retention setting, and ALTER TOPIC … SET adds one', async () => {
    await open();
    await run('CREATE TOPIC t; ALTER TOPIC t ADD SOURCE app.t ON INSERT');
    await insert(1, 2);
    expect(await engine.runTopicRetention(Date.now() + 3_600_000)).toBeUndefined();
    await run('ALTER TOPIC t SET (retention_seconds = 1)');
    expect((await engine.runTopicRetention(Date.now() + 2_000))?.rows_affected).toBe(2);
    await run('ALTER TOPIC t SET (retention_seconds = NULL)');
    expect((await run("SELECT retention_seconds FROM system.topics"))[0].retention_seconds).toBeNull();
  });
});

describe('a source whose WHERE an ALTER TABLE broke', () => {
  it('sends nothing for it, counts the skipped changes in topic_route_errors, and works again once re-added', async () => {
    await open();
    await run("CREATE TOPIC t; ALTER TOPIC t ADD SOURCE app.t ON INSERT WHERE v <> 'skip'");
    await run("INSERT INTO app.t VALUES (1, 'a')");
    await run('ALTER TABLE app.t RENAME COLUMN v TO w');
    await run("INSERT INTO app.t VALUES (2, 'b'), (3, 'c')");
    expect((await run('CONSUME FROM t')).map((r) => r.key)).toEqual([1]);
    expect(await stat('topic_route_errors')).toBe(2);
    await run("ALTER TOPIC t ADD SOURCE app.t ON INSERT WHERE w <> 'skip'");
    await run("INSERT INTO app.t VALUES (4, 'd'), (5, 'skip')");
    expect((await run('CONSUME FROM t')).map((r) => r.key)).toEqual([1, 4]);
  });
});

describe('background cleanup is not a change', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('expired STREAM rows the stream_eviction job deletes send no DELETE message; a user DELETE does', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const t0 = Date.now();
    await open({ streamEvictionIntervalMs: 0 });
    await run(`CREATE STREAM TABLE app.ev (id INT, v TEXT) WITH (TTL_SECONDS = 10);
      CREATE TOPIC t; ALTER TOPIC t ADD SOURCE app.ev ON DELETE; ALTER TOPIC t ADD SOURCE app.ev ON INSERT`);
    await run("INSERT INTO app.ev (id, v) VALUES (1, 'a'), (2, 'b')");
    await run('DELETE FROM app.ev WHERE id = 2');
    vi.setSystemTime(t0 + 20_000);
    const [record] = await engine.jobs.run('stream_eviction');
    expect(record).toMatchObject({ job_type: 'stream_eviction', rows_affected: 1 });
    expect((await run('CONSUME FROM t')).map((r) => r.op)).toEqual(['insert', 'insert', 'delete']);
  });
});

describe('waiting for messages', () => {
  it('wakes a waiter on the commit that adds messages, times out otherwise, and bounds the waiters', async () => {
    await open({ maxLiveQueries: 1 });
    await run('CREATE TOPIC t; ALTER TOPIC t ADD SOURCE app.t ON INSERT');
    expect(await engine.waitForTopic('t', 10)).toBe(false);
    const woken = engine.waitForTopic('t', 10_000);
    expect(await stat('topic_waiters')).toBe(1);
    expect((await failure(engine.waitForTopic('t', 10_000))).code).toBe('LIMIT_EXCEEDED');
    await insert(1, 1);
    expect(await woken).toBe(true);
    expect(await stat('topic_waiters')).toBe(0);
    expect((await failure(engine.waitForTopic('nope', 10))).code).toBe('TOPIC_NOT_FOUND');
  });
});
