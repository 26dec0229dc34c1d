/**
 * A batch of statements (one `execute()` call) and explicit transactions.
 *
 * BEGIN … COMMIT inside a batch opens a transaction that must end in the
 * same batch; `session.transaction()`/`begin()` open one that batches run
 * in. Any failure inside a transaction rolls it back. A transaction's writes
 * are staged (execute/transaction.ts) and committed by one unit of work
 * under the write lock.
 */
import type { IndexHost } from './index-loader';
import { KalamError, toKalamError } from '../core/errors';
import type { RowChange, TableDef } from '../core/schema';
import type { StatementResult, Value } from '../core/types';
import type { Catalog } from '../catalog/catalog';
import type { SeqGenerator } from '../core/ids';
import { splitStatements } from '../sql/lexer';
import type { SqlLimits } from '../sql/limits';
import { parseStatement } from '../sql/parse';
import type { CallOptions, QueryRegistry, RunningQuery, StatementSignal } from './queries';
import { okResult } from './results';
import type { SessionState } from './session-state';
import type { ColdReads } from '../storage/cold/types';
import type { StateChange } from '../storage/unit-of-work';
import type { PreparedCold } from './cold-reads';
import type { CommittedLookup, Transaction, TransactionRegistry } from './transaction';
import { validateParams } from './validate';

export interface BatchContext extends IndexHost {
  readonly catalog: Catalog;
  readonly seq: SeqGenerator;
  readonly transactions: TransactionRegistry;
  /** The committed version of a key, cold ones from the row groups `cold` was prepared with. */
  committedLookup(cold?: ColdReads): CommittedLookup;
  /** Loads the row groups that may hold these keys (pinned until released). */
  prepareKeys(keys: Iterable<{ table: TableDef; user: string; pk: Value }>): Promise<PreparedCold>;
  /** Holds the SQL limits a batch's text and parameters are checked against before anything else. */
  readonly planner: { readonly limits: SqlLimits };
  /** Running calls (system.queries): each batch is registered while it runs, and is its statements' CancelSignal. */
  readonly queries: QueryRegistry;
  assertOpen(): void;
  waitForHotRoom(): Promise<void>;
  exclusive<T>(fn: () => Promise<T> | T): Promise<T>;
  commit(unit: { rows: readonly RowChange[]; state?: readonly StateChange[] }): Promise<void>;
  runStatement(state: SessionState, text: string, params: readonly Value[], tx?: Transaction, signal?: StatementSignal): Promise<StatementResult>;
}

/** BEGIN / START / COMMIT / ROLLBACK at the start of a statement (after whitespace and comments). */
const TX_CONTROL = /^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*(?:BEGIN|START|COMMIT|ROLLBACK)\b/i;

const txError = (message: string) => new KalamError('TRANSACTION_ERROR', message);

/**
 * Runs a batch, inside `tx` (an API transaction) when given. The call is
 * registered in system.queries while it runs; `call.signal` (or KILL
 * QUERY) cancels it: the statement running stops at its next pause point
 * with QUERY_CANCELLED, and the batch stops there (statements before it
 * stay committed, each on its own; inside a transaction, it rolls back).
 */
export async function executeBatch(engine: BatchContext, state: SessionState, sql: string, params: readonly Value[] = [], tx?: Transaction, call: CallOptions = {}): Promise<StatementResult[]> {
  if (tx) tx.assertOpen();
  engine.assertOpen();
  const running = engine.queries.start(state, sql, call, tx?.id);
  let failure: unknown;
  try {
    if (!tx) return await runBatch(engine, state, sql, params, undefined, running);
    tx.touch();
    try {
      return await runBatch(engine, state, sql, params, tx, running);
    } catch (e) {
      rollbackTransaction(engine, tx, toKalamError(e).message);
      throw toKalamError(e);
    } finally {
      tx.touch();
    }
  } catch (e) {
    failure = e;
    throw e;
  } finally {
    engine.queries.finish(running, failure);
  }
}

