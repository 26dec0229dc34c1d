/**
 * The retention job's part of FILE columns: a DELETE keeps a row's files
 * with its tombstone (`['file_r', table, deleted-at ms, id]`, files.ts);
 * after each retention run's rows, the files of tombstones older than
 * their table's DELETED_RETENTION_HOURS at `now` — the cutoff the
 * tombstones use — are deleted: records in commits of at most `batchSize`
 * files under the write lock, blobs after each; one `retention` record per
 * table in system.jobs. Part of the file code's chunk.
 */
import type { Catalog } from '../catalog/catalog';
import type { TableDef } from '../core/schema';
import type { JobRecord, RecordedRunner } from '../jobs/job';
import { retentionHours } from '../jobs/retention';
import { decodeKey, encodeKey } from '../storage/keys';
import type { KvStore } from '../storage/kv';
import type { StateChange, UnitOfWork } from '../storage/unit-of-work';
import { fileSlots, recordKey, type FileRecord } from './files-keys';

export interface PurgeHost {
  readonly kv: KvStore;
  readonly catalog: Catalog;
  commit(unit: UnitOfWork): Promise<void>;
  exclusive<T>(fn: () => Promise<T> | T): Promise<T>;
}

/** Files whose records a commit deletes. */
export type Freed = { id: string; tableId: number; size: number; at: number }[];

const HOUR_MS = 3_600_000;

export async function purgeRetainedFiles(host: PurgeHost, now: number, batchSize: number, run: RecordedRunner, free: (freed: Freed) => StateChange): Promise<JobRecord[]> {
  const out: JobRecord[] = [];
  for (const t of host.catalog.listTables()) {
    if (fileSlots(t).length === 0 || t.type === 'STREAM') continue;
    const hours = retentionHours(t);
    const cutoff = now - hours * HOUR_MS;
    const due = () => dueFiles(host, t, cutoff, batchSize);
    // A failing read is not skipped: the run below meets it again and records the job failed.
    if ((await due().catch(() => [0])).length === 0) continue;
    const parameters = { namespace_id: t.namespace, table_name: t.name, deleted_retention_hours: hours, cutoff };
    out.push(
      await run('retention', parameters, async (record, isCancelled) => {
        while (!isCancelled()) {
          const n = await host.exclusive(async () => {
            if (host.catalog.tableById(t.id) !== t) return 0; // dropped or altered meanwhile: the next run sees its new definition
            const freed: Freed = [];
            for (const { id, at } of await due()) {
              const r = (await host.kv.get('system', recordKey(id))) as FileRecord | undefined;
              freed.push({ id, tableId: t.id, size: r?.size ?? 0, at });
            }
            if (freed.length > 0) await host.commit({ state: [free(freed)] });
            return freed.length;
          });
          record.rows_affected += n;
          if (n < batchSize) break;
        }
        record.message = `Purged ${record.rows_affected} file(s) of rows deleted over ${hours} hour(s) ago from ${t.namespace}.${t.name}`;
      }),
    );
  }
  return out;
}

/** Up to `max` files of `t` whose rows were deleted before `cutoff`, oldest first. */
async function dueFiles(host: PurgeHost, t: TableDef, cutoff: number, max: number): Promise<{ id: string; at: number }[]> {
  const found: { id: string; at: number }[] = [];
  await host.kv.scan('system', { lower: encodeKey(['file_r', t.id]), upper: encodeKey(['file_r', t.id, cutoff]) }, (key) => {
    if (found.length >= max) return;
    const [, , at, id] = decodeKey(key) as [string, number, number, string];
    found.push({ id, at });
  });
  return found;
}
