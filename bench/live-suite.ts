/**
 * Live queries: 100 subscribers (users × queries per user) of
 * `SELECT * FROM bench.feed WHERE user_id = $1 ORDER BY ts DESC LIMIT 20`
 * on a SHARED table of `liveRows` rows, then single-row writes one at a
 * time, each to one user's feed. Per write: the time from the write call to
 * the callback of the last affected subscriber in the page, and how many
 * subscribers of other users were called. Dexie's `liveQuery` runs the same
 * workload in the same page, over the same IndexedDB, in the same run.
 * With `liveOpfs` (the default), the engine side runs a second time over OPFS.
 */
import { Dexie, liveQuery, type Table } from 'dexie';
import type { ClientSession, KalamClient, Row } from '@kalamlite/worker';
import type { BenchConfig, Check, LiveSamples } from './results';

export type Connect = (name: string) => Promise<KalamClient>;

interface FeedRow {
  id: number;
  user_id: string;
  ts: number;
  body: string;
}

const WINDOW = 20;
const WRITE_TIMEOUT_MS = 5_000;
const FEED_QUERY = `SELECT * FROM bench.feed WHERE user_id = $1 ORDER BY ts DESC LIMIT ${WINDOW}`;

const userName = (u: number) => `user${u}`;

/** Row `id` of the initial load: users take turns, `ts` grows with id. */
function feedRow(id: number, users: number): FeedRow {
  return { id, user_id: userName(id % users), ts: id * 10, body: `post ${id}` };
}

/**
 * Waits for the affected subscribers of one write. `record(s)` is called by
 * subscriber s's callback; the write's promise resolves with the time the
 * last affected one was called.
 */
function createTracker(subscriberUser: readonly number[]) {
  let expectedUser = -1;
  let remaining = 0;
  let lastAt = 0;
  let unaffected = 0;
  let done: ((at: number) => void) | undefined;
  return {
    record(subscriber: number) {
      const at = performance.now();
      if (expectedUser < 0) return;
      if (subscriberUser[subscriber] !== expectedUser) {
        unaffected++;
        return;
      }
      lastAt = at;
      if (--remaining === 0) done?.(lastAt);
    },
    /** Resolves with the time of the last affected callback, or NaN if they did not all come within WRITE_TIMEOUT_MS. */
    expect(user: number, count: number): Promise<number> {
      expectedUser = user;
      remaining = count;
      return new Promise<number>((resolve) => {
        const timer = setTimeout(() => {
          console.warn(`[bench] live: ${remaining} of ${count} affected subscribers of user ${user} not called within ${WRITE_TIMEOUT_MS} ms`);
          resolve(Number.NaN);
        }, WRITE_TIMEOUT_MS);
        done = (at) => {
          clearTimeout(timer);
          resolve(at);
        };
      });
    },
    get unaffected() {
      return unaffected;
    },
    stop() {
      expectedUser = -1;
    },
  };
}

function subscriberUsers(config: BenchConfig): number[] {
  return Array.from({ length: config.liveUsers * config.liveQueriesPerUser }, (_, s) => s % config.liveUsers);
}

/** The writes: ids after the initial load, users in a fixed rotation, newest `ts`, so each enters its user's windows. */
function writes(config: BenchConfig): FeedRow[] {
  return Array.from({ length: config.liveWarmup + config.liveWrites }, (_, i) => {
    const id = config.liveRows + 1 + i;
    return { id, user_id: userName((i * 7) % config.liveUsers), ts: id * 10, body: `live ${id}` };
  });
}

