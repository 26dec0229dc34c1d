/**
 * Explicit transactions (reference §1.6): writes are staged here, per table
 * and partition, and overlaid on the session's own scans (read-your-writes);
 * COMMIT turns them into one batch of row changes that the engine writes in
 * one storage transaction. Nothing staged is visible to any other session.
 *
 * Conflicts are detected at commit (first committer wins): every staged key
 * remembers the committed version it started from; if another session
 * committed a different version meanwhile, the commit fails and writes
 * nothing — a PRIMARY_KEY_VIOLATION when both inserted the same key, a
 * TRANSACTION_ERROR otherwise.
 */
import type { TableDef } from '../core/schema';
import { KalamError } from '../core/errors';
import type { StagedRows } from '../exec/context';
import { type RowChange } from '../core/schema';
import { deletedSlot, seqSlot } from '../core/schema';
import type { StoredRow } from '../core/schema';
import type { TransactionInfo } from '../system/tables';
import type { Value } from '../core/types';
import { describeValue } from '../core/values';
import { TRANSACTION_DEFAULTS as TRANSACTIONS } from '../core/defaults';

export type TransactionOrigin = 'sql' | 'api';

export type TransactionState = 'open' | 'committing' | 'committed' | 'rolled_back';

export interface TransactionLimits {
  /** Distinct rows one transaction may stage. */
  maxRows: number;
  /** Transactions open at once across all sessions. */
  maxOpen: number;
}

export const TRANSACTION_DEFAULTS: TransactionLimits = TRANSACTIONS;

/** One staged key: its newest staged version and the committed version it replaced. */
interface StagedKey {
  table: TableDef;
  user: string;
  pk: Value;
  /** The committed row when this key was first staged (undefined: none). */
  base: StoredRow | undefined;
}

interface StagedPartition {
  /** pk hash → newest staged version (null: hard-deleted). */
  rows: Map<string, StoredRow | null>;
  keys: Map<string, StagedKey>;
}

/** Reads the committed version of a key (hot, or cold from the row groups loaded for it). */
export type CommittedLookup = (tableId: number, user: string, pkHash: string, pk: Value) => StoredRow | undefined;

const q = (t: TableDef) => `${t.namespace}.${t.name}`;
const isLive = (t: TableDef, row: StoredRow | null | undefined) => !!row && row[deletedSlot(t)] !== true;
/** The same committed version: `_seq` identifies a version (a cold row is built anew on each read, so not by object). */
const sameVersion = (t: TableDef, a: StoredRow | undefined, b: StoredRow | undefined) => a === b || (!!a && !!b && a[seqSlot(t)] === b[seqSlot(t)]);

export const STREAM_REFUSED = 'stream tables are not supported inside explicit transactions';

export class Transaction implements StagedRows {
  state: TransactionState = 'open';
  readonly createdAt: number;
  lastActivity: number;
  writeCount = 0;
  stagedRows = 0;
  /** Why the transaction ended, when a failure ended it (later statements report it). */
  abortReason: string | undefined;
  /** Its commit failed with STORAGE_TIMEOUT: whether the storage took it is not known yet. */
  isInDoubt = false;
  /** Run once when the transaction ends, however it ends (FILE columns release the uploads its statements made: execute/files.ts). */
  onEnd: (() => void) | undefined;
  /** table id → partition user → staged rows. */
  private readonly tables = new Map<number, Map<string, StagedPartition>>();

  constructor(
    readonly id: string,
    readonly owner: string,
    readonly origin: TransactionOrigin,
    private readonly maxRows: number,
    now = Date.now(),
  ) {
    this.createdAt = now;
    this.lastActivity = now;
  }

  // -- StagedRows (the scan overlay) --

  partition(tableId: number, user: string): ReadonlyMap<string, StoredRow | null> | undefined {
    return this.tables.get(tableId)?.get(user)?.rows;
  }

  get touchedTables(): number {
    return this.tables.size;
  }

  /** Throws unless statements may still run in this transaction. */
  assertOpen(): void {
    if (this.state === 'open') return;
    if (this.state === 'committing') {
      throw new KalamError('TRANSACTION_ERROR', `Transaction ${this.id} is committing: wait for the commit before running more statements`);
    }
    const why = this.abortReason ? ` after an error (${this.abortReason})` : '';
    throw new KalamError(
      'TRANSACTION_ERROR',
      `Transaction ${this.id} is ${this.state === 'committed' ? 'already committed' : `rolled back${why}`}: start a new transaction`,
    );
  }

  touch(now = Date.now()): void {
    this.lastActivity = now;
  }

  /**
   * Stages one statement's row changes (all of them or, past the row limit,
   * none). `committed` reads the version each new key starts from.
   */
  stage(changes: readonly RowChange[], committed: CommittedLookup): void {
    this.assertOpen();
    let fresh = 0;
    const seen = new Set<string>();
    for (const c of changes) {
      const k = `${c.table.id}\u0000${c.user}\u0000${c.pkHash}`;
      if (!seen.has(k) && !this.tables.get(c.table.id)?.get(c.user)?.keys.has(c.pkHash)) fresh++;
      seen.add(k);
    }
    if (this.stagedRows + fresh > this.maxRows) {
      throw new KalamError(
        'TRANSACTION_ERROR',
        `Transaction ${this.id} would stage ${this.stagedRows + fresh} rows, more than the limit of ${this.maxRows} (maxTransactionRows): commit in smaller transactions or raise maxTransactionRows`,
      );
    }
    for (const c of changes) {
      let parts = this.tables.get(c.table.id);
      if (!parts) this.tables.set(c.table.id, (parts = new Map()));
      let p = parts.get(c.user);
      if (!p) parts.set(c.user, (p = { rows: new Map(), keys: new Map() }));
      if (!p.keys.has(c.pkHash)) {
        p.keys.set(c.pkHash, { table: c.table, user: c.user, pk: c.pk, base: committed(c.table.id, c.user, c.pkHash, c.pk) });
      } else {
        p.rows.delete(c.pkHash); // keep scan order = last write order
      }
      p.rows.set(c.pkHash, c.row);
    }
    this.stagedRows += fresh;
    this.writeCount += changes.length;
  }

