/**
 * `system.audit_log`: who did what to whom. Every EXECUTE AS USER attempt
 * (allowed or denied) and every user/namespace change is recorded. Kept in
 * the `system` store; bounded by `maxAuditEntries` — the oldest entries are
 * deleted in the same commit that adds a new one past the bound.
 */
import { encodeKey, prefixUpperBound } from '../storage/keys';
import type { KvStore, KvWrite } from '../storage/kv';
import type { Role } from '../core/types';

export interface AuditEntry {
  audit_id: bigint;
  timestamp: number;
  actor_user_id: string;
  actor_role: Role;
  action: string;
  target: string | null;
  subject_user_id: string | null;
  outcome: 'allowed' | 'denied';
  details: string | null;
}

const auditKey = (id: bigint) => encodeKey(['audit', id]);

export class AuditLog {
  /** Oldest first; `entries.length <= max`. */
  private entries: AuditEntry[] = [];

  constructor(readonly max: number) {}

  static async load(kv: KvStore, max: number): Promise<AuditLog> {
    const log = new AuditLog(max);
    const lower = encodeKey(['audit']);
    await kv.scan('system', { lower, upper: prefixUpperBound(lower) }, (_k, v) => {
      log.entries.push(v as AuditEntry);
    });
    return log;
  }

  get size(): number {
    return this.entries.length;
  }

  list(): readonly AuditEntry[] {
    return this.entries;
  }

  /** Storage writes that add `entry` (and drop what falls past the bound), and the apply step. */
  append(entry: AuditEntry): { writes: KvWrite[]; apply: () => void } {
    const overflow = Math.max(0, this.entries.length + 1 - this.max);
    const writes: KvWrite[] = [{ store: 'system', key: auditKey(entry.audit_id), value: entry }];
    for (let i = 0; i < overflow; i++) writes.push({ store: 'system', key: auditKey(this.entries[i].audit_id) });
    return {
      writes,
      apply: () => {
        this.entries.push(entry);
        if (overflow > 0) this.entries.splice(0, overflow);
      },
    };
  }
}
