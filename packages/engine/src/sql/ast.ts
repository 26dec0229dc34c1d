/**
 * kalamlite's own typed AST. node-sql-parser's output and our DDL parser
 * both convert into these shapes; nothing below the sql layer sees a
 * node-sql-parser object.
 */
import type { DataType, TableType, Value } from '../core/types';

export type BinaryOp =
  | '=' | '<>' | '<' | '<=' | '>' | '>='
  | 'AND' | 'OR'
  | '+' | '-' | '*' | '/' | '%'
  | '||'
  /** JSON operators (plan/json-ops.ts). */
  | '->' | '->>' | '#>' | '#>>' | '?' | '?|' | '?&' | '@>' | '<@';

export type Expr =
  /** `type`: DECIMAL on a number literal written with a point or an exponent (its value may be integral: 7.0). */
  | { kind: 'literal'; value: Value; type?: DataType }
  /** 0-based index into the statement's parameter vector (user params, then lifted literals). */
  /** `type`: set on a lifted number literal's parameter, its literal's type (INT, BIGINT or DECIMAL). */
  | { kind: 'param'; index: number; type?: DataType }
  | { kind: 'column'; table?: string; name: string }
  | { kind: 'star'; table?: string }
  | { kind: 'unary'; op: 'NOT' | '-' | '+'; arg: Expr }
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr }
  /** `escape` is the ESCAPE character when given (backslash otherwise; '' turns escaping off). */
  | { kind: 'like'; arg: Expr; pattern: Expr; negated: boolean; caseInsensitive: boolean; escape?: Expr }
  | { kind: 'in'; arg: Expr; list: Expr[]; negated: boolean }
  | { kind: 'between'; arg: Expr; low: Expr; high: Expr; negated: boolean }
  | { kind: 'isNull'; arg: Expr; negated: boolean }
  | { kind: 'case'; operand?: Expr; whens: { when: Expr; then: Expr }[]; else?: Expr }
  /** Scalar or aggregate call; `name` is upper-case. COUNT(*) has `star`; an aggregate may have FILTER (WHERE `filter`). */
  /** `orderBy`: an aggregate's own ORDER BY (`string_agg(x, ',' ORDER BY y)`). */
  | { kind: 'call'; name: string; args: Expr[]; distinct: boolean; star: boolean; filter?: Expr; orderBy?: OrderItem[] }
  /** `precision`/`scale`: a cast to NUMERIC(p, s), whose value is fitted to them. */
  | { kind: 'cast'; arg: Expr; type: DataType; precision?: number; scale?: number }
  /** The DEFAULT keyword as a value: only in INSERT … VALUES and UPDATE … SET. */
  | { kind: 'default' }
  /** `(SELECT …)` as a value: one column; no row is NULL, more than one is an error. */
  | { kind: 'subquery'; query: SelectStmt }
  /** `EXISTS (SELECT …)`; NOT EXISTS is NOT over it (never NULL either way). */
  | { kind: 'exists'; query: SelectStmt }
  /** `arg [NOT] IN (SELECT …)`, with IN's NULL semantics. */
  | { kind: 'inSubquery'; arg: Expr; query: SelectStmt; negated: boolean }
  /** `name(args) OVER (…)`: a window function (ROW_NUMBER, LAG, …) or an aggregate over a window; `name` is upper-case. */
  | { kind: 'window'; name: string; args: Expr[]; star: boolean; over: WindowSpec };

/** `OVER (PARTITION BY … ORDER BY … frame)`, a named window already put in place. */
export interface WindowSpec {
  partitionBy: Expr[];
  orderBy: OrderItem[];
  /** Absent: PostgreSQL's default, RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW. */
  frame?: WindowFrame;
}

/** `ROWS|RANGE|GROUPS BETWEEN start AND end` (a lone start ends at CURRENT ROW). */
export interface WindowFrame {
  unit: 'ROWS' | 'RANGE' | 'GROUPS';
  start: FrameBound;
  end: FrameBound;
}

/** One end of a frame; `offset` is a constant (literal or parameter). */
export type FrameBound =
  | { kind: 'unboundedPreceding' }
  | { kind: 'preceding'; offset: Expr }
  | { kind: 'currentRow' }
  | { kind: 'following'; offset: Expr }
  | { kind: 'unboundedFollowing' };

export interface TableName {
  namespace?: string;
  name: string;
}

export interface SelectItem {
  expr: Expr;
  alias?: string;
}

