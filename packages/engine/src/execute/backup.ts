/**
 * Export: the database (or one user's data) as one file in the format of
 * backup-format.ts.
 *
 * The export runs under the write lock (`exclusive`), so the file is one
 * consistent state — no commit, flush or compaction lands while it runs;
 * reads go on, and the export gives the thread away between key windows.
 * Rows are read partition by partition, each partition in key windows of
 * about WINDOW_GROUPS cold row groups (the boundaries come from the
 * manifest's per-group first keys): only the row groups of one window are
 * loaded and pinned at a time, plus the hot tier already in memory, so the
 * heap grows with one window and one record, not with the database. Deleted
 * rows (tombstones) and expired STREAM rows are not exported. The files a
 * `rows` record names (FILE columns) go just before it, read from the blob
 * store a FILE_PIECE_BYTES slice at a time.
 */
import { canReadShared, accessLevelOf } from '../auth/permissions';
import type { UserRegistry } from '../auth/users';
import type { Catalog, NamespaceDef } from '../catalog/catalog';
import { deletedSlot, isExpired, rowBytes, type StoredRow, type TableDef } from '../core/schema';
import { KalamError } from '../core/errors';
import type { FileRef, Role, Value } from '../core/types';
import type { BlobStore } from '../storage/blob-store';
import { compareValues } from '../core/values';
import { TimeSlice } from '../core/yield';
import { pkStatsKey, type ColdTier } from '../storage/cold/cold-tier';
import type { ScanBound } from '../storage/cold/prune';
import type { HotTier } from '../storage/hot-tier';
import type { KeyRange } from '../storage/key-range';
import { BackupWriter, FILE_PIECE_BYTES, RECORD_TARGET_BYTES, ROWS_PER_RECORD, type BackupOptions, type BackupProgress } from './backup-format';
import type { ColdReader } from './cold-reads';
import type { PartitionViews } from './partition-views';

/** Cold row groups (by their first keys) per key window an export reads at once. */
export const WINDOW_GROUPS = 4;

export interface ExportContext {
  readonly catalog: Catalog;
  readonly users: UserRegistry;
  readonly hot: HotTier;
  readonly cold: ColdTier;
  readonly coldReader: ColdReader;
  readonly views: PartitionViews;
  /** The FILE column code, attached when the database ever stored a file (execute/files.ts). */
  readonly files?: { readonly store: BlobStore } | undefined;
  exclusive<T>(fn: () => Promise<T> | T): Promise<T>;
  assertOpen(): void;
}

/** What an export holds: everything, or what one session may take to another device. */
export type ExportScope = { kind: 'database' } | { kind: 'user'; user: string; role: Role };

/** One table of an export and the partitions whose rows it holds. */
interface TablePlan {
  table: TableDef;
  partitions: string[];
}

/** Calls a progress callback; its failure is the caller's and does not stop the export or import. */
export function report(options: BackupOptions, progress: BackupProgress): void {
  const fn = options.onProgress;
  if (!fn) return;
  try {
    const r = fn({ rows: progress.rows, tables: progress.tables }) as unknown;
    if (r instanceof Promise) r.catch(() => undefined); // a callback across the worker boundary answers with a promise
  } catch {
    // A throwing progress callback is not the export's failure.
  }
}

export function exportBackup(ctx: ExportContext, scope: ExportScope, options: BackupOptions): Promise<Blob> {
  ctx.assertOpen();
  return ctx.exclusive(() => writeBackup(ctx, scope, options));
}

function planTables(ctx: ExportContext, scope: ExportScope): TablePlan[] {
  const plans: TablePlan[] = [];
  for (const t of ctx.catalog.listTables()) {
    if (scope.kind === 'user') {
      // The session's own rows of USER tables, and SHARED tables its role may read; STREAM rows are transient and stay.
      if (t.type === 'USER') plans.push({ table: t, partitions: [scope.user] });
      else if (t.type === 'SHARED' && canReadShared(scope.role, accessLevelOf(t))) plans.push({ table: t, partitions: [''] });
      continue;
    }
    const users = new Set<string>(ctx.hot.table(t.id).partitions.keys());
    for (const user of ctx.cold.manifest.partitions(t.id).keys()) users.add(user);
    plans.push({ table: t, partitions: [...users].sort() });
  }
  return plans;
}

