/**
 * The api layer: `openDatabase()`, `Database`, `Session`. A session is only
 * a user id, a role and a namespace over the one engine every session
 * shares; everything it does is the engine's (execute/engine.ts).
 */
import { KalamError, toKalamError } from '../core/errors';
import { thrownMessage } from '../core/json';
import type { Role, Row, SessionOptions, StatementResult, Value } from '../core/types';
import { Engine } from '../execute/engine';
import type { LiveStop } from '../execute/live';
import type { OpenOptions } from '../execute/options';
import type { SessionState } from '../execute/session-state';
import type { Transaction } from '../execute/transaction';
import type { LiveChange, LiveOptions } from '../live/types';
import { splitStatements } from '../sql/lexer';
import type { SqlLimits } from '../sql/limits';
import type { Durability } from '../storage/opfs-log';
import type { ArrowTable } from './arrow';
import { loadArrow } from './arrow-loader';
import { checkReturnsRows } from './returns-rows';
import { resolveSessionOptions, resolveStatementOptions, type StatementOptions } from './session-options';

export type { LiveStop, OpenOptions, StatementOptions };


export interface Session {
  readonly user: string;
  readonly role: Role;
  /** The namespace unqualified names resolve in; `USE ns` changes it. */
  readonly namespace: string;
  /**
   * One or more statements, each committed on its own. `options.signal`
   * cancels the call (QUERY_CANCELLED; see StatementOptions): the running
   * statement stops at its next pause point and the batch stops there.
   */
  execute(sql: string, params?: readonly Value[], options?: StatementOptions): Promise<StatementResult[]>;
  /** Exactly one statement; `options.signal` cancels it (QUERY_CANCELLED). */
  query(sql: string, params?: readonly Value[], options?: StatementOptions): Promise<StatementResult>;
  /** Exactly one statement returning rows; its result as an Arrow table (types mapped as in arrow.ts). */
  queryArrow(sql: string, params?: readonly Value[], options?: StatementOptions): Promise<ArrowTable>;
  /**
   * A live query (a SELECT, or `SUBSCRIBE TO …`): `onChange` receives the
   * whole current result (immutable, rows shared) and what changed — first
   * now, then after each commit that changed it. Resolves (after the first
   * delivery) with the function that stops it. See live/types.ts.
   */
  live(
    sql: string,
    params: readonly Value[] | undefined,
    onChange: (rows: readonly Row[], change: LiveChange, seq: bigint) => void,
    onError?: (e: KalamError) => void,
    options?: LiveOptions,
  ): Promise<LiveStop>;
  /** Opens an explicit transaction; end it with `commit()` or `rollback()` (prefer `transaction()`). */
  begin(): Promise<SessionTransaction>;
  /**
   * Runs `fn` in a transaction: commits when it resolves, rolls back and
   * rethrows when it throws. A statement that fails rolls the transaction back.
   */
  transaction<T>(fn: (tx: SessionTransaction) => Promise<T> | T): Promise<T>;
}

/** An open explicit transaction: `session.begin()`, or the `tx` of `session.transaction()`. */
export interface SessionTransaction {
  readonly id: string;
  /** Runs statements inside the transaction: they see its staged writes; nobody else does until commit. A cancelled one (options.signal) fails and rolls the transaction back, as any failure does. */
  execute(sql: string, params?: readonly Value[], options?: StatementOptions): Promise<StatementResult[]>;
  query(sql: string, params?: readonly Value[], options?: StatementOptions): Promise<StatementResult>;
  /** Writes everything staged in one storage commit (fails, writing nothing, on a conflict). */
  commit(): Promise<void>;
  /** Drops everything staged. A no-op when the transaction already rolled back. */
  rollback(): Promise<void>;
}

export interface Database {
  session(options: SessionOptions): Session;
  /** Changes when later writes are acknowledged (see OpenOptions.durability); INVALID_OPTION for anything but 'relaxed' or 'strict'. */
  setDurability(durability: Durability): void;
  close(): Promise<void>;
}