/** `label` names the side in checks and progress lines ('engine', 'engine/opfs'). */
export async function engineLive(connect: Connect, name: string, config: BenchConfig, checks: Check[], label = 'engine'): Promise<LiveSamples> {
  const client = await connect(name);
  const session: ClientSession = client.session({ user: 'bench', role: 'dba' });
  try {
    await session.execute("CREATE NAMESPACE IF NOT EXISTS bench; CREATE SHARED TABLE bench.feed (id BIGINT PRIMARY KEY, user_id TEXT NOT NULL, ts BIGINT NOT NULL, body TEXT) WITH (ACCESS_LEVEL = 'public')");
    for (let from = 1; from <= config.liveRows; from += config.batchSize) {
      const count = Math.min(config.batchSize, config.liveRows - from + 1);
      const params: (bigint | string)[] = [];
      const tuples: string[] = [];
      for (let i = 0; i < count; i++) {
        const row = feedRow(from + i, config.liveUsers);
        const p = i * 4;
        tuples.push(`($${p + 1}, $${p + 2}, $${p + 3}, $${p + 4})`);
        params.push(BigInt(row.id), row.user_id, BigInt(row.ts), row.body);
      }
      await session.execute(`INSERT INTO bench.feed (id, user_id, ts, body) VALUES ${tuples.join(', ')}`, params);
    }

    console.log(`[bench] ${label} live: ${config.liveRows} rows loaded, subscribing`);
    const users = subscriberUsers(config);
    const tracker = createTracker(users);
    const latest: (readonly Row[])[] = new Array(users.length);
    let firstResults = 0;
    let ready: () => void = () => {};
    const allReady = new Promise<void>((resolve) => (ready = resolve));
    const stops: (() => void)[] = [];
    for (let s = 0; s < users.length; s++) {
      stops.push(
        await session.live(FEED_QUERY, [userName(users[s])], (rows) => {
          if (latest[s] === undefined && ++firstResults === users.length) ready();
          latest[s] = rows;
          tracker.record(s);
        }),
      );
    }
    await allReady;
    console.log(`[bench] ${label} live: subscribed, writing`);

    const writeMs: number[] = [];
    let missed = 0;
    const perUser = config.liveQueriesPerUser;
    const rows = writes(config);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      const user = Number(row.user_id.slice(4));
      const affected = tracker.expect(user, perUser);
      const started = performance.now();
      const written = session.execute('INSERT INTO bench.feed (id, user_id, ts, body) VALUES ($1, $2, $3, $4)', [
        BigInt(row.id),
        row.user_id,
        BigInt(row.ts),
        row.body,
      ]);
      const at = await affected;
      await written;
      if (Number.isNaN(at)) missed++;
      else if (i >= config.liveWarmup) writeMs.push(at - started);
      if (i === config.liveWarmup - 1) tracker.stop();
    }
    tracker.stop();
    const unaffected = tracker.unaffected;

    let wrong = 0;
    let firstWrong = '';
    for (let s = 0; s < users.length; s++) {
      const want = (await session.query(FEED_QUERY, [userName(users[s])])).rows.map((r) => String(r.id));
      const got = latest[s].map((r) => String(r.id));
      if (want.join() !== got.join()) {
        wrong++;
        firstWrong ||= `subscriber ${s}: got [${got.slice(0, 3).join(', ')}, …] want [${want.slice(0, 3).join(', ')}, …]`;
      }
    }
    checks.push({ name: `${label} live: every write reached its affected subscribers`, ok: missed === 0, detail: `${missed} writes missed` });
    checks.push({
      name: `${label} live: every subscriber ends with its query result`,
      ok: wrong === 0,
      detail: wrong === 0 ? `${users.length} subscribers checked` : `${wrong} wrong; ${firstWrong}`,
    });
    const stats = await client.stats();
    for (const stop of stops) stop();
    return { writeMs, unaffected, batches: stats.batches, patches: stats.patches, snapshots: stats.snapshots };
  } finally {
    await client.close();
  }
}

class FeedDb extends Dexie {
  feed!: Table<FeedRow, number>;
  constructor(name: string) {
    super(name);
    this.version(1).stores({ feed: 'id, [user_id+ts]' });
  }
}

export async function dexieLive(name: string, config: BenchConfig, checks: Check[]): Promise<LiveSamples> {
  const db = new FeedDb(name);
  try {
    for (let from = 1; from <= config.liveRows; from += config.batchSize) {
      const count = Math.min(config.batchSize, config.liveRows - from + 1);
      await db.feed.bulkAdd(Array.from({ length: count }, (_, i) => feedRow(from + i, config.liveUsers)));
    }
    const query = (user: string) =>
      db.feed.where('[user_id+ts]').between([user, Dexie.minKey], [user, Dexie.maxKey]).reverse().limit(WINDOW).toArray();

    const users = subscriberUsers(config);
    const tracker = createTracker(users);
    const latest: FeedRow[][] = new Array(users.length);
    let firstResults = 0;
    let ready: () => void = () => {};
    const allReady = new Promise<void>((resolve) => (ready = resolve));
    const subscriptions = users.map((u, s) =>
      liveQuery(() => query(userName(u))).subscribe({
        next(rows) {
          if (latest[s] === undefined && ++firstResults === users.length) ready();
          latest[s] = rows;
          tracker.record(s);
        },
        error(e: unknown) {
          console.error(`[bench] dexie liveQuery failed: ${String(e)}`);
        },
      }),
    );
    await allReady;

    const writeMs: number[] = [];
    let missed = 0;
    const rows = writes(config);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      const affected = tracker.expect(Number(row.user_id.slice(4)), config.liveQueriesPerUser);
      const started = performance.now();
      const written = db.feed.add(row);
      const at = await affected;
      await written;
      if (Number.isNaN(at)) missed++;
      else if (i >= config.liveWarmup) writeMs.push(at - started);
      if (i === config.liveWarmup - 1) tracker.stop();
    }
    tracker.stop();

    let wrong = 0;
    for (let s = 0; s < users.length; s++) {
      const want = (await query(userName(users[s]))).map((r) => r.id).join();
      if (want !== latest[s].map((r) => r.id).join()) wrong++;
    }
    checks.push({ name: 'dexie live: every write reached its affected subscribers', ok: missed === 0, detail: `${missed} writes missed` });
    checks.push({
      name: 'dexie live: every subscriber ends with its query result',
      ok: wrong === 0,
      detail: `${wrong} of ${users.length} subscribers wrong`,
    });
    for (const subscription of subscriptions) subscription.unsubscribe();
    return { writeMs, unaffected: tracker.unaffected };
  } finally {
    db.close();
  }
}
