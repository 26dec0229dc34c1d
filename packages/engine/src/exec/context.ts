/** What an executing statement can see besides its input rows. */
import type { ColdReads } from '../storage/cold/types';
import type { Role, Value } from '../core/types';
import type { SqlLimits } from '../sql/limits';

export interface ExecContext {
  /** User parameters, then literals lifted out of the SQL text. */
  readonly params: readonly Value[];
  readonly user: string;
  readonly role: Role;
  /** Statement time: NOW() is the same for every row of one statement. */
  readonly now: number;
  snowflakeId(): bigint;
  /** The next `_seq` (writes only). */
  nextSeq(): bigint;
  /** Rows the session's open transaction staged: table scans overlay them (read-your-writes). */
  readonly staged?: StagedRows;
  /** While a subquery runs: the rows of the queries enclosing it, outermost first. */
  readonly outer?: readonly Tuple[];
  /** The cold segments prepared for this execution (Engine.prepareCold); table scans merge them under hot rows. */
  readonly cold?: ColdReads;
  /** Time slicing, cancellation and the time budget of the statement (pace.ts); unpaced when absent. */
  readonly pace?: Pace;
  /** The engine's SQL limits a running statement still checks (a LIKE pattern's length); defaults when absent. */
  readonly limits?: Pick<SqlLimits, 'maxLikePatternLength' | 'maxTextLength' | 'maxJsonDepth' | 'maxSeriesRows'>;
}

/** Staged row versions by table and partition; `null` marks a hard-deleted row. */
export interface StagedRows {
  partition(tableId: number, user: string): ReadonlyMap<string, Tuple | null> | undefined;
}

/** One row of a relation as operators pass it around: values by slot. */
export type Tuple = readonly Value[];

export type Evaluator = (row: Tuple, ctx: ExecContext) => Value;

/** Why a statement is asked to stop. */
export interface CancelSignal {
  readonly isCancelled: boolean;
  readonly reason?: string;
}

/** How a statement is paced (pace.ts); shared by every context of one execution (subqueries copy the reference). */
export interface Pace {
  /** Run at most this long (ms) before yielding; 0 yields at every row (tests). */
  readonly sliceMs: number;
  /** When the current slice started (performance.now()). */
  sliceStart: number;
  /** performance.now() after which the statement fails with STATEMENT_TIMEOUT; Infinity for none. */
  readonly deadline: number;
  /** The statement's budget as set, for the error message. */
  readonly budgetMs: number;
  readonly signal?: CancelSignal;
  /** Rows since the last clock read. */
  rows: number;
}

