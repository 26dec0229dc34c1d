/**
 * Schema migrations: `db.migrate([{ version, sql }, …])` runs the versions
 * not applied yet, lowest first, each all or nothing, and records each in
 * `system.migrations` (system/migrations.ts). The engine runs one
 * `migrate()` at a time (Engine.migrate), so a second caller with the same
 * list waits and then finds them applied.
 *
 * DDL does not run inside transactions here, so a migration is made atomic
 * this way (the contract, also in the engine README):
 *
 *   - its statements are DDL (CREATE/DROP NAMESPACE, CREATE/DROP TABLE,
 *     ALTER TABLE, CREATE/DROP INDEX) followed by DML (INSERT, UPDATE, DELETE); DDL after DML,
 *     any other statement, and DDL that does not parse fail the migration
 *     before anything runs (DML is parsed once, as it runs);
 *   - each DDL statement commits on its own, and in the same storage commit
 *     the undo journal gains the step that takes it back (DROP of what it
 *     created, DROP COLUMN of what it added, the table's definition before a
 *     rename / NOT NULL / DEFAULT / access level change or a CREATE / DROP
 *     INDEX);
 *   - the DML runs in one transaction, committed together with the
 *     migration's record (and the journal's removal): one storage commit;
 *   - a statement that cannot be taken back (DROP TABLE, DROP NAMESPACE,
 *     ALTER … DROP COLUMN, ALTER … MODIFY COLUMN) may only be the last
 *     statement; it then commits together with the record;
 *   - on a failure the journal is run backwards, so the database is back at
 *     the previous version; a crash in between leaves the journal, which the
 *     next open (and the next migrate) runs.
 */
import { KalamError, toKalamError, type ErrorCode } from '../core/errors';
import type { SqlLimits } from '../sql/limits';
import type { AlterTableStmt, Statement } from '../sql/ast';
import { splitStatements, tokenize } from '../sql/lexer';
import { parseStatement } from '../sql/parse';
import type { StateChange, UnitOfWork } from '../storage/unit-of-work';
import { migrationChecksum, type MigrationLog, type MigrationRecord, type UndoAction, type UndoJournal } from '../system/migrations';
import type { AlterContext } from './alter';
import { commitTransaction, type BatchContext } from './batch';
import { executeDdl, type DdlContext, type DdlStatement } from './ddl';
import type { IndexDdlContext, IndexStatement } from './index-ddl';
import { ensureIndexSupport } from './index-loader';
import { loadAlter, loadIndexDdl } from './lazy-executors';
import { loadSqlExtensions } from './sql-extensions';
import { checkMigrations, type Migration } from './migration-list';
import type { SessionState } from './session-state';
import type { Transaction } from './transaction';
import type { StatementResult, Value } from '../core/types';

export type { Migration };

export interface MigrateResult {
  /** The highest version applied now (0: none). */
  version: number;
  /** The versions this call applied, ascending. */
  applied: number[];
}

export interface MigrateContext extends BatchContext, DdlContext, AlterContext, Omit<IndexDdlContext, 'jobs'> {
  readonly jobs: DdlContext['jobs'] & IndexDdlContext['jobs'];
  readonly migrations: MigrationLog;
  readonly options: { readonly maxMigrations: number };
  commit(unit: UnitOfWork): Promise<void>;
  execute(state: SessionState, sql: string, params: readonly Value[], tx?: Transaction): Promise<StatementResult[]>;
  beginTransaction(owner: string, origin: 'sql' | 'api'): Transaction;
}

/** Migrations run as the system role in the default namespace (qualify names to use another). */
const sessionOf = (): SessionState => ({ user: 'system', role: 'system', namespace: 'default' });

/**
 * Runs the migrations of `given` not applied yet, in version order; the
 * caller serializes calls (Engine.migrate). MIGRATION_MISMATCH when an
 * applied version's SQL differs, or a version below the highest applied
 * was never applied; MIGRATION_FAILED when one fails (it and later ones
 * are then not applied).
 */
