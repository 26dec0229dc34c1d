/**
 * The worker entry (worker.ts) as bundlers find it: `new Worker(new URL(…,
 * import.meta.url))` and its SharedWorker twin, the form Vite and webpack
 * recognise and bundle as one worker chunk whichever transport uses it. In
 * the published package the URL names `./worker.js`, the prebuilt,
 * self-contained worker beside the client (scripts/build.mjs rewrites it
 * here, the only place it is named).
 */

/** A dedicated worker running the worker entry. */
export function bundledWorker(options: WorkerOptions = {}): Worker {
  return new Worker(new URL('./worker.ts', import.meta.url), { ...options, type: 'module' });
}

/** A SharedWorker running the worker entry: one instance per name in the origin. */
export function bundledSharedWorker(name: string): SharedWorker {
  return new SharedWorker(new URL('./worker.ts', import.meta.url), { name, type: 'module' });
}