async function writeBackup(ctx: ExportContext, scope: ExportScope, options: BackupOptions): Promise<Blob> {
  const plans = planTables(ctx, scope);
  const out = new BackupWriter(plans.some((p) => p.table.columns.some((c) => c.type === 'FILE')) ? 2 : 1);
  out.write(scope.kind === 'user' ? { t: 'header', kind: 'user', createdAt: Date.now(), user: scope.user } : { t: 'header', kind: 'database', createdAt: Date.now() });
  const namespaces = new Set(plans.map((p) => p.table.namespace));
  for (const ns of ctx.catalog.listNamespaces()) {
    if (scope.kind === 'database' || namespaces.has(ns.name)) out.write({ t: 'namespace', def: ns as NamespaceDef });
  }
  for (const u of ctx.users.list()) {
    if (scope.kind === 'database' || u.user_id === scope.user) out.write({ t: 'user', record: u });
  }
  for (const p of plans) out.write({ t: 'table', def: p.table });
  const progress: BackupProgress = { rows: 0, tables: 0 };
  const slice = new TimeSlice();
  const now = Date.now();
  for (const { table, partitions } of plans) {
    const fileSlots = table.columns.flatMap((c, i) => (c.type === 'FILE' ? [i] : []));
    for (const user of partitions) {
      let chunk: StoredRow[] = [];
      let bytes = 0;
      const emit = async () => {
        for (const row of chunk) for (const i of fileSlots) if (row[i] !== null) await writeFile(ctx, out, row[i] as unknown as FileRef, table);
        out.write({ t: 'rows', table: table.id, user, rows: chunk });
        progress.rows += chunk.length;
        chunk = [];
        bytes = 0;
        report(options, progress);
      };
      for await (const row of partitionRows(ctx, table, user, now, slice)) {
        chunk.push(row);
        bytes += rowBytes(row);
        if (chunk.length >= ROWS_PER_RECORD || bytes >= RECORD_TARGET_BYTES) await emit();
      }
      if (chunk.length > 0) await emit();
    }
    progress.tables++;
    report(options, progress);
  }
  out.write({ t: 'end', tables: plans.length, rows: progress.rows });
  return out.finish();
}

/** The bytes of a row's file, as `file` records of FILE_PIECE_BYTES (one record for an empty file). */
async function writeFile(ctx: ExportContext, out: BackupWriter, ref: FileRef, t: TableDef): Promise<void> {
  const blob = await ctx.files?.store.read(ref.id);
  if (!blob || blob.size !== ref.size) {
    throw new KalamError('FILE_NOT_FOUND', `The file '${ref.name}' of a row of ${t.namespace}.${t.name} is missing from the file store, so the export stopped. Set that row's file again (or to NULL), then export again.`);
  }
  for (let at = 0; at === 0 || at < ref.size; at += FILE_PIECE_BYTES) {
    const bytes = new Uint8Array(await blob.slice(at, Math.min(ref.size, at + FILE_PIECE_BYTES)).arrayBuffer());
    out.write(at === 0 ? { t: 'file', ref, at, bytes } : { t: 'file', id: ref.id, at, bytes });
  }
}

/**
 * The first keys of the windows a partition is read in: every
 * WINDOW_GROUPS-th row group's first key, in key order (the first window
 * starts at the lowest key, the last ends at the highest).
 */
export function windowStarts(cold: ColdTier, t: TableDef, user: string): Value[] {
  const firsts: Value[] = [];
  for (const m of cold.manifest.segments(t.id, user)) for (const k of m.groups?.key_min ?? []) firsts.push(k);
  firsts.sort(compareValues);
  const starts: Value[] = [];
  for (let i = WINDOW_GROUPS; i < firsts.length; i += WINDOW_GROUPS) {
    if (starts.length === 0 || compareValues(starts[starts.length - 1], firsts[i]) < 0) starts.push(firsts[i]);
  }
  return starts;
}

/** A partition's live rows in key order, one key window's row groups loaded at a time. */
async function* partitionRows(ctx: ExportContext, t: TableDef, user: string, now: number, slice: TimeSlice): AsyncGenerator<StoredRow> {
  const del = deletedSlot(t);
  const hasCold = t.type !== 'STREAM' && ctx.cold.manifest.hasSegments(t.id, user);
  const starts = hasCold ? windowStarts(ctx.cold, t, user) : [];
  const pkKey = pkStatsKey(t);
  for (let w = 0; w <= starts.length; w++) {
    const lower = w > 0 ? starts[w - 1] : undefined;
    const upper = w < starts.length ? starts[w] : undefined;
    const range: KeyRange = {};
    const bounds: ScanBound[] = [];
    if (lower !== undefined) {
      range.lower = { value: lower, inclusive: true };
      bounds.push({ key: pkKey!, isPk: true, op: '>=', values: [lower] });
    }
    if (upper !== undefined) {
      range.upper = { value: upper, inclusive: false };
      bounds.push({ key: pkKey!, isPk: true, op: '<', values: [upper] });
    }
    const prepared = hasCold ? await ctx.coldReader.preparePartition(t, user, bounds.length > 0 ? bounds : null) : undefined;
    try {
      const rows: StoredRow[] = [];
      for (const row of ctx.views.view(t, user, prepared?.reads).rows(range)) {
        if (row[del] !== true && !isExpired(t, row, now)) rows.push(row);
      }
      // The window's rows are collected first: the pins are released before the consumer awaits anything.
      prepared?.release();
      for (const row of rows) yield row;
    } finally {
      prepared?.release();
    }
    await slice.pause();
  }
}
