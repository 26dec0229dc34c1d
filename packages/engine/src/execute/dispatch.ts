/**
 * One statement: planned through the plan cache if it is DML, otherwise
 * dispatched by kind to its executor — an exhaustive switch, so a new
 * statement kind does not compile until it is routed. Statements that
 * change the catalog run under the write lock. Executors of rare statements
 * are loaded on first use (lazy-executors.ts), before the write lock is
 * taken.
 */
import { KalamError } from '../core/errors';
import type { StatementResult, Value } from '../core/types';
import type { Statement } from '../sql/ast';
import type { AlterContext } from './alter';
import { executeDdl, type DdlContext } from './ddl';
import { runPlanned, type DmlContext } from './dml';
import { executeAs, type ExecuteAsContext } from './execute-as';
import type { ExplainContext } from './explain';
import type { IntrospectionContext } from './introspection';
import type { IndexDdlContext } from './index-ddl';
import { ensureIndexSupport } from './index-loader';
import { ensureVectorIndexes, loadVectorIndex } from './vector-index-loader';
import { loadAlter, loadCreateTableAs, loadExplain, loadIndexDdl, loadIntrospection, loadStorageStatements, loadTopics, loadUserStatements, loadViewDdl } from './lazy-executors';
import type { LiveQueries } from './live';
import type { QueryRegistry, StatementSignal } from './queries';
import { okResult } from './results';
import type { SessionState } from './session-state';
import type { StorageStatementContext } from './storage-statements';
import type { Transaction } from './transaction';
import type { UserContext } from './users';
import type { TopicHost } from './topics';
import type { ViewDdlContext } from './view-ddl';
import { loadSqlExtensions } from './sql-extensions';

/** Every executor's context: the engine satisfies each of them, and each executor sees only its own. */
export type DispatchContext = DmlContext & ExplainContext & DdlContext & ViewDdlContext & IndexDdlContext & AlterContext & UserContext & IntrospectionContext & StorageStatementContext & ExecuteAsContext & TopicHost & {
  readonly liveQueries: LiveQueries;
  readonly live: { kill(liveId: string, owner: { user: string; role: SessionState['role'] }): void };
  readonly queries: Pick<QueryRegistry, 'kill'>;
  exclusive<T>(fn: () => Promise<T> | T): Promise<T>;
};

const txError = (message: string) => new KalamError('TRANSACTION_ERROR', message);

/** Runs one statement; `signal` is its call's (a batch's) cancellation (execute/queries.ts). */
export async function runStatement(engine: DispatchContext, state: SessionState, text: string, params: readonly Value[], tx?: Transaction, signal?: StatementSignal): Promise<StatementResult> {
  await loadSqlExtensions(text, engine.catalog);
  const planned = engine.planner.plan(state, text, params);
  if ('plan' in planned) return runPlanned(engine, state, planned, text, params, tx, signal);
  const stmt = planned.stmt;
  if (tx) refuseInTransaction(stmt);
  switch (stmt.kind) {
    case 'select': case 'insert': case 'update': case 'delete':
      throw new KalamError('INTERNAL', 'Internal error: a DML statement was not planned. This is a bug in kalamlite; please report it.');
    case 'executeAs':
      return executeAs(engine, state, stmt, params, (as, sql, ps) => runStatement(engine, as, sql, ps, undefined, signal));
    case 'flushTable': case 'flushAll': case 'compactTable': case 'compactAll': case 'killJob':
      return (await loadStorageStatements()).executeStorageStatement(engine, state, stmt);
    case 'explain':
      return (await loadExplain()).executeExplain(engine, state, stmt, params, signal);
    case 'subscribe':
      return engine.liveQueries.subscribeStatement(state, stmt, params);
    case 'killLiveQuery':
      engine.live.kill(stmt.liveId, state);
      return okResult(`Live query '${stmt.liveId}' killed`);
    case 'killQuery':
      return okResult(engine.queries.kill(stmt.queryId, state));
    case 'createTable':
      if (stmt.asQueryOffset !== undefined) {
        const { executeCreateTableAs } = await loadCreateTableAs();
        const ctx = {
          run: (as: SessionState, sql: string, ps: readonly Value[]) => runStatement(engine, as, sql, ps, undefined, signal),
          ddl: (as: SessionState, s: Parameters<typeof executeDdl>[2]) => engine.exclusive(() => executeDdl(engine, as, s)),
        };
        return executeCreateTableAs(ctx, state, stmt, text, params);
      }
      return engine.exclusive(() => executeDdl(engine, state, stmt));
    case 'createNamespace': case 'dropNamespace': case 'dropTable':
      return engine.exclusive(() => executeDdl(engine, state, stmt));
    case 'createView': case 'dropView': {
      const { executeViewStatement } = await loadViewDdl();
      return engine.exclusive(() => executeViewStatement(engine, state, stmt));
    }
    case 'createIndex': case 'dropIndex': {
      const { executeIndexStatement } = await loadIndexDdl();
      await ensureIndexSupport(engine, true);
      return engine.exclusive(() => executeIndexStatement(engine, state, stmt));
    }
    case 'vectorIndex': {
      await ensureVectorIndexes(engine as unknown as Parameters<typeof ensureVectorIndexes>[0], (s, sql, ps) => runStatement(engine, s, sql, ps), true);
      const { executeVectorIndexStatement } = await loadVectorIndex();
      return engine.exclusive(() => executeVectorIndexStatement(engine, state, stmt));
    }
    case 'alterTable': {
      const { executeAlterTable } = await loadAlter();
      return engine.exclusive(() => executeAlterTable(engine, state, stmt));
    }
    case 'createUser': case 'alterUser': case 'dropUser': {
      const { executeUserStatement } = await loadUserStatements();
      return engine.exclusive(() => executeUserStatement(engine, state, stmt));
    }
    case 'showNamespaces': case 'showTables': case 'describeTable': case 'showStats': case 'use': {
      const { executeIntrospection } = await loadIntrospection();
      return engine.exclusive(() => executeIntrospection(engine, state, stmt));
    }
    case 'topic': {
      return (await loadTopics()).executeTopicStatement(engine, state, stmt.text, params, signal);
    }
    case 'begin': case 'commit': case 'rollback':
      // The batch handles transaction control (batch.ts); one that reaches here is inside another statement.
      throw txError(`${stmt.kind.toUpperCase()} must be a statement of its own`);
    default:
      return unreachable(stmt);
  }
}

function unreachable(stmt: never): never {
  throw new KalamError('INTERNAL', `Internal error: no executor for statement kind '${(stmt as { kind: string }).kind}'. This is a bug in kalamlite; please report it.`);
}

/** Inside an explicit transaction only DML and read-only introspection run. */
function refuseInTransaction(stmt: Statement): void {
  switch (stmt.kind) {
    case 'showNamespaces': case 'showTables': case 'describeTable': case 'showStats': case 'use':
      return;
    case 'executeAs':
      throw txError('EXECUTE AS USER is not supported inside explicit transactions: run it outside BEGIN … COMMIT');
    case 'begin': case 'commit': case 'rollback':
      throw txError(`${stmt.kind.toUpperCase()} must be a statement of its own inside an explicit transaction`);
    case 'topic':
      throw txError('Topic statements are not supported inside explicit transactions: run them before BEGIN or after COMMIT');
    case 'explain':
      throw txError('EXPLAIN is not supported inside explicit transactions (it would not see their staged rows): run it before BEGIN or after COMMIT');
    default:
      throw txError('DDL and user management statements are not supported inside explicit transactions: run them before BEGIN or after COMMIT');
  }
}
