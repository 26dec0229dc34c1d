/**
 * Code loaded on first use. apache-arrow (about 400 KB of the worker's
 * 1.4 MB) is needed only for cold segments and `queryArrow`, so a worker
 * whose database never meets either never fetches or compiles it: every use
 * goes through a loader made here, and a bundler splits each `import()` into
 * a chunk of its own.
 */
import { KalamError } from './errors';

/**
 * `load` run once, on the first call; every later call shares its promise. A
 * load that failed (the chunk could not be fetched) is forgotten, so the next
 * call tries again.
 */
export function lazyModule<M>(what: string, load: () => Promise<M>): () => Promise<M> {
  let loading: Promise<M> | undefined;
  return () =>
    (loading ??= load().catch((e: unknown) => {
      loading = undefined;
      const reason = e instanceof Error ? e.message : String(e);
      // The usual cause: the app was redeployed (this build's chunks are gone) or the network is down.
      throw new KalamError('VERSION_MISMATCH', `Could not load ${what} (${reason}): the app may have been updated or gone offline since this page loaded; reload the page`);
    }));
}
