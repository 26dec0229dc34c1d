/**
 * INSERT, UPDATE and DELETE planning. A write plan computes its row changes
 * against the current state without touching it; the database commits them
 * in one storage transaction and only then applies them, so a failing
 * statement changes nothing.
 */
import { deletedSlot, partitionOf, seqSlot, type ColumnDef, type RowChange, type TableDef } from '../core/schema';

import { KalamError } from '../core/errors';
import { ulid, uuidV7 } from '../core/ids';
import type { DeleteStmt, Expr, InsertStmt, UpdateStmt } from '../sql/ast';
import type { StoredRow } from '../core/schema';
import type { Value } from '../core/types';
import { coerce, describeValue, hashKey } from '../core/values';
import { compileExpr } from './compile';
import type { Evaluator, ExecContext, Tuple } from '../exec/context';
import { collect } from '../exec/pace';
import { mentionsColumn, planSourceScan } from './block';
import { planSelect, statementScope, type StatementScope } from './select';
import type { RelationSource, SourceResolver } from './source';

export interface WriteOutcome {
  changes: RowChange[];
  count: number;
  message: string;
}

export interface WritePlan {
  kind: 'write';
  /** The table written (access checks); `tableIds` also lists tables read. */
  target: TableDef;
  tableIds: number[];
  run(ctx: ExecContext): WriteOutcome;
}


function tableSource(resolver: SourceResolver, ns: string | undefined, name: string, defaultNamespace: string, verb: string): RelationSource & { table: TableDef } {
  const src = resolver.resolve(ns, name, defaultNamespace);
  if (!src.table) throw new KalamError('PERMISSION_DENIED', `Cannot ${verb} system table '${src.name}'`);
  return src as RelationSource & { table: TableDef };
}

/** The table an INSERT of given rows writes (session.insertMany): PERMISSION_DENIED for a system table. */
export function insertTarget(resolver: SourceResolver, ns: string | undefined, name: string, defaultNamespace: string): RelationSource & { table: TableDef } {
  return tableSource(resolver, ns, name, defaultNamespace, 'insert into');
}

const q = (t: TableDef) => `${t.namespace}.${t.name}`;

/** NOT NULL columns hold a value; with `given` (an INSERT), a column the INSERT left out is told apart from an explicit NULL. */
function checkNotNull(t: TableDef, row: Value[], given?: readonly boolean[]): void {
  for (let i = 0; i < t.columns.length; i++) {
    const c = t.columns[i];
    if (!c.notNull || row[i] !== null) continue;
    if (given !== undefined && !given[i]) {
      throw new KalamError(
        'NOT_NULL_VIOLATION',
        `NOT NULL violation: column '${c.name}' of table '${q(t)}' is missing from the INSERT and has no DEFAULT. List it with a value, or give it a DEFAULT (ALTER TABLE ${q(t)} ALTER COLUMN ${c.name} SET DEFAULT …)`,
      );
    }
    throw new KalamError('NOT_NULL_VIOLATION', `NOT NULL violation: column '${c.name}' of table '${q(t)}' cannot be NULL. Give it a value`);
  }
}

/** A key as KalamDB's primary key messages quote it. */
const keyText = (pk: Value) => (typeof pk === 'object' && pk !== null ? describeValue(pk) : String(pk));

function defaultValue(t: TableDef, i: number, ctx: ExecContext): Value {
  const d = t.columns[i].default;
  if (!d) return null;
  if (d.kind === 'literal') return d.value;
  switch (d.name) {
    case 'NOW': return ctx.now;
    case 'SNOWFLAKE_ID': return ctx.snowflakeId();
    case 'UUID_V7': return uuidV7(ctx.now);
    case 'ULID': return ulid(ctx.now);
    case 'CURRENT_USER': return ctx.user;
  }
}

const TIME_TYPES = new Set(['TIMESTAMP', 'DATETIME', 'DATE']);

