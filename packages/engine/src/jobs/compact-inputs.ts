/**
 * A compaction's inputs (merge-rows.ts): each input segment read one row
 * group at a time (MergeIo.readGroup), and the heap that
 * merges them by key, newest `_seq` first. Part of the merge's chunk.
 */
import type { StoredRow, TableDef } from '../core/schema';
import type { Value } from '../core/types';
import { compareValues } from '../core/values';
import type { RowGroupData, SegmentMeta } from '../storage/cold/types';

/** One input segment read a row group at a time. */
export class Input {
  private group = -1;
  private data: RowGroupData | undefined;
  private columns: ArrayLike<Value>[] = [];
  private release: () => void = () => undefined;
  i = 0;
  done = false;

  constructor(
    private readonly read: (g: number) => Promise<{ data: RowGroupData; release(): void }>,
    readonly meta: SegmentMeta,
    private readonly t: TableDef,
  ) {}

  get key(): Value {
    return this.data!.keys[this.i];
  }

  get seq(): bigint {
    return this.data!.seqs[this.i];
  }

  get isTombstone(): boolean {
    return this.data!.deleted[this.i] === 1;
  }

  /** The current row in the table's layout. */
  row(): StoredRow {
    const n = this.columns.length;
    const row = new Array<Value>(n + 2);
    for (let s = 0; s < n; s++) row[s] = this.columns[s][this.i];
    row[n] = this.seq;
    row[n + 1] = this.isTombstone;
    return row;
  }

  /** Moves to the next row; a promise when it had to load the next row group. */
  next(): Promise<void> | undefined {
    this.i++;
    if (this.data && this.i < this.data.rows) return undefined;
    return this.load(this.group + 1);
  }

  /** Loads row group `g` (or the next one with rows), or ends. */
  async load(g: number): Promise<void> {
    this.close();
    const groups = this.meta.groups!;
    while (g < groups.rows.length && groups.rows[g] === 0) g++;
    if (g >= groups.rows.length) {
      this.done = true;
      return;
    }
    const { data, release } = await this.read(g);
    this.group = g;
    this.data = data;
    this.release = release;
    this.columns = this.t.columns.map((c) => data.column(c));
    this.i = 0;
  }

  /** Releases the current row group. */
  close(): void {
    this.release();
    this.release = () => undefined;
    this.data = undefined;
    this.columns = [];
  }
}

/** Min-heap of inputs by (key ascending, `_seq` descending). */
export class Heap {
  private readonly a: Input[] = [];

  get size(): number {
    return this.a.length;
  }

  peek(): Input | undefined {
    return this.a[0];
  }

  private less(x: Input, y: Input): boolean {
    const c = compareValues(x.key, y.key);
    return c < 0 || (c === 0 && x.seq > y.seq);
  }

  push(x: Input): void {
    const a = this.a;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(a[i], a[p])) break;
      [a[i], a[p]] = [a[p], a[i]];
      i = p;
    }
  }

  pop(): Input | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[l], a[m])) m = l;
        if (r < a.length && this.less(a[r], a[m])) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
}
