/**
 * Export and import across the worker boundary. The file is a Blob both
 * ways (structured clone hands a Blob over without copying its bytes); the
 * progress callback stays on the page and is reached through a Comlink
 * proxy, which the host releases when the call ends.
 */
import { proxy, releaseProxy } from 'comlink';
import { checkBackupOptions, type BackupOptions } from '@kalamlite/engine';
import type { ProgressListener } from './protocol';

/** The page side: the options checked where they are given, the callback as a proxy (undefined without one). */
export function progressListener(options: unknown, call: string): ProgressListener | undefined {
  const { onProgress } = checkBackupOptions(options, call);
  return onProgress === undefined ? undefined : proxy((p: Parameters<ProgressListener>[0]) => onProgress(p));
}

/** The host side: runs `run` with the listener as the engine's onProgress, then releases a remote listener. */
export async function backupOptions<T>(onProgress: ProgressListener | undefined, run: (options: BackupOptions) => Promise<T>): Promise<T> {
  try {
    return await run(onProgress === undefined || onProgress === null ? {} : { onProgress });
  } finally {
    const release = (onProgress as { [releaseProxy]?: () => void } | undefined)?.[releaseProxy];
    if (typeof release === 'function') release.call(onProgress);
  }
}