/**
 * A bare `$n` written into a column: a Date parameter is a TIMESTAMP value
 * (expressions read it as its ms since the epoch), so only a TIMESTAMP,
 * DATETIME or DATE column takes one — as PostgreSQL refuses a timestamp for
 * an integer, text or json column.
 */
function valueInto(e: Expr, ev: Evaluator, column: ColumnDef): Evaluator {
  if (e.kind !== 'param' || TIME_TYPES.has(column.type)) return ev;
  const n = e.index;
  return (r, ctx) => {
    if (ctx.params[n] instanceof Date) {
      throw new KalamError(
        'TYPE_MISMATCH',
        `Parameter $${n + 1} is a Date, which only a TIMESTAMP, DATETIME or DATE column holds: column '${column.name}' is ${column.type} (pass ${column.type === 'TEXT' || column.type === 'JSON' ? 'date.toISOString()' : 'date.getTime()'} to store it there)`,
      );
    }
    return ev(r, ctx);
  };
}

export function planInsert(stmt: InsertStmt, resolver: SourceResolver, defaultNamespace: string): WritePlan {
  const src = tableSource(resolver, stmt.table.namespace, stmt.table.name, defaultNamespace, 'insert into');
  const t = src.table;
  const colIndex = (stmt.columns ?? t.columns.map((c) => c.name)).map((name) => {
    const i = t.columns.findIndex((c) => c.name === name);
    if (i < 0) {
      if (name === '_seq' || name === '_deleted') throw new KalamError('INVALID_SQL', `System column '${name}' is set by the database and cannot be written`);
      throw new KalamError('COLUMN_NOT_FOUND', `Column '${name}' does not exist in table '${q(t)}'`);
    }
    return i;
  });
  if (new Set(colIndex).size !== colIndex.length) throw new KalamError('DUPLICATE_COLUMN', 'A column is listed more than once in INSERT');
  const values = statementScope(resolver, defaultNamespace, []); // subqueries in VALUES
  const empty = values.scope;
  // INSERT … SELECT: the query reads the state before this statement (nothing is applied until commit).
  const select = stmt.select ? planSelect(stmt.select, resolver, defaultNamespace) : undefined;
  if (select && select.columns.length !== colIndex.length) {
    const more = select.columns.length > colIndex.length ? 'more expressions than target columns' : 'more target columns than expressions';
    throw new KalamError('INVALID_SQL', `INSERT has ${more}: the SELECT returns ${select.columns.length} column(s) for ${colIndex.length}`);
  }
  // undefined stands for DEFAULT: the column's default, as if the column were not listed
  const rows: (Evaluator | undefined)[][] = stmt.rows.map((r, n) => {
    if (r.length !== colIndex.length) {
      throw new KalamError('INVALID_SQL', `INSERT row ${n + 1} has ${r.length} value(s) for ${colIndex.length} column(s)`);
    }
    return r.map((e, k) => (e.kind === 'default' ? undefined : valueInto(e, compileExpr(e, empty), t.columns[colIndex[k]])));
  });
  return {
    kind: 'write',
    target: t,
    tableIds: [...new Set([t.id, ...(select?.tableIds ?? []), ...values.tableIds])],
    run(ctx) {
      values.authorize(ctx);
      // Each input row: a value per listed column, or undefined for DEFAULT.
      const inputs: Iterable<readonly (Value | undefined)[]> = select
        ? select.run(ctx)
        : (function* () { for (const evals of rows) yield evals.map((ev) => (ev ? ev([], ctx) : undefined)); })();
      return insertChanges(src, colIndex, inputs, ctx);
    },
  };
}

/**
 * An INSERT of rows given as values (session.insertMany's chunks): the same
 * checks and row building as INSERT … VALUES with parameters. `rows[k][i]`
 * is the value of the table's column i, undefined for its default. A
 * failing row's error names its number, counting from `firstRow`.
 */
