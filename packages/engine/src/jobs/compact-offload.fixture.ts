/** A compaction helper served in this process over a MessageChannel (compact-offload*.test.ts). */
import { expect } from 'vitest';
import type { Row } from '../core/types';
import { startCompactionHelper } from '../execute/compaction-helper';
import type { Engine } from '../execute/engine';
import { expectClean, flush, insert, range, rows, run, stat } from './compact.fixture';
import type { FromHelper, HelperScope } from './compact-wire';
import { useCompactionWorker, type CompactionWorker } from './compaction-worker';

/** The helpers started, terminated by `cleanUp`. */
export const helpers: CompactionWorker[] = [];

/** After each test: the factory removed, `engines` closed (and emptied), every helper started terminated. */
export async function cleanUp(engines: Engine[]): Promise<void> {
  useCompactionWorker(undefined);
  for (const e of engines.splice(0)) await e.close();
  for (const h of helpers.splice(0)) h.terminate();
}

export interface Tap {
  /** Sees each message from the helper before the engine does; false drops it (and every later one: the helper "died"). */
  fromHelper?: (m: FromHelper, worker: InProcess) => boolean | void;
}

export type InProcess = CompactionWorker & { fail(message: string): void };

/** A helper served in this process; `tap` sees what it sends. */
export function inProcessHelper(tap: Tap = {}): InProcess {
  const { port1, port2 } = new MessageChannel();
  const listeners: Record<string, ((e: Event) => void)[]> = { message: [], error: [], messageerror: [], gone: [] };
  let dead = false;
  const scope: HelperScope = {
    postMessage: (m, transfer) => port2.postMessage(m, transfer ?? []),
    addEventListener: (_type, listener) => port2.addEventListener('message', listener as (e: Event) => void),
  };
  port2.start();
  startCompactionHelper(scope);
  const worker: InProcess = {
    postMessage: (m, transfer) => {
      if (!dead) port1.postMessage(m, transfer ?? []);
    },
    addEventListener: (type, listener) => listeners[type].push(listener as (e: Event) => void),
    terminate: () => {
      dead = true;
      port1.close();
      port2.close();
    },
    fail(message) {
      dead = true;
      for (const l of listeners.error) l(Object.assign(new Event('error'), { message }));
    },
  };
  port1.addEventListener('message', (e) => {
    if (dead) return;
    if (tap.fromHelper?.((e as MessageEvent<FromHelper>).data, worker) === false) return;
    for (const l of listeners.message) l(e);
  });
  port1.start();
  helpers.push(worker);
  return worker;
}

export const allRows = (engine: Engine) => rows(engine, 'SELECT id, a, b FROM app.t ORDER BY id');

/** KILL JOB of the compaction running now (found in system.jobs), from a helper's tap: not awaited there. */
export function killRunningCompaction(engine: Engine): void {
  void rows(engine, "SELECT job_id FROM system.jobs WHERE job_type = 'compact' AND status = 'running'").then(([j]) => run(engine, `KILL JOB '${j.job_id}'`));
}

/** What app.t was before a compaction that must leave it so: its rows and its segments. */
export interface Snapshot {
  readonly before: readonly Row[];
  readonly ids: readonly string[];
}

const segmentIds = (engine: Engine) => engine.cold.manifest.all().map((m) => m.id).sort();

/** Three flushes of every third id of 0..to, each round shifted by one (a compaction merges them all); then app.t's snapshot. */
export async function interleavedFlushes(engine: Engine, to: number): Promise<Snapshot> {
  for (let round = 0; round < 3; round++) {
    await insert(engine, range(round, to, 3));
    await flush(engine);
  }
  return { before: await allRows(engine), ids: segmentIds(engine) };
}

/** Runs STORAGE COMPACT TABLE app.t to its end; its job's status and message. */
export async function compactJob(engine: Engine): Promise<{ status: unknown; message: unknown }> {
  const jobId = (await run(engine, 'STORAGE COMPACT TABLE app.t')).split('Job ID: ')[1];
  await engine.jobs.idle();
  const [job] = await rows(engine, `SELECT status, message FROM system.jobs WHERE job_id = '${jobId}'`);
  return job as { status: unknown; message: unknown };
}

/** A compaction that ended without its swap left app.t as `snapshot` had it: the same segments and rows, no output in progress, nothing stray in storage. */
export async function expectUnchanged(engine: Engine, snapshot: Snapshot): Promise<void> {
  expect(segmentIds(engine)).toEqual(snapshot.ids);
  expect(await allRows(engine)).toEqual(snapshot.before);
  expect(stat(engine, 'compaction_outputs_in_progress')).toBe(0);
  await expectClean(engine);
}