export interface FromTable {
  /** For a derived table, `{ name: alias }`. */
  table: TableName;
  /** Set for a derived table `(SELECT …) AS alias [(columns)]`. */
  subquery?: SelectStmt;
  /** `AS alias (a, b)`: renames the relation's columns in order. */
  columnAliases?: string[];
  alias?: string;
  /** How this item joins the ones before it; the first item has 'first'. */
  join: 'first' | 'inner' | 'left' | 'right' | 'full' | 'cross';
  /** `JOIN … USING (columns)`: plan/join-using.ts turns it into `on`. */
  using?: string[];
  /**
   * Set when this derived table is a view's query put in place of the view's
   * name (plan/view-expand.ts): the view's qualified name. Its query is
   * planned on its own — no enclosing query's columns or WITH names reach it.
   */
  view?: string;
  on?: Expr;
}

export interface OrderItem {
  expr: Expr;
  descending: boolean;
  /** Postgres default: NULLS LAST for ASC, NULLS FIRST for DESC. */
  nullsFirst: boolean;
}

/** One `name [(columns)] AS (query)` of a WITH clause. */
export interface CommonTableExpr {
  name: string;
  columns?: string[];
  query: SelectStmt;
}

export type SetOperator = 'UNION' | 'INTERSECT' | 'EXCEPT';

/**
 * A query. With `setOp` set it is `left op right` and only `with`, `orderBy`,
 * `limit` and `offset` are read besides it (they apply to the combined rows);
 * the select-list, FROM, WHERE, GROUP BY, HAVING and DISTINCT fields are empty.
 */
export interface SelectStmt {
  kind: 'select';
  with?: CommonTableExpr[];
  setOp?: { op: SetOperator; all: boolean; left: SelectStmt; right: SelectStmt };
  distinct: boolean;
  /** `DISTINCT ON (exprs)`: the first row (in ORDER BY's order) of each distinct value of these. */
  distinctOn?: Expr[];
  items: SelectItem[];
  from: FromTable[];
  where?: Expr;
  groupBy: Expr[];
  having?: Expr;
  orderBy: OrderItem[];
  limit?: Expr;
  offset?: Expr;
}

export interface InsertStmt {
  kind: 'insert';
  table: TableName;
  columns?: string[];
  /** VALUES rows; empty when `select` is set. */
  rows: Expr[][];
  /** INSERT … SELECT. */
  select?: SelectStmt;
}

export interface UpdateStmt {
  kind: 'update';
  table: TableName;
  alias?: string;
  set: { column: string; value: Expr }[];
  where?: Expr;
}

export interface DeleteStmt {
  kind: 'delete';
  table: TableName;
  alias?: string;
  where?: Expr;
}

export type { DefaultSpec } from '../core/schema';
import type { DefaultSpec } from '../core/schema';

export interface ColumnSpec {
  name: string;
  type: DataType;
  /** DECIMAL(p,s) */
  precision?: number;
  scale?: number;
  notNull: boolean;
  primaryKey: boolean;
  default?: DefaultSpec;
}

export interface CreateTableStmt {
  kind: 'createTable';
  table: TableName;
  ifNotExists: boolean;
  /** The type named by the prefix (CREATE USER TABLE), if any. */
  prefixType?: Exclude<TableType, 'SYSTEM'>;
  columns: ColumnSpec[];
  /** WITH (...) options, keys upper-cased, values as written (unquoted). */
  options: Record<string, string>;
  /** `CREATE TABLE t [WITH (…)] AS <query>`: where the query starts in the statement's text (columns then come from it). */
  asQueryOffset?: number;
}

/** One ALTER TABLE operation (KalamDB allows one per statement). Column names are lower-cased. */
export type AlterOp =
  /** `written`: the column name as the statement spells it (error messages quote it). */
  | { kind: 'addColumn'; column: ColumnSpec; ifNotExists: boolean; written: string }
  | { kind: 'dropColumn'; column: string; ifExists: boolean }
  | { kind: 'renameColumn'; from: string; to: string }
  /** MODIFY COLUMN / ALTER COLUMN … TYPE: `notNull` undefined keeps the column's nullability. */
  | { kind: 'modifyColumn'; column: string; type: ColumnSpec['type']; precision?: number; scale?: number; notNull?: boolean }
  | { kind: 'setNotNull'; column: string; notNull: boolean }
  | { kind: 'setDefault'; column: string; default: DefaultSpec | null }
  /** SET ACCESS LEVEL x / SET TBLPROPERTIES (ACCESS_LEVEL = 'x'): the level as written. */
  | { kind: 'setAccessLevel'; level: string };

export interface AlterTableStmt {
  kind: 'alterTable';
  table: TableName;
  op: AlterOp;
}