export async function migrate(ctx: MigrateContext, given: unknown): Promise<MigrateResult> {
  const list = checkMigrations(given);
  ctx.assertOpen();
  await undoInterrupted(ctx);
  const log = ctx.migrations;
  const highest = log.version;
  const pending: { migration: Migration; checksum: string }[] = [];
  for (const m of list) {
    const checksum = migrationChecksum(m.sql);
    const applied = log.get(m.version);
    if (applied) {
      if (applied.checksum !== checksum) {
        throw new KalamError('MIGRATION_MISMATCH', `Migration ${m.version} was applied with different SQL (checksum ${applied.checksum}, this one ${checksum}). An applied migration must not change: restore its original SQL and put the change in a new migration with a higher version.`);
      }
    } else if (m.version < highest) {
      throw new KalamError('MIGRATION_MISMATCH', `Migration ${m.version} was never applied, but version ${highest} already is: a new migration needs a version above ${highest}.`);
    } else pending.push({ migration: m, checksum });
  }
  const max = ctx.options.maxMigrations;
  if (log.size + pending.length > max) {
    throw new KalamError('LIMIT_EXCEEDED', `Applying ${pending.length} more migration(s) would keep ${log.size + pending.length} in system.migrations, past the limit of ${max} (maxMigrations): raise maxMigrations in openDatabase() options.`);
  }
  const applied: number[] = [];
  for (const { migration, checksum } of pending) {
    await runMigration(ctx, migration, checksum);
    applied.push(migration.version);
  }
  return { version: log.version, applied };
}

/** Takes back the DDL of a migration a crash cut off (its journal), if any. */
export async function undoInterrupted(ctx: MigrateContext): Promise<void> {
  const journal = ctx.migrations.pendingUndo();
  if (!journal) return;
  try {
    await undo(ctx, journal);
  } catch (e) {
    const err = toKalamError(e);
    throw new KalamError('MIGRATION_FAILED', `Migration ${journal.version} was interrupted, and taking back its DDL failed: ${err.code}: ${err.message}. Fix the cause (storage space, a table changed by hand) and open the database again.`);
  }
}

type Kind = 'ddl' | 'final' | 'dml';

interface Step {
  text: string;
  /** Parsed for DDL; DML is parsed as it runs. */
  stmt: Statement | undefined;
  kind: Kind;
}

const quoted = (text: string) => {
  const oneLine = text.trim().replace(/\s+/g, ' ');
  return `\`${oneLine.length > 200 ? `${oneLine.slice(0, 200)}…` : oneLine}\``;
};

function classify(stmt: Statement): Kind | undefined {
  switch (stmt.kind) {
    case 'createNamespace': case 'createTable': return 'ddl';
    case 'dropNamespace': case 'dropTable': return 'final';
    case 'alterTable': return stmt.op.kind === 'dropColumn' || stmt.op.kind === 'modifyColumn' ? 'final' : 'ddl';
    case 'createIndex': case 'dropIndex': return 'ddl';
    case 'insert': case 'update': case 'delete': return 'dml';
    default: return undefined;
  }
}

