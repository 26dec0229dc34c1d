/**
 * The flush policy (`FLUSH_POLICY='rows:N' | 'interval:S' | 'rows:N,interval:S'`)
 * and the check the scheduler runs: a table is due when its hot rows reach
 * N, or its oldest pending write is older than S seconds. Tables without a
 * policy are never flushed automatically (as KalamDB); unlike KalamDB the
 * interval part is honoured (DIALECT.md).
 */
import type { TableDef } from '../core/schema';
import { KalamError } from '../core/errors';
import { seqMillis } from '../core/ids';
import type { HotTier } from '../storage/hot-tier';

export interface FlushPolicy {
  rows?: number;
  intervalSeconds?: number;
}

const usage = (text: string) =>
  new KalamError('INVALID_OPTION', `Invalid FLUSH_POLICY '${text}': use 'rows:N', 'interval:S' or 'rows:N,interval:S' with whole numbers above 0 (for example FLUSH_POLICY = 'rows:10000,interval:300')`);

/** Parses a FLUSH_POLICY value as written in WITH (…); throws INVALID_OPTION. */
export function parseFlushPolicy(text: string): FlushPolicy {
  const policy: FlushPolicy = {};
  const parts = text.split(',').map((p) => p.trim().toLowerCase());
  if (parts.length === 0 || parts.length > 2) throw usage(text);
  for (const part of parts) {
    const m = /^(rows|interval)\s*:\s*(\d+)$/.exec(part);
    if (!m) throw usage(text);
    const n = Number(m[2]);
    if (!Number.isSafeInteger(n) || n <= 0) throw usage(text);
    if (m[1] === 'rows') {
      if (policy.rows !== undefined) throw usage(text);
      policy.rows = n;
    } else {
      if (policy.intervalSeconds !== undefined) throw usage(text);
      policy.intervalSeconds = n;
    }
  }
  return policy;
}

/** The table's policy, or undefined (no policy, a STREAM table, or a value stored before validation). */
export function flushPolicyOf(t: TableDef): FlushPolicy | undefined {
  const raw = t.options.FLUSH_POLICY;
  if (raw === undefined || t.type === 'STREAM') return undefined;
  try {
    return parseFlushPolicy(raw);
  } catch {
    return undefined;
  }
}

/** Hot rows (live and tombstones) waiting to be flushed. */
export function pendingRows(hot: HotTier, t: TableDef): number {
  const rows = hot.table(t.id);
  return rows.liveRows + rows.tombstones;
}

/** Whether a table's policy says flush now. */
export function isFlushDue(hot: HotTier, t: TableDef, policy: FlushPolicy, now: number): boolean {
  const pending = pendingRows(hot, t);
  if (pending === 0) return false;
  if (policy.rows !== undefined && pending >= policy.rows) return true;
  if (policy.intervalSeconds === undefined) return false;
  const seqAt = t.columns.length;
  const cutoff = now - policy.intervalSeconds * 1000;
  for (const partition of hot.table(t.id).partitions.values()) {
    for (const row of partition.values()) if (seqMillis(row[seqAt] as bigint) <= cutoff) return true;
  }
  return false;
}