export function planInsertValues(src: RelationSource & { table: TableDef }, rows: readonly (readonly (Value | undefined)[])[], firstRow: number): WritePlan {
  const t = src.table;
  const colIndex = t.columns.map((_, i) => i);
  return {
    kind: 'write',
    target: t,
    tableIds: [t.id],
    run: (ctx) => insertChanges(src, colIndex, rows, ctx, firstRow),
  };
}

/**
 * The rows an INSERT adds: `inputs` hold a value per column of `colIndex`
 * (undefined: its default). With `firstRow`, an error names the row
 * (`Row 12: …`, counting from it).
 */
function insertChanges(
  src: RelationSource & { table: TableDef },
  colIndex: readonly number[],
  inputs: Iterable<readonly (Value | undefined)[]>,
  ctx: ExecContext,
  firstRow?: number,
): WriteOutcome {
  const t = src.table;
  const width = t.columns.length + 2;
  const user = partitionOf(t, ctx.user);
  const changes: RowChange[] = [];
  const seen = new Set<string>();
  for (const values of inputs) {
    try {
      const row = new Array<Value>(width);
      const given = new Array<boolean>(t.columns.length).fill(false);
      for (let k = 0; k < values.length; k++) {
        const i = colIndex[k];
        const v = values[k];
        if (v === undefined) continue;
        row[i] = coerce(v, t.columns[i].type, t.columns[i].name, ctx.limits?.maxJsonDepth, t.columns[i].precision, t.columns[i].scale);
        given[i] = true;
      }
      for (let i = 0; i < t.columns.length; i++) {
        if (!given[i]) row[i] = coerce(defaultValue(t, i, ctx), t.columns[i].type, t.columns[i].name, ctx.limits?.maxJsonDepth, t.columns[i].precision, t.columns[i].scale);
      }
      checkNotNull(t, row, given);
      const seq = ctx.nextSeq();
      row[width - 2] = seq;
      row[width - 1] = false;
      const pk = t.pk >= 0 ? row[t.pk] : seq;
      const pkHash = hashKey(pk);
      // KalamDB's wordings: a key repeated within this INSERT, and one the table already holds.
      if (t.pk >= 0 && seen.has(pkHash)) {
        throw new KalamError(
          'PRIMARY_KEY_VIOLATION',
          `Primary key violation: value '${keyText(pk)}' appears multiple times in the insert batch for column '${t.columns[t.pk].name}' (table '${q(t)}'). Give each row its own key`,
        );
      }
      if (t.pk >= 0 && src.lookup?.(ctx, pk, { includeDeleted: false })) {
        throw new KalamError(
          'PRIMARY_KEY_VIOLATION',
          `Primary key violation: value '${keyText(pk)}' already exists in column '${t.columns[t.pk].name}' (table '${q(t)}'). Change that row with UPDATE, or insert another key`,
        );
      }
      seen.add(pkHash);
      changes.push({ table: t, user, pkHash, pk, row: Object.freeze(row) });
    } catch (e) {
      if (firstRow === undefined || !(e instanceof KalamError)) throw e;
      throw new KalamError(e.code, `Row ${firstRow + changes.length}: ${e.message}`);
    }
  }
  return { changes, count: changes.length, message: `Inserted ${changes.length} row(s)` };
}

/** The target's scope; subqueries in SET and WHERE plan as in a SELECT. */
function targetScope(src: RelationSource, relation: string, resolver: SourceResolver, defaultNamespace: string): StatementScope {
  return statementScope(resolver, defaultNamespace, src.columns.map((c) => ({ relation, name: c.name, type: c.type, hidden: c.hidden })));
}

