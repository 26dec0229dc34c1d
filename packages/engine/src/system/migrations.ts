/**
 * `system.migrations`: the schema migrations applied to this database (see
 * execute/migrate.ts), one record per version, kept in the `system` store
 * and held in memory from open. Also the undo journal of a migration in
 * progress: what to run to take its DDL back, written in the same commit
 * as each DDL statement, so a migration cut off by a crash is undone at the
 * next open. Bounded by `maxMigrations` (execute/migrate.ts refuses a
 * migration past it).
 */
import type { TableDef } from '../core/schema';
import { encodeKey, prefixUpperBound } from '../storage/keys';
import type { KvStore } from '../storage/kv';
import type { StateChange } from '../storage/unit-of-work';
import { MIGRATION_DEFAULTS } from '../core/defaults';

export interface MigrationRecord {
  version: number;
  /** `fnv1a64:` and 16 hex digits of the migration's SQL text (UTF-8), exactly as given. */
  checksum: string;
  applied_at: number;
  statements: number;
}

/** One step that takes a migration's DDL statement back. */
export type UndoAction =
  /** A statement run as the system role (DROP TABLE / NAMESPACE of what it created, DROP COLUMN of what it added). */
  | { kind: 'sql'; sql: string }
  /** The table's definition as it was before a change that kept its row layout (rename, NOT NULL, DEFAULT, access level). */
  | { kind: 'restoreTable'; def: TableDef };

export interface UndoJournal {
  version: number;
  /** In the order the statements ran; undone last first. */
  actions: UndoAction[];
}

export { MIGRATION_DEFAULTS };

const recordKey = (version: number) => encodeKey(['migration', version]);
const JOURNAL_KEY = encodeKey(['migration_undo']);

/** FNV-1a, 64 bits, over the UTF-8 bytes of `sql`. */
export function migrationChecksum(sql: string): string {
  let h = 0xcbf29ce484222325n;
  for (const b of new TextEncoder().encode(sql)) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return `fnv1a64:${h.toString(16).padStart(16, '0')}`;
}

export class MigrationLog {
  /** By version; at most the engine's maxMigrations entries (checked before a record is added). */
  private readonly records = new Map<number, MigrationRecord>();
  private journal: UndoJournal | undefined;

  static async load(kv: KvStore): Promise<MigrationLog> {
    const log = new MigrationLog();
    const lower = encodeKey(['migration']);
    const [, journal] = await Promise.all([
      kv.scan('system', { lower, upper: prefixUpperBound(lower) }, (_k, v) => {
        const r = v as MigrationRecord;
        log.records.set(r.version, r);
      }),
      kv.get('system', JOURNAL_KEY),
    ]);
    log.journal = journal as UndoJournal | undefined;
    return log;
  }

  get size(): number {
    return this.records.size;
  }

  /** The highest version applied, 0 when none. */
  get version(): number {
    let max = 0;
    for (const v of this.records.keys()) if (v > max) max = v;
    return max;
  }

  get(version: number): MigrationRecord | undefined {
    return this.records.get(version);
  }

  /** By version, ascending. */
  list(): MigrationRecord[] {
    return [...this.records.values()].sort((a, b) => a.version - b.version);
  }

  /** The undo journal of a migration cut off before it finished, if any. */
  pendingUndo(): UndoJournal | undefined {
    return this.journal;
  }

  /** Records `record` and ends its undo journal: written with the migration's last change. */
  recordWrites(record: MigrationRecord): StateChange {
    return {
      writes: [{ store: 'system', key: recordKey(record.version), value: record }, { store: 'system', key: JOURNAL_KEY }],
      apply: () => {
        this.records.set(record.version, record);
        this.journal = undefined;
      },
    };
  }

  /** Replaces the undo journal (`undefined`, or no action: deletes it). */
  journalWrites(journal: UndoJournal | undefined): StateChange {
    const copy = journal && journal.actions.length > 0 ? { version: journal.version, actions: [...journal.actions] } : undefined;
    return {
      writes: [{ store: 'system', key: JOURNAL_KEY, value: copy }],
      apply: () => {
        this.journal = copy;
      },
    };
  }
}