function oneStatement(sql: string, limits: SqlLimits): void {
  if (typeof sql === 'string' && splitStatements(sql, limits).length > 1) {
    throw new KalamError('INVALID_SQL', 'query() runs exactly one statement: use execute() for a batch');
  }
}

function openTransaction(engine: Engine, state: SessionState, client: string | undefined): { handle: SessionTransaction; tx: Transaction } {
  const tx = engine.beginTransaction(state.user, 'api');
  const handle: SessionTransaction = {
    id: tx.id,
    execute: async (sql, params, options) => engine.execute(state, sql, params ?? [], tx, { ...resolveStatementOptions(options), client }),
    async query(sql, params, options) {
      const call = { ...resolveStatementOptions(options), client };
      oneStatement(sql, engine.planner.limits);
      const [result] = await engine.execute(state, sql, params ?? [], tx, call);
      return result;
    },
    commit: () => engine.commitTransaction(tx),
    async rollback() {
      if (tx.state === 'committed' || tx.state === 'committing') tx.assertOpen();
      engine.rollbackTransaction(tx);
    },
  };
  return { handle, tx };
}

export async function openDatabase(options: OpenOptions): Promise<Database> {
  let given = options;
  try {
    // Read once, here: a getter or Proxy trap of the options object that throws is reported, not raised raw.
    if (typeof options === 'object' && options !== null && !Array.isArray(options)) given = { ...options };
  } catch (e) {
    throw new KalamError('INVALID_OPTION', `openDatabase() options could not be read: ${thrownMessage(e)}. Pass a plain object, for example { storage: 'idb', name: 'app' }`);
  }
  const engine = await Engine.open(given);
  let sessionCount = 0;
  return {
    session(opts) {
      const resolved = resolveSessionOptions(opts);
      const state: SessionState = { user: resolved.user, role: resolved.role, namespace: resolved.namespace };
      const owner = { session: ++sessionCount, client: resolved.client };
      return {
        get user() { return state.user; },
        get role() { return state.role; },
        get namespace() { return state.namespace; },
        execute: async (sql, params, options) => engine.execute(state, sql, params ?? [], undefined, { ...resolveStatementOptions(options), client: resolved.client }),
        async query(sql, params, options) {
          const call = { ...resolveStatementOptions(options), client: resolved.client };
          if (typeof sql === 'string' && splitStatements(sql, engine.planner.limits).length > 1) {
            throw new KalamError('INVALID_SQL', 'query() runs exactly one statement: use execute() for a batch');
          }
          const [result] = await engine.execute(state, sql, params ?? [], undefined, call);
          return result;
        },
        async queryArrow(sql, params, options) {
          const call = { ...resolveStatementOptions(options), client: resolved.client };
          oneStatement(sql, engine.planner.limits);
          checkReturnsRows(sql, engine.planner.limits);
          // Arrow loads (once, on the first call) while the statement runs.
          const [[result], { resultToArrow }] = await Promise.all([engine.execute(state, sql, params ?? [], undefined, call), loadArrow()]);
          return resultToArrow(result);
        },
        live: (sql, params, onChange, onError, liveOptions) => engine.openLive(state, sql, params ?? [], onChange, onError ?? (() => undefined), liveOptions, owner),
        begin: async () => openTransaction(engine, state, resolved.client).handle,
        async transaction(fn) {
          if (typeof fn !== 'function') throw new KalamError('INVALID_PARAMETER', 'transaction() needs a callback: session.transaction(async (tx) => { … })');
          const { handle, tx } = openTransaction(engine, state, resolved.client);
          let result;
          try {
            result = await fn(handle);
          } catch (e) {
            engine.rollbackTransaction(tx, toKalamError(e).message);
            throw e;
          }
          if (tx.state === 'open') await engine.commitTransaction(tx);
          else if (tx.state === 'rolled_back' && tx.abortReason !== undefined) tx.assertOpen(); // a failed statement was swallowed
          return result;
        },
      };
    },
    setDurability: (durability) => engine.setDurability(durability),
    close: () => engine.close(),
  };
}
