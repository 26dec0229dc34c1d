/**
 * Where the bytes of FILE columns live (execute/files.ts): one blob per
 * file, named by the file's id, beside the KV store. The row holds only the
 * FileRef; the KV store holds the record that makes a blob visible, written
 * in the row's commit. Backends: memory (here), IndexedDB
 * (idb-blob-store.ts), OPFS files (opfs-blob-store.ts).
 *
 * A blob is written before the commit that refers to it, from a stream of
 * chunks, so a large file is never held whole in memory; it is deleted after
 * the commit that stops referring to it. What a crash leaves between the two
 * (a blob no committed record names) is deleted at the next open.
 */
export interface BlobStore {
  /** Stores `chunks` as blob `id`, piece by piece; resolves once it is all stored. On a failure part of it may be stored: `delete` it. */
  write(id: string, chunks: AsyncIterable<Uint8Array>): Promise<void>;
  /** The blob, or undefined when there is none. */
  read(id: string): Promise<Blob | undefined>;
  /** Deletes these blobs (a missing one is no error). */
  delete(ids: readonly string[]): Promise<void>;
  /** The ids of every blob stored, written whole or not. */
  list(): Promise<string[]>;
  close?(): Promise<void>;
}

/** Pieces of at most `size` bytes (and at least `size`, but the last), however the input was cut. */
export async function* pieces(chunks: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Uint8Array> {
  let buffer = new Uint8Array(size);
  let filled = 0;
  for await (const chunk of chunks) {
    let at = 0;
    while (at < chunk.length) {
      const take = Math.min(size - filled, chunk.length - at);
      buffer.set(chunk.subarray(at, at + take), filled);
      filled += take;
      at += take;
      if (filled === size) {
        yield buffer;
        buffer = new Uint8Array(size);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield buffer.subarray(0, filled);
}

/** Blobs in memory (storage: 'memory', tests). */
export class MemoryBlobStore implements BlobStore {
  /** id → its pieces; owned by the engine's files, which bound the bytes (maxFilesBytes). */
  readonly blobs = new Map<string, Uint8Array[]>();

  async write(id: string, chunks: AsyncIterable<Uint8Array>): Promise<void> {
    const parts: Uint8Array[] = [];
    this.blobs.set(id, parts);
    for await (const c of chunks) parts.push(c.slice());
  }

  async read(id: string): Promise<Blob | undefined> {
    const parts = this.blobs.get(id);
    return parts ? new Blob(parts as BlobPart[]) : undefined;
  }

  async delete(ids: readonly string[]): Promise<void> {
    for (const id of ids) this.blobs.delete(id);
  }

  async list(): Promise<string[]> {
    return [...this.blobs.keys()];
  }
}