export type Statement =
  | SelectStmt
  | InsertStmt
  | UpdateStmt
  | DeleteStmt
  | { kind: 'createNamespace'; name: string; ifNotExists: boolean }
  | { kind: 'dropNamespace'; name: string; ifExists: boolean }
  | CreateTableStmt
  | { kind: 'dropTable'; table: TableName; ifExists: boolean }
  | { kind: 'showNamespaces' }
  | { kind: 'showTables'; namespace?: string }
  | { kind: 'describeTable'; table: TableName }
  | { kind: 'use'; namespace: string }
  /** `EXPLAIN [ANALYZE] <select>`: `text` is the statement explained, as written. */
  | { kind: 'explain'; analyze: boolean; text: string }
  | { kind: 'showStats'; table: TableName }
  | { kind: 'createUser'; user: string; role: string; email?: string; ifNotExists: boolean }
  | { kind: 'alterUser'; user: string; role?: string; email?: string }
  | { kind: 'dropUser'; user: string; ifExists: boolean }
  /** EXECUTE AS USER '<id>' (<one statement>): `sql` is the inner text, `offset` where it starts. */
  | { kind: 'executeAs'; user: string; sql: string; offset: number }
  /** BEGIN [TRANSACTION|WORK] / START TRANSACTION, COMMIT [WORK], ROLLBACK [WORK] (reference §1.6). */
  | TransactionControlStmt
  | AlterTableStmt
  /** SUBSCRIBE TO …: `query` is the SELECT it subscribes to (sql/live.ts). */
  | SubscribeStmt
  | CreateViewStmt
  /** DROP VIEW [IF EXISTS] [ns.]name. */
  | { kind: 'dropView'; view: TableName; ifExists: boolean }
  | CreateIndexStmt
  /** ALTER TABLE t CREATE VECTOR INDEX col [USING COSINE|L2|DOT] / ALTER TABLE t DROP VECTOR INDEX col (execute/vector-index-ddl.ts). */
  | { kind: 'vectorIndex'; action: 'create' | 'drop'; table: TableName; column: string; metric?: 'cosine' | 'l2' | 'dot' }
  /** DROP INDEX [IF EXISTS] [ns.]name; ALTER TABLE t DROP INDEX col (`table` set: the index ALTER TABLE … CREATE INDEX col made). */
  | { kind: 'dropIndex'; index: TableName; ifExists: boolean; table?: TableName }
  /** KILL LIVE QUERY '<live_id>'. */
  | { kind: 'killLiveQuery'; liveId: string }
  /** KILL QUERY '<query_id>': cancels a running statement (system.queries). */
  | { kind: 'killQuery'; queryId: string }
  /** FLUSH TABLE, STORAGE FLUSH TABLE/ALL, STORAGE COMPACT TABLE/ALL, KILL JOB (sql/parse-storage.ts). */
  | StorageStatement
  /** CREATE/DROP/CLEAR/ALTER TOPIC, CONSUME, ACK: `text` is the statement, parsed by its executor (sql/parse-topic.ts). */
  | { kind: 'topic'; text: string };

/** CREATE [OR REPLACE] VIEW [IF NOT EXISTS] [ns.]name [(columns)] AS <query> (sql/parse-view.ts). */
export interface CreateViewStmt {
  kind: 'createView';
  view: TableName;
  orReplace: boolean;
  ifNotExists: boolean;
  /** `(a, b)`: names for the query's output columns, in order. */
  columns?: string[];
  /** The query's text as written after AS (a SELECT, WITH or parenthesized query). */
  query: string;
}

/** CREATE [UNIQUE] INDEX [IF NOT EXISTS] name ON [ns.]t (col [ASC|DESC], …), or ALTER TABLE t CREATE [UNIQUE] INDEX col (sql/parse-index.ts). */
export interface CreateIndexStmt {
  kind: 'createIndex';
  /** Absent for ALTER TABLE … CREATE INDEX col: named `<table>_<col>_idx`. */
  name?: string;
  table: TableName;
  columns: { name: string; desc: boolean }[];
  unique: boolean;
  ifNotExists: boolean;
}

export interface SubscribeStmt {
  kind: 'subscribe';
  query: string;
  options: { lastRows?: number; batchSize?: number; from?: bigint };
}


export interface TransactionControlStmt {
  kind: 'begin' | 'commit' | 'rollback';
}

/** Statements whose plan is cached by SQL text with literals lifted out. */
/** Storage and job statements (parse-storage.ts). */
export type StorageStatement =
  | { kind: 'flushTable'; table: TableName }
  | { kind: 'flushAll'; namespace?: string }
  | { kind: 'compactTable'; table: TableName }
  | { kind: 'compactAll'; namespace?: string }
  | { kind: 'killJob'; jobId: string };

export type DmlStatement = SelectStmt | InsertStmt | UpdateStmt | DeleteStmt;

export function isDml(s: Statement): s is DmlStatement {
  return s.kind === 'select' || s.kind === 'insert' || s.kind === 'update' || s.kind === 'delete';
}