  /**
   * The row changes to commit, re-checked against what is committed now
   * (call under the write lock). Staged rows get fresh `_seq` values from
   * `nextSeq` so `_seq` follows commit order. Throws on any conflict.
   */
  changesForCommit(
    committed: CommittedLookup,
    currentTable: (id: number) => TableDef | undefined,
    nextSeq: () => bigint,
  ): RowChange[] {
    const out: RowChange[] = [];
    for (const [tableId, parts] of this.tables) {
      for (const [user, p] of parts) {
        for (const [pkHash, row] of p.rows) {
          const key = p.keys.get(pkHash)!;
          const t = key.table;
          const now = currentTable(tableId);
          if (!now || now.version !== t.version) {
            throw new KalamError(
              'TRANSACTION_ERROR',
              `Table '${q(t)}' was ${now ? 'altered' : 'dropped'} while transaction ${this.id} was open: the transaction was rolled back; run it again`,
            );
          }
          const current = committed(tableId, user, pkHash, key.pk);
          const startedLive = isLive(t, key.base);
          // Inserted and removed again inside the transaction: nothing to write
          // (and a row another session committed meanwhile stays as it is).
          if (!startedLive && !isLive(t, row)) continue;
          if (!sameVersion(t, current, key.base)) {
            if (!startedLive && isLive(t, current)) {
              const pkName = t.pk >= 0 ? t.columns[t.pk].name : '_seq';
              throw new KalamError(
                'PRIMARY_KEY_VIOLATION',
                `Primary key violation: a row with ${pkName} = ${describeValue(key.pk)} already exists in table '${q(t)}' (committed by another session during transaction ${this.id}); the transaction was rolled back`,
              );
            }
            if (startedLive || isLive(t, current)) {
              throw new KalamError(
                'TRANSACTION_ERROR',
                `Write conflict: the row with primary key ${describeValue(key.pk)} in table '${q(t)}' was changed by another session after transaction ${this.id} read it; the transaction was rolled back — run it again`,
              );
            }
          }
          let version = row;
          if (version !== null) {
            const copy = version.slice();
            copy[seqSlot(t)] = nextSeq();
            version = Object.freeze(copy);
          }
          out.push({ table: now, user, pkHash, pk: key.pk, row: version, before: current });
        }
      }
    }
    return out;
  }

  /** Every staged key: what a commit loads the committed versions of. */
  *stagedKeys(): Generator<{ table: TableDef; user: string; pk: Value }> {
    for (const parts of this.tables.values()) for (const p of parts.values()) yield* p.keys.values();
  }

  /** Drops everything staged. */
  end(state: 'committed' | 'rolled_back', reason?: string): void {
    this.state = state;
    if (reason !== undefined) this.abortReason = reason;
    this.tables.clear();
    const onEnd = this.onEnd;
    this.onEnd = undefined;
    onEnd?.();
  }

  info(now = Date.now()): TransactionInfo {
    return {
      transaction_id: this.id,
      owner_id: this.owner,
      origin: this.origin,
      state: this.state,
      age_ms: now - this.createdAt,
      idle_ms: now - this.lastActivity,
      write_count: this.writeCount,
      staged_rows: this.stagedRows,
      touched_tables_count: this.touchedTables,
    };
  }
}

/** The open transactions of one engine: bounded, listed in system.transactions. */
export class TransactionRegistry {
  private readonly open = new Map<string, Transaction>();
  private next = 1;
  committed = 0;
  rolledBack = 0;

  constructor(readonly limits: TransactionLimits) {}

  get size(): number {
    return this.open.size;
  }

  begin(owner: string, origin: TransactionOrigin): Transaction {
    if (this.open.size >= this.limits.maxOpen) {
      throw new KalamError(
        'TRANSACTION_ERROR',
        `Too many open transactions: the limit is ${this.limits.maxOpen} (maxOpenTransactions). Commit or roll back open transactions first`,
      );
    }
    const id = `tx-${(this.next++).toString().padStart(6, '0')}-${Math.random().toString(36).slice(2, 10)}`;
    const tx = new Transaction(id, owner, origin, this.limits.maxRows);
    this.open.set(id, tx);
    return tx;
  }

  /** Ends `tx` (if still open) and forgets it. */
  finish(tx: Transaction, state: 'committed' | 'rolled_back', reason?: string): void {
    if (!this.open.delete(tx.id)) return;
    tx.end(state, reason);
    if (state === 'committed') this.committed++;
    else this.rolledBack++;
  }

  /** Rolls back every open transaction (the database is closing). */
  rollbackAll(reason: string): void {
    for (const tx of [...this.open.values()]) this.finish(tx, 'rolled_back', reason);
  }

  list(now = Date.now()): TransactionInfo[] {
    return [...this.open.values()].map((tx) => tx.info(now));
  }
}
