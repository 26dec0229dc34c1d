/**
 * An in-memory stand-in for an OPFS directory of sync access handles, for
 * Node tests of the log store. Each file keeps what was flushed apart from
 * what was only written, so `crash()` can throw away (or tear) unflushed
 * bytes the way a killed worker or a power cut would. Not a test file.
 */
import type { LogDirectory, SyncFile } from './opfs-log';

class FakeFile {
  /** What a reader sees now. */
  data = new Uint8Array(0);
  /** What survives a crash: the content as of the last flush. */
  durable = new Uint8Array(0);
  isOpen = false;
}

function domError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name });
}

export class FakeDirectory implements LogDirectory {
  readonly files = new Map<string, FakeFile>();
  /** When set, a write that would make the directory hold more than this many bytes fails with QuotaExceededError. */
  quotaBytes: number | undefined;
  /** Counters for tests. */
  writes = 0;
  flushes = 0;

  async list(): Promise<string[]> {
    return [...this.files.keys()];
  }

  async remove(name: string): Promise<void> {
    const f = this.files.get(name);
    if (f?.isOpen) throw domError('NoModificationAllowedError', `${name} is open`);
    this.files.delete(name);
  }

  private usedBytes(): number {
    let n = 0;
    for (const f of this.files.values()) n += f.data.length;
    return n;
  }

  async open(name: string): Promise<SyncFile> {
    let f = this.files.get(name);
    if (!f) this.files.set(name, (f = new FakeFile()));
    if (f.isOpen) throw domError('NoModificationAllowedError', `${name} is locked by another handle`);
    f.isOpen = true;
    const file = f;
    let isClosed = false;
    const check = () => {
      if (isClosed) throw domError('InvalidStateError', 'the handle is closed');
    };
    const resize = (size: number) => {
      const next = new Uint8Array(size);
      next.set(file.data.subarray(0, Math.min(size, file.data.length)));
      file.data = next;
    };
    return {
      read: (buffer, { at }) => {
        check();
        const n = Math.max(0, Math.min(buffer.length, file.data.length - at));
        buffer.set(file.data.subarray(at, at + n));
        return n;
      },
      write: (buffer, { at }) => {
        check();
        this.writes++;
        const end = at + buffer.length;
        if (this.quotaBytes !== undefined && end > file.data.length && this.usedBytes() + (end - file.data.length) > this.quotaBytes) {
          throw domError('QuotaExceededError', 'quota exceeded');
        }
        if (end > file.data.length) resize(end);
        file.data.set(buffer, at);
        return buffer.length;
      },
      truncate: (size) => {
        check();
        resize(size);
      },
      flush: () => {
        check();
        this.flushes++;
        file.durable = file.data.slice();
      },
      getSize: () => {
        check();
        return file.data.length;
      },
      close: () => {
        if (isClosed) return;
        isClosed = true;
        file.isOpen = false;
      },
    };
  }

  /** A copy of the files as they are now (written and flushed parts), with no handle open: to crash one copy and keep using the other. */
  clone(): FakeDirectory {
    const copy = new FakeDirectory();
    for (const [name, f] of this.files) {
      const g = new FakeFile();
      g.data = f.data.slice();
      g.durable = f.durable.slice();
      copy.files.set(name, g);
    }
    return copy;
  }

  /**
   * Simulates a crash: every handle is gone and each file keeps its flushed
   * content plus, when `tear` says so, a prefix of what was written after.
   */
  crash(tear: (unflushed: number) => number = () => 0): void {
    for (const f of this.files.values()) {
      const extra = f.data.length > f.durable.length ? tear(f.data.length - f.durable.length) : 0;
      const kept = new Uint8Array(f.durable.length + extra);
      kept.set(f.durable);
      kept.set(f.data.subarray(f.durable.length, f.durable.length + extra), f.durable.length);
      f.data = kept;
      f.durable = kept.slice();
      f.isOpen = false;
    }
  }
}
