/**
 * `consume()`: a topic consumer on the page, built on the SQL any session
 * runs — `CONSUME FROM t GROUP 'g' LIMIT n WAIT ms` (a long poll the
 * worker wakes on the commit that writes messages) and `ACK … UPTO OFFSET`
 * once the handler's promise resolves. Delivery is at least once: a batch
 * whose handler throws (or whose ACK fails) is delivered again, after
 * `retryMs`. One consumer runs one CONSUME at a time; stopping it cancels
 * the CONSUME waiting in the worker.
 */
import { KalamError, type Row, type Value } from '@kalamlite/engine';

/** One message, as CONSUME returns it. */
export interface TopicMessage extends Row {
  readonly topic: string;
  readonly partition: number;
  /** Monotonic within its partition. */
  readonly offset: bigint;
  readonly op: 'insert' | 'update' | 'delete';
  /** `namespace.table` of the row. */
  readonly table_name: string;
  /** The row's owner for USER and STREAM tables; null for SHARED. */
  readonly user_id: string | null;
  /** The primary key (a STREAM row's `_seq`). */
  readonly key: Value;
  /** What the source sends: the key, the whole row, or the changed columns (`payload = 'key' | 'full' | 'diff'`). */
  readonly payload: Value;
  readonly _seq: bigint | null;
  /** Commit time (ms since the epoch). */
  readonly timestamp: number;
}

export interface ConsumeOptions {
  /** The consumer group: its acked offsets survive reloads; a user-role session's groups are its own. */
  group: string;
  /**
   * 'earliest' (default): resume after the group's last ack (a new group
   * starts at the oldest message kept). 'latest': first ack everything
   * written so far, so only later messages are delivered.
   */
  from?: 'earliest' | 'latest';
  /** Messages per batch at most (1–10,000). Default 100. */
  batchSize?: number;
  /** How long one CONSUME waits in the worker for messages before asking again (ms, 1–60,000). Default 25,000. */
  waitMs?: number;
  /** Pause before retrying after a failure (ms). Default 1,000. */
  retryMs?: number;
  /** Told of every failure (the handler's, or the worker's); the consumer goes on. Default: reportError / console.error. */
  onError?: (error: unknown) => void;
}

/** The part of a client session a consumer uses. */
export interface ConsumingSession {
  query(sql: string, params?: readonly Value[], options?: { signal?: AbortSignal }): Promise<{ rows: readonly Row[] }>;
  execute(sql: string, params?: readonly Value[]): Promise<unknown>;
}

const TOPIC_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

function count(value: number | undefined, fallback: number, min: number, max: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new KalamError('INVALID_OPTION', `consume() option ${what} must be a whole number from ${min} to ${max.toLocaleString('en-US')}, got ${String(value)}`);
  }
  return value;
}

const sqlText = (s: string) => `'${s.replace(/'/g, "''")}'`;

/**
 * Starts consuming `topic` as `session`: `handler` gets each batch (in
 * commit order); when its promise resolves the batch is acked. Returns a
 * function that stops the consumer (a batch being handled is not acked).
 */
export function consumeTopic(session: ConsumingSession, topic: string, options: ConsumeOptions, handler: (messages: readonly TopicMessage[]) => unknown): () => void {
  if (typeof topic !== 'string' || !TOPIC_NAME.test(topic)) throw new KalamError('INVALID_PARAMETER', `consume() needs a topic name such as 'outbox' or 'app.events', got ${JSON.stringify(topic)}`);
  if (typeof options !== 'object' || options === null || typeof options.group !== 'string' || options.group.length === 0 || options.group.length > 128) {
    throw new KalamError('INVALID_OPTION', "consume() needs { group: '<name>' } (1 to 128 characters): the group's acked offsets are where it resumes");
  }
  if (typeof handler !== 'function') throw new KalamError('INVALID_PARAMETER', 'consume() needs a handler: consume(topic, { group }, async (messages) => { … })');
  if (options.from !== undefined && options.from !== 'earliest' && options.from !== 'latest') {
    throw new KalamError('INVALID_OPTION', `consume() option from is 'earliest' or 'latest', got ${JSON.stringify(options.from)}`);
  }
  const batchSize = count(options.batchSize, 100, 1, 10_000, 'batchSize');
  const waitMs = count(options.waitMs, 25_000, 1, 60_000, 'waitMs');
  const retryMs = count(options.retryMs, 1_000, 0, 3_600_000, 'retryMs');
  const report = options.onError ?? ((e: unknown) => ((globalThis as { reportError?: (e: unknown) => void }).reportError ?? console.error)(e));
  const group = sqlText(options.group);
  const controller = new AbortController();
  let stopped = false;
  let sleeping: (() => void) | undefined;
  const pause = () => new Promise<void>((resolve) => {
    const timer = setTimeout(() => { sleeping = undefined; resolve(); }, retryMs);
    sleeping = () => { clearTimeout(timer); resolve(); };
  });

  async function run(): Promise<void> {
    let started = options.from !== 'latest';
    while (!stopped) {
      try {
        if (!started) {
          await session.execute(`ACK ${topic} GROUP ${group} UPTO LATEST`);
          started = true;
        }
        const { rows } = await session.query(`CONSUME FROM ${topic} GROUP ${group} LIMIT ${batchSize} WAIT ${waitMs}`, [], { signal: controller.signal });
        if (stopped) return;
        if (rows.length === 0) continue;
        const messages = rows as readonly TopicMessage[];
        await handler(messages);
        if (stopped) return;
        const upto = new Map<number, bigint>();
        for (const m of messages) if ((upto.get(m.partition) ?? -1n) < m.offset) upto.set(m.partition, m.offset);
        await session.execute([...upto].map(([p, o]) => `ACK ${topic} GROUP ${group} PARTITION ${p} UPTO OFFSET ${o}`).join('; '));
      } catch (e) {
        if (stopped) return;
        if (e instanceof KalamError && e.code === 'CLOSED') {
          stopped = true;
          return;
        }
        report(e);
        await pause();
      }
    }
  }
  void run();
  return () => {
    stopped = true;
    controller.abort();
    sleeping?.();
  };
}
