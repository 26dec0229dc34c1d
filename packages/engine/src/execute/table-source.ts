/**
 * The relations the planner reads (plan/source.ts's SourceResolver): a
 * user table reads its partition across tiers — an open transaction's or a
 * group's staged rows over hot rows over the cold segments prepared for the
 * execution — and `system.*` names resolve to the system tables.
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
import type { ExecContext } from '../exec/context';
import type { RelationSource, SourceResolver } from '../plan/source';
import { NOTHING, type ColdTier } from '../storage/cold/cold-tier';
import { mergedRows, newestVersion } from '../storage/cold/merge';
import type { DecodedSegment } from '../storage/cold/types';
import type { HotTier } from '../storage/hot-tier';
import { systemSource, type SystemEnv } from '../system/tables';
import { WriteOverlay } from './group-commit';
import { STREAM_REFUSED } from './transaction';

export class TableSources implements SourceResolver {
  constructor(
    private readonly catalog: Catalog,
    private readonly hot: HotTier,
    private readonly cold: ColdTier,
    private readonly systemEnv: SystemEnv,
  ) {}

  resolve(namespace: string | undefined, name: string, defaultNamespace: string): RelationSource {
    const ns = namespace ?? defaultNamespace;
    if (ns === 'system') return systemSource(name, this.systemEnv);
    return this.tableSource(this.catalog.requireTable(ns, name));
  }

  tableSource(t: TableDef): RelationSource {
    const { hot, cold } = this;
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
    const name = `${t.namespace}.${t.name}`;
    // The cold segments this execution reads, newest first (ColdReader.prepare loaded them).
    const coldSegments = (ctx: ExecContext): readonly DecodedSegment[] => {
      if (t.type === 'STREAM') return NOTHING.segments;
      const user = partitionOf(t, ctx.user);
      const prepared = ctx.cold?.partition(t.id, user);
      if (prepared && prepared.segments.every((s) => s.tableVersion === t.version)) return prepared.segments;
      const resident = cold.resident(t, user);
      if (resident) return resident.segments;
      throw new KalamError('INTERNAL', `Internal error: a read of '${name}' was not prepared for its cold segments (ColdReader.prepare). This is a bug in kalamlite; please report it.`);
    };
    return {
      name,
      columns,
      table: t,
      pkSlot: t.pk >= 0 ? t.pk : undefined,
      *rows(ctx, opts) {
        checkRead(ctx.role, t);
        // Only this session's partition is ever opened (USER/STREAM: its user id).
        const p = hot.partition(t.id, partitionOf(t, ctx.user));
        // An open transaction's staged versions of the same partition replace the committed ones.
        const staged = stagedPartition(ctx);
        const segments = coldSegments(ctx);
        if (segments.length > 0) {
          yield* mergedRows(p, staged, segments, (row) => visible(row, ctx, opts.includeDeleted));
          return;
        }
        if (p && !staged) for (const row of p.values()) if (visible(row, ctx, opts.includeDeleted)) yield row;
        if (!staged) return;
        if (p) for (const [k, row] of p) if (!staged.has(k) && visible(row, ctx, opts.includeDeleted)) yield row;
        for (const row of staged.values()) if (row && visible(row, ctx, opts.includeDeleted)) yield row;
      },
      authorize(ctx) {
        checkRead(ctx.role, t);
      },
      lookup(ctx, pk, opts) {
        checkRead(ctx.role, t);
        const k = hashKey(pk);
        const staged = stagedPartition(ctx);
        const segments = coldSegments(ctx);
        const p = hot.partition(t.id, partitionOf(t, ctx.user));
        const row = segments.length > 0 ? newestVersion(p, staged, segments, k) : staged?.has(k) ? staged.get(k) : p?.get(k);
        return row && visible(row, ctx, opts.includeDeleted) ? row : undefined;
      },
    };
  }
}