async function runBatch(engine: BatchContext, state: SessionState, sql: string, given: readonly Value[], tx: Transaction | undefined, running: RunningQuery): Promise<StatementResult[]> {
  if (typeof sql !== 'string') throw new KalamError('INVALID_SQL', 'SQL must be a string');
  // The engine's own copy: nothing the caller does later reaches it.
  const params = validateParams(given, engine.planner.limits.maxParameters, engine.planner.limits.maxJsonDepth);
  const statements = splitStatements(sql, engine.planner.limits);
  if (statements.length === 0) throw new KalamError('PARSE_ERROR', 'Empty statement: write a SQL statement to run');
  if (params.length > 0 && statements.length > 1) {
    throw new KalamError('INVALID_PARAMETER', 'Parameters ($1, $2, …) can only be used with a single statement');
  }
  const results: StatementResult[] = [];
  let own: Transaction | undefined; // opened by BEGIN in this batch
  for (const s of statements) {
    try {
      running.throwIfCancelled();
      const control = TX_CONTROL.test(s.text) ? parseStatement(s.text) : undefined;
      if (control?.kind === 'begin' || control?.kind === 'commit' || control?.kind === 'rollback') {
        if (tx) throw txError(`${control.kind.toUpperCase()} cannot run inside session.transaction(): the transaction commits when the callback returns and rolls back when it throws`);
        if (control.kind === 'begin') {
          if (own) throw txError('A transaction is already open: nested transactions are not supported. COMMIT or ROLLBACK it first');
          own = beginTransaction(engine, state.user, 'sql');
          results.push(okResult(`Transaction ${own.id} started`));
          continue;
        }
        if (!own) throw txError(`${control.kind.toUpperCase()} without an open transaction: start one with BEGIN`);
        const ending = own;
        own = undefined;
        if (control.kind === 'commit') {
          running.markCommitting();
          try {
            await commitTransaction(engine, ending);
          } finally {
            running.doneCommitting();
          }
        } else rollbackTransaction(engine, ending);
        results.push(okResult(`Transaction ${ending.id} ${control.kind === 'commit' ? 'committed' : 'rolled back'}`));
        continue;
      }
      results.push(await engine.runStatement(state, s.text, params, tx ?? own, running));
    } catch (e) {
      const err = toKalamError(e);
      if (own) rollbackTransaction(engine, own, err.message);
      throw err.position !== undefined && s.start > 0 ? new KalamError(err.code, err.message, err.position + s.start) : err;
    }
  }
  if (own) {
    rollbackTransaction(engine, own, 'the batch ended without COMMIT');
    throw txError(`Transaction ${own.id} was rolled back: the batch ended while it was still open. End it with COMMIT (or ROLLBACK) in the same execute() call`);
  }
  return results;
}

export function beginTransaction(engine: BatchContext, owner: string, origin: 'sql' | 'api'): Transaction {
  engine.assertOpen();
  return engine.transactions.begin(owner, origin);
}

/**
 * Writes everything `tx` staged in one storage commit, under the write lock;
 * any conflict rolls it back. `alsoCommit` joins that commit (a migration's record).
 */
export async function commitTransaction(engine: BatchContext, tx: Transaction, alsoCommit: readonly StateChange[] = []): Promise<void> {
  tx.assertOpen();
  tx.state = 'committing';
  let prepared: PreparedCold | undefined;
  try {
    await engine.waitForHotRoom();
    // The committed versions of the staged keys, cold ones too (loaded, not taken from the cache):
    // loaded before the write lock. The load pins them: a flush that commits a segment meanwhile keeps
    // its rows hot until this commit is over, so hot and these row groups hold every committed version.
    prepared = await engine.prepareKeys(tx.stagedKeys());
    const reads = prepared.reads;
    await engine.exclusive(async () => {
      engine.assertOpen();
      const rows = tx.changesForCommit(engine.committedLookup(reads), (id) => engine.catalog.tableById(id), () => engine.seq.next());
      await engine.uniqueCheck?.(rows);
      if (rows.length > 0 || alsoCommit.length > 0) await engine.commit({ rows, state: alsoCommit });
    });
  } catch (e) {
    const err = toKalamError(e);
    tx.isInDoubt = err.code === 'STORAGE_TIMEOUT';
    engine.transactions.finish(tx, 'rolled_back', err.message);
    throw err;
  } finally {
    prepared?.release();
  }
  engine.transactions.finish(tx, 'committed');
}

export function rollbackTransaction(engine: BatchContext, tx: Transaction, reason?: string): void {
  engine.transactions.finish(tx, 'rolled_back', reason);
}