export function planUpdate(stmt: UpdateStmt, resolver: SourceResolver, defaultNamespace: string): WritePlan {
  const src = tableSource(resolver, stmt.table.namespace, stmt.table.name, defaultNamespace, 'update');
  const t = src.table;
  if (t.type === 'STREAM') throw new KalamError('UNSUPPORTED', 'UPDATE not supported for STREAM tables');
  if (!stmt.where) throw new KalamError('INVALID_SQL', 'UPDATE requires a WHERE clause');
  const statement = targetScope(src, stmt.alias ?? t.name, resolver, defaultNamespace);
  const scope = statement.scope;
  const sets = stmt.set.map((s) => {
    const i = t.columns.findIndex((c) => c.name === s.column);
    if (i < 0) {
      if (s.column === '_seq' || s.column === '_deleted') throw new KalamError('INVALID_SQL', `System column '${s.column}' is set by the database and cannot be written`);
      throw new KalamError('COLUMN_NOT_FOUND', `Column '${s.column}' does not exist in table '${q(t)}'`);
    }
    if (i === t.pk) throw new KalamError('INVALID_SQL', `UPDATE cannot modify primary key column '${t.columns[i].name}'`);
    const ev: Evaluator = s.value.kind === 'default' ? (_row, ctx) => defaultValue(t, i, ctx) : valueInto(s.value, compileExpr(s.value, scope), t.columns[i]);
    return { i, eval: ev };
  });
  const assigned = new Set<number>();
  for (const s of sets) {
    if (assigned.has(s.i)) throw new KalamError('DUPLICATE_COLUMN', `Multiple assignments to the same column '${t.columns[s.i].name}'`);
    assigned.add(s.i);
  }
  const scan = planSourceScan(src, scope, stmt.where, { includeDeleted: false });
  return {
    kind: 'write',
    target: t,
    tableIds: [...new Set([t.id, ...statement.tableIds])],
    run(ctx) {
      statement.authorize(ctx);
      const user = partitionOf(t, ctx.user);
      const changes: RowChange[] = [];
      for (const before of collect(scan(ctx))) {
        const row = (before as Value[]).slice();
        for (const s of sets) row[s.i] = coerce(s.eval(before, ctx), t.columns[s.i].type, t.columns[s.i].name, ctx.limits?.maxJsonDepth, t.columns[s.i].precision, t.columns[s.i].scale);
        checkNotNull(t, row);
        row[seqSlot(t)] = ctx.nextSeq();
        const pk = row[t.pk];
        changes.push({ table: t, user, pkHash: hashKey(pk), pk, row: Object.freeze(row), before: before as StoredRow });
      }
      return { changes, count: changes.length, message: `Updated ${changes.length} row(s)` };
    },
  };
}

export function planDelete(stmt: DeleteStmt, resolver: SourceResolver, defaultNamespace: string): WritePlan {
  const src = tableSource(resolver, stmt.table.namespace, stmt.table.name, defaultNamespace, 'delete from');
  const t = src.table;
  if (!stmt.where) throw new KalamError('INVALID_SQL', 'DELETE requires a WHERE clause');
  const statement = targetScope(src, stmt.alias ?? t.name, resolver, defaultNamespace);
  const scope = statement.scope;
  const scan = planSourceScan(src, scope, stmt.where, { includeDeleted: mentionsColumn(stmt.where, '_deleted') });
  return {
    kind: 'write',
    target: t,
    tableIds: [...new Set([t.id, ...statement.tableIds])],
    run(ctx) {
      statement.authorize(ctx);
      const user = partitionOf(t, ctx.user);
      const changes: RowChange[] = [];
      for (const before of collect(scan(ctx))) {
        if (before[deletedSlot(t)] === true) continue; // already a tombstone
        const pk = t.pk >= 0 ? before[t.pk] : before[seqSlot(t)];
        if (t.type === 'STREAM') {
          changes.push({ table: t, user, pkHash: hashKey(pk), pk, row: null, before: before as StoredRow });
          continue;
        }
        const row = (before as Value[]).slice();
        row[seqSlot(t)] = ctx.nextSeq();
        row[deletedSlot(t)] = true;
        changes.push({ table: t, user, pkHash: hashKey(pk), pk, row: Object.freeze(row), before: before as StoredRow });
      }
      return { changes, count: changes.length, message: `Deleted ${changes.length} row(s)` };
    },
  };
}
