/**
 * A compaction helper worker's start (jobs/compaction-worker.ts says who
 * starts one): the serving code (jobs/compact-helper.ts) loads on demand,
 * and messages that come meanwhile are kept and handed to it in order. In
 * this layer so the helper can load the index records' writer
 * (index-support.ts) as the engine does.
 */
import { lazyModule } from '../core/lazy-module';
import { toWire, type HelperScope, type ToHelper } from '../jobs/compact-wire';
import { loadIndexSupport } from './index-loader';

const loadCompactHelper = lazyModule('the compaction helper', () => import('../jobs/compact-helper'));

/** Starts serving merges in this worker, a compaction helper (its global scope: `scope`). */
export function startCompactionHelper(scope: HelperScope): void {
  const early: MessageEvent<ToHelper>[] = [];
  let deliver: ((event: MessageEvent<ToHelper>) => void) | undefined;
  scope.addEventListener('message', (event) => (deliver ? deliver(event) : early.push(event)));
  void loadCompactHelper().then(
    ({ serveCompactions }) => {
      deliver = serveCompactions(scope, async () => (await loadIndexSupport()).installSegmentHooks());
      for (const event of early.splice(0)) deliver(event);
    },
    (e: unknown) => {
      // The serving code did not load: every merge asked for fails, and the engine merges in its own thread.
      deliver = ({ data }) => {
        if (data.type === 'merge') scope.postMessage({ type: 'error', id: data.id, error: toWire(e) });
      };
      for (const event of early.splice(0)) deliver(event);
    },
  );
}
