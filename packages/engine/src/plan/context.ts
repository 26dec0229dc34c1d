/** What an executing statement can see besides its input rows. */
import type { Role, Value } from '../types';

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
}

/** One row of a relation as operators pass it around: values by slot. */
export type Tuple = readonly Value[];

export type Evaluator = (row: Tuple, ctx: ExecContext) => Value;
