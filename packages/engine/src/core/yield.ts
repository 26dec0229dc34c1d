/**
 * Giving the event loop a turn: long background work (a flush encoding row
 * groups) awaits this between bounded steps, so queries, writes and
 * messages run in between. setImmediate in Node; in a worker a
 * MessageChannel message (setTimeout(0) would be clamped to 4 ms once
 * nested); setTimeout where neither exists.
 */
type Resolve = () => void;

let channel: { post(): void; queue: Resolve[] } | undefined;

function viaChannel(resolve: Resolve): void {
  if (!channel) {
    const mc = new MessageChannel();
    const queue: Resolve[] = [];
    mc.port1.onmessage = () => queue.shift()?.();
    channel = { post: () => mc.port2.postMessage(0), queue };
  }
  channel.queue.push(resolve);
  channel.post();
}

export function yieldToEventLoop(): Promise<void> {
  const g = globalThis as { setImmediate?: (fn: () => void) => unknown; MessageChannel?: unknown };
  if (typeof g.setImmediate === 'function') return new Promise((resolve) => g.setImmediate!(resolve));
  if (typeof g.MessageChannel === 'function') return new Promise(viaChannel);
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Cooperative time slices: `pause()` gives the event loop a turn once `budgetMs` of work ran since the last one. */
export class TimeSlice {
  private start = Date.now();

  constructor(private readonly budgetMs = 8) {}

  async pause(): Promise<void> {
    if (Date.now() - this.start < this.budgetMs) return;
    await yieldToEventLoop();
    this.start = Date.now();
  }
}
