/**
 * The relations the planner reads (plan/source.ts's SourceResolver): a
 * user table reads its partition across tiers — an open transaction's or a
 * group's staged rows over hot rows over the cold row groups prepared for
 * the execution, merged in key order (storage/partition-view.ts) — and
 * `system.*` names resolve to the system tables.
 *
 * Isolation lives here: a scan or lookup only ever opens the executing
 * session's partition (USER/STREAM: its user id; SHARED: ''), and checks
 * the session may read the table before any row is produced.
 */
import { checkRead } from '../auth/permissions';
import type { Catalog } from '../catalog/catalog';
import { KalamError } from '../core/errors';
import { deletedSlot, isExpired, partitionOf, type StoredRow, type TableDef } from '../core/schema';
import { hashKey } from '../core/values';
import type { ExecContext, Tuple } from '../exec/context';
import { PAUSE } from '../exec/pace';
import type { IndexScanRequest, RelationSource, SourceResolver } from '../plan/source';
import { systemSource, type SystemEnv } from '../system/tables';
import { WriteOverlay } from './group-commit';
import type { ColdReads } from '../storage/cold/types';
import { WAIT } from '../storage/partition-view';
import type { PartitionViews } from './partition-views';
import { STREAM_REFUSED } from './transaction';

/**
 * Reads a partition through a secondary index (execute/index-support.ts),
 * `staged` (a transaction's or a group's earlier statements' rows of the
 * partition) overlaid on it, or undefined when it cannot (cold segments not
 * prepared through the index).
 */
export type IndexScan = (t: TableDef, user: string, req: IndexScanRequest, cold: ColdReads | undefined, staged?: ReadonlyMap<string, Tuple | null>) => Iterable<StoredRow> | undefined;

export class TableSources implements SourceResolver {
  /** Set when secondary indexes load. */
  indexScan?: IndexScan;

  constructor(
    private readonly catalog: Catalog,
    private readonly views: PartitionViews,
    private readonly systemEnv: SystemEnv,
  ) {}

  resolve(namespace: string | undefined, name: string, defaultNamespace: string): RelationSource {
    const ns = namespace ?? defaultNamespace;
    if (ns === 'system') return systemSource(name, this.systemEnv);
    return this.tableSource(this.catalog.requireTable(ns, name));
  }

  tableSource(t: TableDef): RelationSource {
    const { views } = this;
    const sources = this;
    const del = deletedSlot(t);
    const columns = [
      ...t.columns.map((c) => ({ name: c.name, type: c.type, hidden: false })),
      { name: '_seq', type: 'BIGINT' as const, hidden: true },
      { name: '_deleted', type: 'BOOLEAN' as const, hidden: true },
    ];
    const visible = (row: StoredRow, ctx: ExecContext, includeDeleted: boolean) =>
      (includeDeleted || row[del] !== true) && !isExpired(t, row, ctx.now);
    const stagedPartition = (ctx: ExecContext) => {
      if (!ctx.staged) return undefined;
      // A group commit's overlay (earlier statements of the group) may hold STREAM rows; a transaction may not.
      if (t.type === 'STREAM' && !(ctx.staged instanceof WriteOverlay)) throw new KalamError('TRANSACTION_ERROR', STREAM_REFUSED);
      return ctx.staged.partition(t.id, partitionOf(t, ctx.user));
    };
    // Only this session's partition is ever opened (USER/STREAM: its user id), across the staged
    // rows of an open transaction or group, the hot rows and the cold row groups prepared for the
    // execution (ColdReader.prepare), in key order.
    const view = (ctx: ExecContext) => views.view(t, partitionOf(t, ctx.user), ctx.cold, stagedPartition(ctx));
    return {
      name: `${t.namespace}.${t.name}`,
      columns,
      table: t,
      pkSlot: t.pk >= 0 ? t.pk : undefined,
      *rows(ctx, opts) {
        checkRead(ctx.role, t);
        // WAIT: a cold row group is loading; a pause lets the driver wait for it (exec/pace.ts drain).
        // opts.runs: a ColdRun passes `visible` as a row would (no `_deleted`, no expiry: not a STREAM table's).
        for (const row of view(ctx).rows(opts.range, opts.descending, opts.runs)) if (row === WAIT) yield PAUSE;
        else if (visible(row, ctx, opts.includeDeleted)) yield row;
      },
      authorize(ctx) {
        checkRead(ctx.role, t);
      },
      estimate(ctx) {
        return views.estimate(t, partitionOf(t, ctx.user)) + (stagedPartition(ctx)?.size ?? 0);
      },
      indexRows(ctx, req) {
        checkRead(ctx.role, t);
        // Rows staged by a transaction or a group's earlier statements are not in the index: they are overlaid on its read.
        return sources.indexScan?.(t, partitionOf(t, ctx.user), req, ctx.cold, stagedPartition(ctx));
      },
      lookup(ctx, pk, opts) {
        checkRead(ctx.role, t);
        const row = view(ctx).get(pk, hashKey(pk));
        return row && visible(row, ctx, opts.includeDeleted) ? row : undefined;
      },
    };
  }
}
