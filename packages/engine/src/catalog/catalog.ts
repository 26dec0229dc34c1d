/**
 * The one catalog every session shares: namespaces and table definitions,
 * persisted in the `system` object store. DDL computes its storage writes
 * first, commits them, then applies them here, so a failed commit leaves
 * the in-memory catalog untouched.
 */
import { KalamError } from '../errors';
import type { DefaultSpec } from '../sql/ast';
import { encodeKey, prefixUpperBound } from '../storage/keys';
import type { KvStore, KvWrite } from '../storage/kv';
import type { DataType, TableType } from '../types';

export interface ColumnDef {
  /** Stable id: survives renames (schema evolution keys data by it later). */
  id: number;
  name: string;
  type: DataType;
  notNull: boolean;
  primaryKey: boolean;
  default?: DefaultSpec;
  precision?: number;
  scale?: number;
}

export type AccessLevel = 'public' | 'private' | 'restricted' | 'dba';

export interface TableDef {
  id: number;
  namespace: string;
  name: string;
  type: Exclude<TableType, 'SYSTEM'>;
  /** User columns in declaration order; rows store values in this order, then _seq, _deleted. */
  columns: ColumnDef[];
  /** Index of the primary-key column in `columns`, or -1 (STREAM tables may have none). */
  pk: number;
  options: Record<string, string>;
  accessLevel?: AccessLevel;
  ttlSeconds?: number;
  version: number;
  createdAt: number;
}

export interface NamespaceDef {
  name: string;
  createdAt: number;
}

export const DEFAULT_NAMESPACE = 'default';

export const qualified = (ns: string, name: string) => `${ns}.${name}`;

const nsKey = (name: string) => encodeKey(['namespace', name]);
const tableKey = (id: number) => encodeKey(['table', id]);
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

  constructor() {
    // `default` always exists: unqualified names resolve there.
    this.namespaces.set(DEFAULT_NAMESPACE, { name: DEFAULT_NAMESPACE, createdAt: 0 });
  }

  static async load(kv: KvStore): Promise<Catalog> {
    const c = new Catalog();
    await kv.scan('system', prefixRange('namespace'), (_k, v) => {
      const ns = v as NamespaceDef;
      c.namespaces.set(ns.name, ns);
    });
    await kv.scan('system', prefixRange('table'), (_k, v) => {
      c.addTable(v as TableDef);
    });
    return c;
  }

  private addTable(t: TableDef): void {
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
    const writes: KvWrite[] = [{ store: 'system', key: nsKey(name) }];
    for (const t of tables) writes.push({ store: 'system', key: tableKey(t.id) });
    return {
      writes,
      tables,
      apply: () => {
        this.namespaces.delete(name);
        for (const t of tables) this.removeTable(t);
      },
    };
  }

  createTableWrites(t: TableDef): { writes: KvWrite[]; apply: () => void } {
    return { writes: [{ store: 'system', key: tableKey(t.id), value: t }], apply: () => this.addTable(t) };
  }

  dropTableWrites(t: TableDef): { writes: KvWrite[]; apply: () => void } {
    return { writes: [{ store: 'system', key: tableKey(t.id) }], apply: () => this.removeTable(t) };
  }

  private removeTable(t: TableDef): void {
    this.tables.delete(qualified(t.namespace, t.name));
    this.byId.delete(t.id);
  }
}