/** Splits, parses and checks the shape of one migration before anything of it runs. */
function plan(m: Migration, limits: SqlLimits): Step[] {
  const failed = (where: string, cause: unknown) => {
    const err = toKalamError(cause);
    return migrationFailed(m.version, where, err.code, err.message, 'nothing of it ran');
  };
  let texts;
  try {
    texts = splitStatements(m.sql, limits);
  } catch (e) {
    throw failed('splitting its SQL into statements', e);
  }
  if (texts.length === 0) throw failed('reading its SQL', new KalamError('PARSE_ERROR', 'it holds no statement (only comments or semicolons)'));
  const steps: Step[] = [];
  for (let i = 0; i < texts.length; i++) {
    const text = texts[i].text;
    const where = `statement ${i + 1} of ${texts.length} (${quoted(text)})`;
    let stmt: Statement | undefined;
    let kind: Kind | undefined;
    try {
      const tokens = tokenize(text, limits);
      // DML is parsed once, as it runs (a large seed INSERT costs the SQL parser real time); the rest here.
      const first = tokens[0]?.type === 'word' ? tokens[0].text.toUpperCase() : '';
      if (first === 'INSERT' || first === 'UPDATE' || first === 'DELETE') kind = 'dml';
      else kind = classify((stmt = parseStatement(text, tokens, limits)));
    } catch (e) {
      throw failed(where, e);
    }
    if (!kind) throw failed(where, new KalamError('UNSUPPORTED', `${stmt?.kind ?? 'this'} statements cannot run in a migration: a migration holds CREATE/DROP NAMESPACE, CREATE/DROP TABLE, ALTER TABLE, CREATE/DROP INDEX, then INSERT, UPDATE, DELETE`));
    if (kind !== 'dml' && steps.some((s) => s.kind === 'dml')) {
      throw failed(where, new KalamError('UNSUPPORTED', 'DDL after INSERT/UPDATE/DELETE: a migration runs its DDL first, then its DML in one transaction. Put this statement in the next migration'));
    }
    if (kind === 'final' && i !== texts.length - 1) {
      throw failed(where, new KalamError('UNSUPPORTED', 'a DROP (table, namespace, column) or MODIFY COLUMN cannot be taken back, so it must be the last statement of its migration. Move the statements after it to the next migration'));
    }
    steps.push({ text, stmt, kind });
  }
  return steps;
}

function migrationFailed(version: number, where: string, code: ErrorCode | string, message: string, outcome: string): KalamError {
  return new KalamError('MIGRATION_FAILED', `Migration ${version} failed at ${where}: ${code}: ${message}. The migration was not applied (${outcome}).`);
}

async function runMigration(ctx: MigrateContext, m: Migration, checksum: string): Promise<void> {
  const previous = ctx.migrations.version;
  // What its statements need to be parsed (ALTER TABLE's and CREATE INDEX's parsers) and run (a DECIMAL default is read as the table is made).
  await loadSqlExtensions(m.sql, ctx.catalog);
  const steps = plan(m, ctx.planner.limits);
  const state = sessionOf();
  const journal: UndoJournal = { version: m.version, actions: [] };
  const record = (): MigrationRecord => ({ version: m.version, checksum, applied_at: Date.now(), statements: steps.length });
  const firstDml = steps.findIndex((s) => s.kind === 'dml');
  const ddlCount = firstDml < 0 ? steps.length : firstDml;
  // ALTER TABLE's executor (loaded on first use) is loaded before anything runs: one that cannot be (VERSION_MISMATCH) writes nothing.
  if (steps.some((s) => s.stmt?.kind === 'alterTable')) await loadAlter();
  let at = 0;
  try {
    let recorded = false;
    for (; at < ddlCount; at++) {
      const last = at === steps.length - 1;
      recorded = await runDdl(ctx, state, steps[at].stmt as DdlStatement, journal, last ? record : undefined);
    }
    if (ddlCount < steps.length) {
      const tx = ctx.beginTransaction(state.user, 'api');
      for (; at < steps.length; at++) await ctx.execute(state, steps[at].text, [], tx);
      at = -1; // the commit
      await commitTransaction(ctx, tx, [ctx.migrations.recordWrites(record())]);
    } else if (!recorded) {
      await ctx.exclusive(() => ctx.commit({ state: [ctx.migrations.recordWrites(record())] }));
    }
  } catch (e) {
    const cause = toKalamError(e);
    const where = at < 0 ? `the commit of statements ${ddlCount + 1}–${steps.length}` : `statement ${at + 1} of ${steps.length} (${quoted(steps[at].text)})`;
    let outcome = journal.actions.length > 0 ? `its DDL was taken back: the database is at version ${previous}` : `nothing of it was written: the database is at version ${previous}`;
    try {
      await undo(ctx, journal);
    } catch (u) {
      const err = toKalamError(u);
      outcome = `taking back its DDL failed too (${err.code}: ${err.message}); it is retried at the next open and the next migrate()`;
    }
    throw migrationFailed(m.version, where, cause.code, cause.message, outcome);
  }
}

