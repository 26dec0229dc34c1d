/**
 * The one catalog every session shares: namespaces and table definitions,
 * persisted in the `system` object store. DDL computes its storage writes
 * first, commits them, then applies them here, so a failed commit leaves
 * the in-memory catalog untouched.
 */
import { KalamError } from '../core/errors';
import type { TableDef } from '../core/schema';
import { encodeKey, prefixUpperBound } from '../storage/keys';
import type { KvStore, KvWrite } from '../storage/kv';
import { DEFAULT_MAX_SCHEMA_VERSIONS, DEFAULT_NAMESPACE } from '../core/defaults';

/** One recorded definition of a table: every CREATE and ALTER adds one (system.schemas). */
export interface SchemaVersion {
  tableId: number;
  version: number;
  def: TableDef;
}

export interface CatalogOptions {
  /** Schema versions kept per table; the oldest are dropped past it. Default 64. */
  maxSchemaVersions?: number;
}


export { DEFAULT_MAX_SCHEMA_VERSIONS };

export interface NamespaceDef {
  name: string;
  createdAt: number;
}

export { DEFAULT_NAMESPACE };

/** A view: a named query, expanded where it is read under the reader's session (plan/view-expand.ts). */
export interface ViewDef {
  namespace: string;
  name: string;
  /** The query as written after AS; unqualified table names in it resolve in `namespace`. */
  query: string;
  /** `CREATE VIEW v (a, b)`: names for the query's first output columns. */
  columns?: string[];
  createdAt: number;
  /** The last CREATE OR REPLACE (createdAt until then). */
  updatedAt: number;
}

export const qualified = (ns: string, name: string) => `${ns}.${name}`;

const nsKey = (name: string) => encodeKey(['namespace', name]);
const tableKey = (id: number) => encodeKey(['table', id]);
const schemaKey = (id: number, version: number) => encodeKey(['schema', id, version]);
const viewKey = (ns: string, name: string) => encodeKey(['view', ns, name]);
const prefixRange = (kind: string) => {
  const lower = encodeKey([kind]);
  return { lower, upper: prefixUpperBound(lower) };
};

export class Catalog {
  /** Bounded by the number of namespaces the app creates; shrunk by DROP NAMESPACE. */
  private readonly namespaces = new Map<string, NamespaceDef>();
  /** Keyed 'ns.table'; shrunk by DROP TABLE / DROP NAMESPACE. */
  private readonly tables = new Map<string, TableDef>();
  private readonly byId = new Map<number, TableDef>();
  private nextId = 1;
  /** table id → its recorded versions, oldest first; at most maxSchemaVersions each, removed with the table. */
  private readonly history = new Map<number, SchemaVersion[]>();
  private versionCount = 0;
  /** Versions trimmed at load (the bound was lowered) still in storage: deleted by the table's next ALTER or DROP. */
  private readonly staleVersions = new Map<number, number[]>();
  readonly maxSchemaVersions: number;
  /** Keyed 'ns.view'; bounded like tables by what the app creates; shrunk by DROP VIEW / DROP NAMESPACE. */
  private readonly views = new Map<string, ViewDef>();
  private viewChanges = 0;
  /** Counts every table added, replaced (a new schema version) or removed. */
  private tableChanges = 0;

  constructor(options: CatalogOptions = {}) {
    const max = options.maxSchemaVersions ?? DEFAULT_MAX_SCHEMA_VERSIONS;
    if (!Number.isInteger(max) || max < 1) {
      throw new KalamError('INVALID_PARAMETER', `maxSchemaVersions must be a positive integer, got ${String(max)}`);
    }
    this.maxSchemaVersions = max;
    // `default` always exists: unqualified names resolve there.
    this.namespaces.set(DEFAULT_NAMESPACE, { name: DEFAULT_NAMESPACE, createdAt: 0 });
  }

  static async load(kv: KvStore, options: CatalogOptions = {}): Promise<Catalog> {
    const c = new Catalog(options);
    // The four kinds are read at once, then applied in order (a schema version needs its table).
    const read = async (kind: string): Promise<unknown[]> => {
      const values: unknown[] = [];
      await kv.scan('system', prefixRange(kind), (_k, v) => void values.push(v));
      return values;
    };
    const [namespaces, tables, views, schemas] = await Promise.all([read('namespace'), read('table'), read('view'), read('schema')]);
    for (const ns of namespaces as NamespaceDef[]) c.namespaces.set(ns.name, ns);
    for (const t of tables as TableDef[]) c.addTable(t);
    for (const view of views as ViewDef[]) c.views.set(qualified(view.namespace, view.name), view);
    for (const sv of schemas as SchemaVersion[]) {
      if (!c.byId.has(sv.tableId)) continue; // left by a crash between writes: never read
      for (const dropped of c.recordVersion(sv)) {
        const stale = c.staleVersions.get(sv.tableId) ?? [];
        stale.push(dropped.version);
        c.staleVersions.set(sv.tableId, stale);
      }
    }
    return c;
  }

