import { afterEach, describe, expect, it, vi } from 'vitest';

const g = globalThis as { scheduler?: unknown };
afterEach(() => {
  delete g.scheduler;
  vi.resetModules();
});

describe('turns of the event loop for background work', () => {
  it('go through scheduler.postTask at background priority where the runtime has it, so a statement\'s tasks run first', async () => {
    const posted: string[] = [];
    g.scheduler = { postTask: (fn: () => void, options: { priority: string }) => (posted.push(options.priority), Promise.resolve().then(fn)) };
    const { TimeSlice, yieldToBackground } = await import('./yield');
    await yieldToBackground();
    const slice = new TimeSlice(0, true);
    await slice.pause();
    const foreground = new TimeSlice(0);
    await foreground.pause();
    expect(posted).toEqual(['background', 'background']);
  });

  it('fall back to a macrotask without it: tasks already queued run before the job goes on', async () => {
    const { TimeSlice } = await import('./yield');
    const order: string[] = [];
    setTimeout(() => order.push('queued task'), 0);
    await new Promise((r) => setTimeout(r, 5));
    setImmediate(() => order.push('message'));
    const slice = new TimeSlice(0, true);
    await slice.pause();
    order.push('job step');
    expect(order).toEqual(['queued task', 'message', 'job step']);
  });
});