/**
 * Runs one DDL statement under the write lock, committing with its unit the
 * journal grown by the step that takes it back — or, as the migration's last
 * statement (`record` given), the migration's record. True when it was
 * committed with the record.
 */
async function runDdl(ctx: MigrateContext, state: SessionState, stmt: DdlStatement | AlterTableStmt | IndexStatement, journal: UndoJournal, record: (() => MigrationRecord) | undefined): Promise<boolean> {
  let committed = false;
  let inverse: UndoAction | undefined;
  const extra = (): StateChange => {
    if (record) return ctx.migrations.recordWrites(record());
    return ctx.migrations.journalWrites({ version: journal.version, actions: inverse ? [...journal.actions, inverse] : journal.actions });
  };
  // ALTER TABLE's executor is loaded on first use (lazy-executors.ts), before the write lock is taken.
  const alter = stmt.kind === 'alterTable' ? await loadAlter() : undefined;
  const isIndex = stmt.kind === 'createIndex' || stmt.kind === 'dropIndex';
  const indexDdl = isIndex ? await loadIndexDdl() : undefined;
  if (isIndex) await ensureIndexSupport(ctx, true);
  await ctx.exclusive(async () => {
    inverse = inverseOf(ctx, state, stmt);
    const onCommit = () => { committed = true; };
    const scoped = scopedContext(ctx, extra, onCommit);
    if (alter) await alter.executeAlterTable(scoped, state, stmt as AlterTableStmt);
    else if (indexDdl) await indexDdl.executeIndexStatement(indexScoped(ctx, extra, onCommit), state, stmt as IndexStatement);
    else await executeDdl(scoped, state, stmt as DdlStatement);
  });
  if (committed && inverse) journal.actions.push(inverse);
  return committed && record !== undefined;
}

/** The engine's DDL and ALTER context, every commit carrying `extra()` too. */
function scopedContext(ctx: MigrateContext, extra: () => StateChange, onCommit: () => void): DdlContext & AlterContext {
  return {
    catalog: ctx.catalog,
    jobs: ctx.jobs,
    hot: ctx.hot,
    snowflake: ctx.snowflake,
    files: (ctx as Partial<AlterContext>).files,
    async commit(unit) {
      await ctx.commit({ ...unit, state: [...(unit.state ?? []), extra()] });
      onCommit();
    },
  };
}

/** The engine as CREATE/DROP INDEX reads it, its commits carrying `extra()` too (the engine's own parts read through, commit replaced). */
function indexScoped(ctx: MigrateContext, extra: () => StateChange, onCommit: () => void): IndexDdlContext {
  const scoped = Object.create(ctx) as IndexDdlContext & { commit: IndexDdlContext['commit'] };
  scoped.commit = async (unit) => {
    await ctx.commit({ ...unit, state: [...(unit.state ?? []), extra()] });
    onCommit();
  };
  return scoped;
}

