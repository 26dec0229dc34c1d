/**
 * `retention`: physically purges soft-deleted rows (`_deleted = true`) of
 * USER and SHARED tables once their tombstone is older than the table's
 * `DELETED_RETENTION_HOURS` (default 168, as KalamDB). Until then a WHERE
 * that names `_deleted` still sees them; afterwards nothing does (a flushed
 * tombstone: once the compaction this job queues for it ran).
 */
import type { TableDef } from '../core/schema';
import { KalamError } from '../core/errors';
import { seqMillis } from '../core/ids';
import { type RowChange } from '../core/schema';
import { deletedSlot, seqSlot } from '../core/schema';
import type { HotTier } from '../storage/hot-tier';
import type { TableJob } from './job';

export const DEFAULT_DELETED_RETENTION_HOURS = 168;

const HOUR_MS = 3_600_000;

/**
 * Validates a `DELETED_RETENTION_HOURS` option value (as written in WITH
 * (…)) and returns the hours: a non-negative integer; 0 purges tombstones at
 * the next retention run.
 */
export function parseRetentionHours(value: string): number {
  const hours = /^\+?\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(hours)) {
    throw new KalamError(
      'INVALID_OPTION',
      `DELETED_RETENTION_HOURS must be a non-negative whole number of hours, got '${value}' (for example DELETED_RETENTION_HOURS = 168)`,
    );
  }
  return hours;
}

export function retentionHours(t: TableDef): number {
  const raw = t.options.DELETED_RETENTION_HOURS;
  if (raw === undefined) return DEFAULT_DELETED_RETENTION_HOURS;
  const hours = /^\+?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
  // A definition stored before validation existed: fall back rather than purge early.
  return Number.isSafeInteger(hours) ? hours : DEFAULT_DELETED_RETENTION_HOURS;
}

/** One job per USER/SHARED table holding tombstones; the caller skips jobs that remove nothing. */
export function planRetention(
  tables: readonly TableDef[],
  hot: HotTier,
  now: number,
  coldMayHold?: (t: TableDef, user: string, pk: unknown) => boolean,
): TableJob[] {
  const jobs: TableJob[] = [];
  for (const t of tables) {
    if (t.type !== 'USER' && t.type !== 'SHARED') continue;
    if (hot.table(t.id).tombstones === 0) continue;
    const hours = retentionHours(t);
    const cutoff = now - hours * HOUR_MS;
    jobs.push({
      type: 'retention',
      table: t,
      parameters: { namespace_id: t.namespace, table_name: t.name, deleted_retention_hours: hours, cutoff },
      removals: () => oldTombstones(hot, t, cutoff, coldMayHold),
    });
  }
  return jobs;
}

/**
 * A hot tombstone whose key may still have an older version in a cold
 * segment is kept: purging it would bring that version back; a flush moves
 * it to a segment. Cold tombstones are purged by compaction (compact.ts):
 * the retention run queues a compaction of each table whose segments hold
 * tombstones past retention, which drops them with the versions they hide.
 */
function* oldTombstones(hot: HotTier, t: TableDef, cutoff: number, coldMayHold?: (t: TableDef, user: string, pk: unknown) => boolean): Generator<RowChange> {
  const seqAt = seqSlot(t);
  const del = deletedSlot(t);
  for (const [user, partition] of hot.table(t.id).partitions) {
    for (const [pkHash, row] of partition) {
      if (row[del] !== true) continue;
      // A tombstone's `_seq` is the time of the DELETE that wrote it.
      if (seqMillis(row[seqAt] as bigint) >= cutoff) continue;
      if (coldMayHold?.(t, user, row[t.pk])) continue;
      yield { table: t, user, pkHash, pk: row[t.pk], row: null, before: row };
    }
  }
}
