/**
 * Crash safety of importDatabase() (restore.ts): the "import in progress"
 * marker and what undoes an import that did not finish.
 *
 * - The import's first commit (its namespaces and tables) also writes the
 *   marker, one `system` record naming what the import created; its last
 *   commit (the users, after the `end` record matched) deletes it. So a
 *   database holds the marker exactly while an import is unfinished.
 * - An import that fails while the database is open (a damaged file, a
 *   storage error) discards what it created and deletes the marker in one
 *   commit (`discardImport`).
 * - An import cut off by a crash (the tab closed, the browser killed it)
 *   leaves the marker: at the next open, before any statement runs,
 *   `rollBackInterruptedImport` drops every namespace and table the marker
 *   names (with their rows, hot and cold) and the marker in one commit, so
 *   the database is empty again and the import can be run again. The
 *   roll-back is recorded in system.jobs (job type `import_rollback`).
 *   A crash during that commit leaves the marker, and the next open rolls
 *   back again.
 */
import type { Catalog } from '../catalog/catalog';
import type { TableDef } from '../core/schema';
import type { JobRecord } from '../jobs/job';
import type { KvStore, KvWrite } from '../storage/kv';
import type { StateChange, UnitOfWork } from '../storage/unit-of-work';

import { IMPORT_MARKER_KEY as MARKER_KEY, clearMarkerWrite, type ImportMarker } from './import-marker';

export { clearMarkerWrite, markerWrite, type ImportMarker } from './import-marker';

export interface DiscardContext {
  readonly catalog: Catalog;
  commit(unit: UnitOfWork): Promise<void>;
}

/**
 * Drops the namespaces and tables an import created, and deletes the
 * marker, in one commit (the caller holds the write lock). Tables already
 * gone are skipped. Returns the tables dropped.
 */
export async function discardImport(ctx: DiscardContext, tables: readonly TableDef[], namespaces: readonly string[]): Promise<TableDef[]> {
  const state: StateChange[] = [];
  const dropped: TableDef[] = [];
  for (const ns of namespaces) {
    if (!ctx.catalog.hasNamespace(ns)) continue;
    const d = ctx.catalog.dropNamespaceWrites(ns);
    state.push({ writes: d.writes, apply: d.apply });
    dropped.push(...d.tables);
  }
  for (const t of tables) {
    if (namespaces.includes(t.namespace) || ctx.catalog.tableById(t.id) === undefined) continue;
    state.push(ctx.catalog.dropTableWrites(t));
    dropped.push(t);
  }
  state.push({ writes: [clearMarkerWrite()], apply: () => undefined });
  await ctx.commit({ state, dropTables: dropped });
  return dropped;
}

export interface RollbackContext extends DiscardContext {
  readonly kv: KvStore;
  readonly jobs: { readonly history: { start(type: 'import_rollback', parameters: JobRecord['parameters'], now: number): JobRecord } };
}

/** At open: rolls back an import a crash cut off (see the file comment). Returns its system.jobs record, or undefined when there was none. */
export async function rollBackInterruptedImport(ctx: RollbackContext): Promise<JobRecord | undefined> {
  const marker = (await ctx.kv.get('system', MARKER_KEY)) as ImportMarker | undefined;
  if (marker === undefined) return undefined;
  const namespaces = Array.isArray(marker.namespaces) ? marker.namespaces.filter((n): n is string => typeof n === 'string') : [];
  const ids = Array.isArray(marker.tables) ? marker.tables : [];
  const tables = ids.flatMap((id) => ctx.catalog.tableById(id) ?? []);
  const startedAt = typeof marker.startedAt === 'number' ? marker.startedAt : null;
  const record = ctx.jobs.history.start('import_rollback', { started_at: startedAt, kind: marker.kind ?? null, namespaces, tables: tables.map((t) => `${t.namespace}.${t.name}`) }, Date.now());
  try {
    const dropped = await discardImport(ctx, tables, namespaces);
    record.status = 'completed';
    record.rows_affected = dropped.length;
    record.message = `An import${startedAt === null ? '' : ` started at ${new Date(startedAt).toISOString()}`} was cut off before it finished: its ${dropped.length} table(s) and ${namespaces.length} namespace(s) were dropped, so the database is as it was before that import. Run importDatabase() again.`;
  } catch (e) {
    record.status = 'failed';
    record.message = `Rolling back an interrupted import failed (${e instanceof Error ? e.message : String(e)}); the next open tries again`;
    throw e;
  } finally {
    record.finished_at = Date.now();
  }
  return record;
}
