import { describe, expect, it } from 'vitest';
import { KalamError } from './errors';
import { lazyModule } from './lazy-module';

describe('lazyModule', () => {
  it('loads once, on the first call, and every caller shares that load', async () => {
    let loads = 0;
    const load = lazyModule('the thing', async () => ({ n: ++loads }));
    expect(loads).toBe(0);
    const [a, b] = await Promise.all([load(), load()]);
    expect(await load()).toBe(a);
    expect(b).toBe(a);
    expect(loads).toBe(1);
  });

  it('reports a failed load as a KalamError saying to reload, and the next call tries again', async () => {
    let calls = 0;
    const load = lazyModule('the thing', async () => {
      if (++calls === 1) throw new TypeError('Failed to fetch dynamically imported module');
      return { ok: true };
    });
    const e = await load().then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(KalamError);
    expect(e).toMatchObject({ code: 'VERSION_MISMATCH' });
    expect((e as KalamError).message).toMatch(/Could not load the thing \(Failed to fetch dynamically imported module\).*reload the page/);
    expect(await load()).toEqual({ ok: true });
    expect(calls).toBe(2);
  });
});