/** The step that takes `stmt` back, read from the catalog before it runs; none when it changes nothing (or fails). */
function inverseOf(ctx: MigrateContext, state: SessionState, stmt: DdlStatement | AlterTableStmt | IndexStatement): UndoAction | undefined {
  const { catalog } = ctx;
  switch (stmt.kind) {
    case 'createNamespace': {
      const name = stmt.name.toLowerCase();
      return catalog.hasNamespace(name) ? undefined : { kind: 'sql', sql: `DROP NAMESPACE ${name}` };
    }
    case 'createTable': {
      const ns = (stmt.table.namespace ?? state.namespace).toLowerCase();
      const name = stmt.table.name.toLowerCase();
      return catalog.findTable(ns, name) ? undefined : { kind: 'sql', sql: `DROP TABLE ${ns}.${name}` };
    }
    case 'alterTable': {
      const ns = (stmt.table.namespace ?? state.namespace).toLowerCase();
      const t = catalog.findTable(ns, stmt.table.name.toLowerCase());
      if (!t) return undefined;
      const op = stmt.op;
      if (op.kind === 'dropColumn' || op.kind === 'modifyColumn') return undefined;
      if (op.kind === 'addColumn') {
        const column = op.written.toLowerCase();
        return t.columns.some((c) => c.name === column) ? undefined : { kind: 'sql', sql: `ALTER TABLE ${ns}.${t.name} DROP COLUMN ${column}` };
      }
      return { kind: 'restoreTable', def: t };
    }
    case 'createIndex': {
      // The table's definition before the index (none when it already has one of that name: IF NOT EXISTS changes nothing).
      const ns = (stmt.table.namespace ?? state.namespace).toLowerCase();
      const t = catalog.findTable(ns, stmt.table.name.toLowerCase());
      const name = (stmt.name ?? (t ? `${t.name}_${stmt.columns[0].name}_idx` : '')).toLowerCase();
      if (!t || catalog.listTables(ns).some((x) => x.indexes?.some((i) => i.name === name))) return undefined;
      return { kind: 'restoreTable', def: t };
    }
    case 'dropIndex': {
      const ns = (stmt.index.namespace ?? state.namespace).toLowerCase();
      const name = stmt.index.name.toLowerCase();
      const t = catalog.listTables(ns).find((x) => x.indexes?.some((i) => i.name === name));
      return t ? { kind: 'restoreTable', def: t } : undefined;
    }
    default:
      return undefined;
  }
}

/** Runs the journal backwards, each step committed with the journal shortened by it (the last removes it). */
async function undo(ctx: MigrateContext, journal: UndoJournal): Promise<void> {
  const state = sessionOf();
  for (let i = journal.actions.length - 1; i >= 0; i--) {
    const action = journal.actions[i];
    const rest = { version: journal.version, actions: journal.actions.slice(0, i) };
    const shortened = () => ctx.migrations.journalWrites(rest.actions.length > 0 ? rest : undefined);
    let committed = false;
    if (action.kind === 'sql') await loadSqlExtensions(action.sql, ctx.catalog);
    const stmt = action.kind === 'sql' ? parseStatement(action.sql, tokenize(action.sql, ctx.planner.limits), ctx.planner.limits) : undefined;
    const alter = stmt?.kind === 'alterTable' ? await loadAlter() : undefined;
    await ctx.exclusive(async () => {
      if (action.kind === 'restoreTable') {
        const current = ctx.catalog.tableById(action.def.id);
        if (current) {
          const def = { ...action.def, version: current.version + 1, updatedAt: Date.now() };
          await ctx.commit({ state: [ctx.catalog.alterTableWrites(def), shortened()], altered: [def.id] });
          committed = true;
        }
        return;
      }
      const scoped = scopedContext(ctx, shortened, () => { committed = true; });
      try {
        if (alter) await alter.executeAlterTable(scoped, state, stmt as AlterTableStmt);
        else await executeDdl(scoped, state, stmt as DdlStatement);
      } catch (e) {
        // Already gone (dropped by hand meanwhile): nothing to take back.
        const code = toKalamError(e).code;
        if (code !== 'TABLE_NOT_FOUND' && code !== 'NAMESPACE_NOT_FOUND' && code !== 'COLUMN_NOT_FOUND') throw e;
      }
    });
    if (!committed) await ctx.exclusive(() => ctx.commit({ state: [shortened()] }));
  }
  // A journal with no step left (its first DDL had none): remove it.
  if (journal.actions.length === 0 && ctx.migrations.pendingUndo()) await ctx.exclusive(() => ctx.commit({ state: [ctx.migrations.journalWrites(undefined)] }));
}
