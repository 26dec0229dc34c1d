/**
 * Name resolution: which slot of a row tuple a column reference reads.
 * A scope inside a subquery has an `outer` scope (the enclosing query's);
 * a name not found here is looked up there, which makes the subquery
 * correlated: its evaluators then read the enclosing rows from
 * `ExecContext.outer`.
 */
import { KalamError } from '../core/errors';
import type { SelectStmt } from '../sql/ast';
import type { ColumnInfo, DataType } from '../core/types';
import type { ExecContext, Tuple } from '../exec/context';

export interface ScopeColumn {
  /** The relation's alias (or table name) this column belongs to. */
  relation: string;
  name: string;
  type: DataType | 'UNKNOWN';
  /** System columns (_seq, _deleted) are not expanded by `*`. */
  hidden: boolean;
  /** Merged by JOIN … USING into the other side's column of that name: `*` and unqualified names skip it (join-using.ts). */
  merged?: boolean;
  /** Kept by JOIN … USING: `*` lists it first, a higher number first (join-using.ts). */
  using?: number;
  /** Kept by FULL JOIN … USING: read unqualified, it is COALESCE(this, the same name of relation `coalesce`). */
  coalesce?: string;
}

/** A planned query nested in an expression (scalar subquery, EXISTS, IN). */
export interface NestedQuery {
  columns: readonly ColumnInfo[];
  /** Reads a row of an enclosing query: it must run again for each outer row. */
  correlated: boolean;
  /** Rows for one run; `ctx.outer` ends with the row of the scope it was planned in. */
  rows(ctx: ExecContext): Iterable<Tuple>;
}

/** The query a scope belongs to, as expressions compiled in it need it. */
export interface QueryEnv {
  /** The query this one is nested in (through an expression, FROM or WITH); undefined at the top. */
  readonly enclosing?: QueryEnv;
  /** Set when an expression of this query, or of a query nested in it, reads an enclosing query's row. */
  correlated: boolean;
  /** Plans `stmt` as a subquery of an expression compiled against `scope`. */
  planNested(stmt: SelectStmt, scope: Scope): NestedQuery;
}

export interface Resolved {
  /** 0: this scope; n: the n-th enclosing query's scope (read from `ctx.outer[length - n]`). */
  depth: number;
  slot: number;
  /** The scope the name was found in. */
  scope: Scope;
}

export class Scope {
  constructor(
    readonly columns: readonly ScopeColumn[],
    /** The enclosing query's scope, for correlated references. */
    readonly outer?: Scope,
    /** The query this scope belongs to; without one, subqueries cannot be compiled here. */
    readonly env?: QueryEnv,
  ) {}

  get width(): number {
    return this.columns.length;
  }

  relations(): string[] {
    return [...new Set(this.columns.map((c) => c.relation))];
  }

  /** Resolves a name among this scope's own columns. */
  resolve(relation: string | undefined, name: string): number {
    let found = -1;
    for (let i = 0; i < this.columns.length; i++) {
      const c = this.columns[i];
      if (c.name !== name || (relation !== undefined ? c.relation !== relation : c.merged)) continue;
      if (found >= 0) {
        throw new KalamError('AMBIGUOUS_COLUMN', `Column reference '${name}' is ambiguous: qualify it with a table name or alias`);
      }
      found = i;
    }
    if (found < 0) {
      if (relation !== undefined && !this.columns.some((c) => c.relation === relation)) {
        throw new KalamError('TABLE_NOT_FOUND', `Table or alias '${relation}' is not in the FROM clause`);
      }
      const label = relation ? `${relation}.${name}` : name;
      throw new KalamError('COLUMN_NOT_FOUND', `Column '${label}' does not exist. Check the name with DESCRIBE TABLE`);
    }
    return found;
  }

  /**
   * Resolves here, then in each enclosing query's scope, innermost first (as
   * Postgres does). `t.x` stops at the first scope that has relation `t`.
   * When nothing matches, the innermost error is thrown.
   */
  resolveOuter(relation: string | undefined, name: string): Resolved {
    let first: unknown;
    let depth = 0;
    for (let s: Scope | undefined = this; s; s = s.outer, depth++) {
      try {
        return { depth, slot: s.resolve(relation, name), scope: s };
      } catch (e) {
        if (!(e instanceof KalamError) || e.code === 'AMBIGUOUS_COLUMN') throw e;
        if (e.code === 'COLUMN_NOT_FOUND' && relation !== undefined) throw first ?? e;
        first ??= e;
      }
    }
    throw first;
  }

  concat(other: Scope): Scope {
    return new Scope([...this.columns, ...other.columns], this.outer, this.env);
  }

  /** A scope of the same query (same outer scope and env) over other columns. */
  withColumns(columns: readonly ScopeColumn[]): Scope {
    return new Scope(columns, this.outer, this.env);
  }
}