  private addTable(t: TableDef): void {
    this.tableChanges++;
    this.tables.set(qualified(t.namespace, t.name), t);
    this.byId.set(t.id, t);
    if (t.id >= this.nextId) this.nextId = t.id + 1;
  }

  hasNamespace(name: string): boolean {
    return this.namespaces.has(name);
  }

  listNamespaces(): NamespaceDef[] {
    return [...this.namespaces.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  listTables(namespace?: string): TableDef[] {
    const all = [...this.tables.values()].filter((t) => namespace === undefined || t.namespace === namespace);
    return all.sort((a, b) => (qualified(a.namespace, a.name) < qualified(b.namespace, b.name) ? -1 : 1));
  }

  findTable(namespace: string, name: string): TableDef | undefined {
    return this.tables.get(qualified(namespace, name));
  }

  tableById(id: number): TableDef | undefined {
    return this.byId.get(id);
  }

  requireNamespace(name: string): NamespaceDef {
    const ns = this.namespaces.get(name);
    if (!ns) throw new KalamError('NAMESPACE_NOT_FOUND', `Namespace '${name}' does not exist. Create it first with CREATE NAMESPACE ${name}`);
    return ns;
  }

  requireTable(namespace: string, name: string): TableDef {
    const t = this.findTable(namespace, name);
    if (!t) {
      if (!this.namespaces.has(namespace)) this.requireNamespace(namespace);
      if (this.findView(namespace, name)) {
        throw new KalamError('INVALID_SQL', `'${namespace}.${name}' is a view, not a table: read it with SELECT, remove it with DROP VIEW, or name the table it reads`);
      }
      throw new KalamError('TABLE_NOT_FOUND', `Table '${namespace}.${name}' does not exist. Check the name, or create it with CREATE TABLE`);
    }
    return t;
  }

  allocateTableId(): number {
    return this.nextId++;
  }

  // -- writes: each returns the storage writes and an apply step --

  createNamespaceWrites(ns: NamespaceDef): { writes: KvWrite[]; apply: () => void } {
    return { writes: [{ store: 'system', key: nsKey(ns.name), value: ns }], apply: () => this.namespaces.set(ns.name, ns) };
  }

  dropNamespaceWrites(name: string): { writes: KvWrite[]; tables: TableDef[]; apply: () => void } {
    const tables = this.listTables(name);
    const views = this.listViews(name);
    const writes: KvWrite[] = [{ store: 'system', key: nsKey(name) }];
    for (const t of tables) writes.push({ store: 'system', key: tableKey(t.id) }, ...this.historyDeletes(t.id));
    for (const v of views) writes.push({ store: 'system', key: viewKey(v.namespace, v.name) });
    return {
      writes,
      tables,
      apply: () => {
        this.namespaces.delete(name);
        for (const t of tables) this.removeTable(t);
        for (const v of views) this.views.delete(qualified(v.namespace, v.name));
        if (views.length > 0) this.viewChanges++;
      },
    };
  }

  createTableWrites(t: TableDef): { writes: KvWrite[]; apply: () => void } {
    const sv: SchemaVersion = { tableId: t.id, version: t.version, def: t };
    return {
      writes: [{ store: 'system', key: tableKey(t.id), value: t }, { store: 'system', key: schemaKey(t.id, t.version), value: sv }],
      apply: () => {
        this.addTable(t);
        this.recordVersion(sv);
      },
    };
  }

  /**
   * Replaces a table's definition with `next` (same id, a higher version) and
   * records it as a schema version, dropping the oldest past the bound.
   */
  alterTableWrites(next: TableDef): { writes: KvWrite[]; apply: () => void } {
    const current = this.byId.get(next.id);
    if (!current || next.version <= current.version) {
      throw new KalamError('INTERNAL', `Internal error: table ${next.id} cannot move to version ${next.version}. This is a bug in kalamlite; please report it.`);
    }
    const sv: SchemaVersion = { tableId: next.id, version: next.version, def: next };
    const writes: KvWrite[] = [{ store: 'system', key: tableKey(next.id), value: next }, { store: 'system', key: schemaKey(next.id, next.version), value: sv }];
    const kept = this.history.get(next.id) ?? [];
    for (const old of kept.slice(0, Math.max(0, kept.length + 1 - this.maxSchemaVersions))) {
      writes.push({ store: 'system', key: schemaKey(old.tableId, old.version) });
    }
    for (const v of this.staleVersions.get(next.id) ?? []) writes.push({ store: 'system', key: schemaKey(next.id, v) });
    return {
      writes,
      apply: () => {
        this.tables.delete(qualified(current.namespace, current.name));
        this.addTable(next);
        this.recordVersion(sv);
        this.staleVersions.delete(next.id);
      },
    };
  }

  dropTableWrites(t: TableDef): { writes: KvWrite[]; apply: () => void } {
    return { writes: [{ store: 'system', key: tableKey(t.id) }, ...this.historyDeletes(t.id)], apply: () => this.removeTable(t) };
  }

  // -- views --

  findView(namespace: string, name: string): ViewDef | undefined {
    return this.views.get(qualified(namespace, name));
  }

  listViews(namespace?: string): ViewDef[] {
    const all = [...this.views.values()].filter((v) => namespace === undefined || v.namespace === namespace);
    return all.sort((a, b) => (qualified(a.namespace, a.name) < qualified(b.namespace, b.name) ? -1 : 1));
  }

  /** Views in the catalog (system.stats). */
  get viewCount(): number {
    return this.views.size;
  }

  /**
   * Counts every change to the set of views or their queries: a plan that
   * expanded a view under an older count is stale (execute/planner.ts).
   */
  get viewEpoch(): number {
    return this.viewChanges;
  }

  /** Counts every change to the set of tables or their definitions: what was read off them under an older count may be stale. */
  get tableEpoch(): number {
    return this.tableChanges;
  }

  /** CREATE VIEW, and CREATE OR REPLACE VIEW over an existing one (same key). */
  createViewWrites(v: ViewDef): { writes: KvWrite[]; apply: () => void } {
    return {
      writes: [{ store: 'system', key: viewKey(v.namespace, v.name), value: v }],
      apply: () => {
        this.views.set(qualified(v.namespace, v.name), v);
        this.viewChanges++;
      },
    };
  }

  dropViewWrites(v: ViewDef): { writes: KvWrite[]; apply: () => void } {
    return {
      writes: [{ store: 'system', key: viewKey(v.namespace, v.name) }],
      apply: () => {
        this.views.delete(qualified(v.namespace, v.name));
        this.viewChanges++;
      },
    };
  }

  /** Every recorded schema version, by table then version (system.schemas). */
  listSchemaVersions(): SchemaVersion[] {
    const out: SchemaVersion[] = [];
    for (const t of this.listTables()) {
      const versions = this.history.get(t.id) ?? [];
      out.push(...versions);
      // Tables created before versions were recorded still show their current definition.
      if (versions[versions.length - 1]?.version !== t.version) out.push({ tableId: t.id, version: t.version, def: t });
    }
    return out;
  }

  /** Schema versions held across all tables (system.stats). */
  get schemaVersionCount(): number {
    return this.versionCount;
  }

  /**
   * Adds a version to the in-memory history, keeping versions sorted and at
   * most maxSchemaVersions; returns the versions it dropped.
   */
  private recordVersion(sv: SchemaVersion): SchemaVersion[] {
    let list = this.history.get(sv.tableId);
    if (!list) this.history.set(sv.tableId, (list = []));
    if (list.some((v) => v.version === sv.version)) return [];
    let at = list.length;
    while (at > 0 && list[at - 1].version > sv.version) at--;
    list.splice(at, 0, sv);
    this.versionCount++;
    const dropped: SchemaVersion[] = [];
    while (list.length > this.maxSchemaVersions) {
      dropped.push(list.shift()!);
      this.versionCount--;
    }
    return dropped;
  }

  private historyDeletes(tableId: number): KvWrite[] {
    const versions = [...(this.history.get(tableId) ?? []).map((v) => v.version), ...(this.staleVersions.get(tableId) ?? [])];
    return versions.map((v) => ({ store: 'system' as const, key: schemaKey(tableId, v) }));
  }

  private removeTable(t: TableDef): void {
    this.tableChanges++;
    this.tables.delete(qualified(t.namespace, t.name));
    this.byId.delete(t.id);
    this.versionCount -= this.history.get(t.id)?.length ?? 0;
    this.history.delete(t.id);
    this.staleVersions.delete(t.id);
  }
}
