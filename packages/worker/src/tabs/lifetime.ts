/**
 * When a host context ends: a SharedWorker, or a leader tab's dedicated
 * worker, ends itself once no client needs it — no client attached or
 * attaching, and (leader) no client left in its own page — so a page that
 * opens and closes databases keeps no worker per closed database.
 *
 * The race: a client may be connecting while the context decides to end
 * (a SharedWorker constructor in another tab gets the same worker until it
 * has closed, and a connect that reaches a worker that has called close()
 * is dropped: it would wait for ever). So every client holds the origin's
 * `connecting` lock (shared) from before it finds a host until it is
 * attached, and the context decides under the same lock (exclusive): it
 * ends only if no client is attached or attaching then, and keeps the lock
 * until it is gone. A client that comes meanwhile waits for the lock, and
 * then finds a new context (the closed SharedWorker is not reused; the next
 * leader is elected). A client that got there first keeps the context.
 */
import type { Hub } from './hub';
import type { LockNames, Locks } from './locks';

export interface HostLifetime {
  /** Ends the context if nobody needs it; called whenever its hub is left without clients. */
  check(): void;
  /** Whether the page owning the context has a client of its own (leader path): while it has, the context stays. */
  setNeededByPage(isNeeded: boolean): void;
  /** True once the context decided to end. */
  readonly isEnding: boolean;
}

/**
 * `end` ends the context (`self.close()`) and settles once it is gone —
 * in a worker, never: the `connecting` lock is held until the browser frees
 * it with the context.
 */
export function endWhenUnused(hub: Hub, locks: Locks, names: LockNames, end: () => Promise<void>, isNeededByPage = false): HostLifetime {
  let isEnding = false;
  let isDeciding = false;

  function check(): void {
    if (isNeededByPage || isEnding || isDeciding) return;
    isDeciding = true;
    locks
      .request(names.connecting, { mode: 'exclusive' }, async () => {
        isDeciding = false;
        if (isNeededByPage || isEnding) return;
        // No client is between finding this host and being attached: each holds the lock meanwhile.
        if (!(await hub.closeIfUnused())) return;
        isEnding = true;
        await end();
      })
      .catch(() => undefined);
  }

  return {
    check,
    setNeededByPage(isNeeded) {
      isNeededByPage = isNeeded;
      if (!isNeeded) check();
    },
    get isEnding() {
      return isEnding;
    },
  };
}
