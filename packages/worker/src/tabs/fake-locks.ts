import type { Locks } from './locks';

interface Waiter {
  mode: 'exclusive' | 'shared';
  grant: () => void;
}

interface LockState {
  exclusive: boolean;
  shared: number;
  queue: Waiter[];
}

/** An in-memory Web Locks manager for tests in Node: exclusive and shared modes, FIFO, abortable waits. */
export function fakeLocks(): Locks {
  // Owner: this manager; an entry per lock name held or waited for, removed when neither.
  const locks = new Map<string, LockState>();

  function pump(name: string, state: LockState): void {
    while (state.queue.length > 0) {
      const next = state.queue[0];
      if (state.exclusive || (next.mode === 'exclusive' && state.shared > 0)) return;
      state.queue.shift();
      if (next.mode === 'exclusive') state.exclusive = true;
      else state.shared++;
      next.grant();
      if (next.mode === 'exclusive') return;
    }
    if (!state.exclusive && state.shared === 0) locks.delete(name);
  }

  return {
    request(name, options, callback) {
      const mode = options.mode ?? 'exclusive';
      let state = locks.get(name);
      if (state === undefined) {
        state = { exclusive: false, shared: 0, queue: [] };
        locks.set(name, state);
      }
      const s = state;
      return new Promise((resolve, reject) => {
        const waiter: Waiter = {
          mode,
          grant: () => {
            Promise.resolve()
              .then(callback)
              .then(resolve, reject)
              .finally(() => {
                if (mode === 'exclusive') s.exclusive = false;
                else s.shared--;
                pump(name, s);
              });
          },
        };
        options.signal?.addEventListener('abort', () => {
          const at = s.queue.indexOf(waiter);
          if (at < 0) return;
          s.queue.splice(at, 1);
          reject(new DOMException('The request was aborted.', 'AbortError'));
          pump(name, s);
        });
        s.queue.push(waiter);
        pump(name, s);
      });
    },
  };
}
