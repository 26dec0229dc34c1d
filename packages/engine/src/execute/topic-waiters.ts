/**
 * Wake-ups for CONSUME … WAIT (and Engine.waitForTopic): a waiter per
 * pending call, by topic id, woken by the commit that adds messages to the
 * topic (or drops it) or by its timeout. At most `max` wait at once.
 */
import { KalamError } from '../core/errors';

export class TopicWaiters {
  /** topic id → wake functions; `size <= max`, each entry removed when it wakes or times out. */
  private readonly byTopic = new Map<number, Set<() => void>>();
  size = 0;

  constructor(readonly max: number) {}

  /** Resolves true when `wake(id)` is called, false after `timeoutMs`. */
  wait(id: number, timeoutMs: number): Promise<boolean> {
    if (this.size >= this.max) {
      throw new KalamError('LIMIT_EXCEEDED', `${this.max} topic consumers are already waiting (maxLiveQueries): stop a consumer first`);
    }
    let set = this.byTopic.get(id);
    if (!set) this.byTopic.set(id, (set = new Set()));
    const waiting = set;
    this.size++;
    return new Promise((resolve) => {
      const done = (woken: boolean) => {
        clearTimeout(timer);
        if (waiting.delete(wake)) this.size--;
        if (waiting.size === 0 && this.byTopic.get(id) === waiting) this.byTopic.delete(id);
        resolve(woken);
      };
      const wake = () => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      (timer as { unref?: () => void }).unref?.();
      waiting.add(wake);
    });
  }

  wake(id: number): void {
    const set = this.byTopic.get(id);
    if (set) for (const w of [...set]) w();
  }

  wakeAll(): void {
    for (const id of [...this.byTopic.keys()]) this.wake(id);
  }
}
