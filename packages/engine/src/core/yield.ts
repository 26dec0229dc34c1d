/**
 * Giving the event loop a turn: long background work (a flush encoding row
 * groups) awaits this between bounded steps, and paced statements at each
 * pause, so queries, writes and messages run in between.
 */
/**
 * Tasks already queued (other clients' messages, commits completing) run
 * before this resolves: a macrotask through a MessageChannel (setImmediate
 * where the runtime has it), as UI schedulers do, never setTimeout (clamped
 * to 4 ms once nested). Statements pause through it too (exec/pace.ts).
 */
export const yieldToEventLoop: () => Promise<void> = (() => {
  const immediate = (globalThis as { setImmediate?: (fn: () => void) => unknown }).setImmediate;
  if (typeof immediate === 'function') return () => new Promise<void>((resolve) => void immediate(resolve));
  if (typeof MessageChannel !== 'function') return () => new Promise<void>((resolve) => setTimeout(resolve, 0));
  // One channel for the engine; waiting resolvers in order (bounded by the work paused at once).
  let waiting: (() => void)[] = [];
  let channel: MessageChannel | undefined;
  return () =>
    new Promise<void>((resolve) => {
      if (!channel) {
        channel = new MessageChannel();
        channel.port1.onmessage = () => {
          const due = waiting;
          waiting = [];
          for (const r of due) r();
        };
      }
      if (waiting.push(resolve) === 1) channel.port2.postMessage(null);
    });
})();

/** The Prioritized Task Scheduling API where the runtime has it (Chromium, in windows and workers). */
const scheduler = (globalThis as { scheduler?: { postTask?: (fn: () => void, options: { priority: 'background' }) => Promise<void> } }).scheduler;

/**
 * A turn of the event loop for background work (a compaction, a flush):
 * through `scheduler.postTask` at background priority where there is one,
 * so the tasks a statement waits on — its message, its IndexedDB request
 * callbacks — run before the job's next step, not behind it; else as
 * `yieldToEventLoop`.
 */
export const yieldToBackground: () => Promise<void> =
  typeof scheduler?.postTask === 'function' ? () => scheduler.postTask!(() => undefined, { priority: 'background' }) : yieldToEventLoop;

/**
 * Cooperative time slices: `pause()` gives the event loop a turn once
 * `budgetMs` of work ran since the last one (`background`: at background
 * priority, yieldToBackground).
 */
export class TimeSlice {
  private start = Date.now();

  constructor(
    private readonly budgetMs = 8,
    private readonly background = false,
  ) {}

  async pause(): Promise<void> {
    if (Date.now() - this.start < this.budgetMs) return;
    await (this.background ? yieldToBackground() : yieldToEventLoop());
    this.start = Date.now();
  }
}
