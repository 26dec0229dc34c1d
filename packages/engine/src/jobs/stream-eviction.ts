/**
 * `stream_eviction`: physically deletes STREAM rows older than the table's
 * `TTL_SECONDS`. Reads already hide them (`isExpired`); this job frees
 * their memory and storage. KalamDB runs it every 60 s.
 */
import type { TableDef } from '../core/schema';
import { seqMillis } from '../core/ids';
import { type RowChange } from '../core/schema';
import { seqSlot } from '../core/schema';
import type { HotTier } from '../storage/hot-tier';
import type { TableJob } from './job';

/** A row is expired when its `_seq` time is before `now - ttl` (the rule reads use). */
export function streamCutoff(t: TableDef, now: number): number {
  return now - (t.ttlSeconds ?? 0) * 1000;
}

/** One job per STREAM table with a TTL that holds rows; the caller skips jobs that remove nothing. */
export function planStreamEviction(tables: readonly TableDef[], hot: HotTier, now: number): TableJob[] {
  const jobs: TableJob[] = [];
  for (const t of tables) {
    if (t.type !== 'STREAM' || !t.ttlSeconds) continue;
    const rows = hot.table(t.id);
    if (rows.liveRows + rows.tombstones === 0) continue;
    const cutoff = streamCutoff(t, now);
    jobs.push({
      type: 'stream_eviction',
      table: t,
      parameters: { namespace_id: t.namespace, table_name: t.name, ttl_seconds: t.ttlSeconds, cutoff },
      removals: () => expiredRows(hot, t, cutoff),
    });
  }
  return jobs;
}

function* expiredRows(hot: HotTier, t: TableDef, cutoff: number): Generator<RowChange> {
  const seqAt = seqSlot(t);
  // Map iteration tolerates the deletions the runner commits between pulls.
  for (const [user, partition] of hot.table(t.id).partitions) {
    for (const [pkHash, row] of partition) {
      const seq = row[seqAt] as bigint;
      if (seqMillis(seq) >= cutoff) continue;
      yield { table: t, user, pkHash, pk: t.pk >= 0 ? row[t.pk] : seq, row: null, before: row };
    }
  }
}
