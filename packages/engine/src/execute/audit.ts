/** Entries of system.audit_log, as changes that join a unit of work. */
import type { SeqGenerator } from '../core/ids';
import type { Role } from '../core/types';
import type { StateChange, UnitOfWork } from '../storage/unit-of-work';
import type { AuditLog } from '../system/audit';

export interface AuditContext {
  readonly audit: AuditLog;
  readonly seq: SeqGenerator;
  commit(unit: UnitOfWork): Promise<void>;
}

export interface AuditRecord {
  actor: { user: string; role: Role };
  action: string;
  target: string | null;
  subject: string | null;
  outcome: 'allowed' | 'denied';
  details: string | null;
}

/** One audit entry as a state change (bounded: the oldest entry past `maxAuditEntries` is deleted with it). */
export function auditEntry(ctx: AuditContext, r: AuditRecord): StateChange {
  return ctx.audit.append({
    audit_id: ctx.seq.next(),
    timestamp: Date.now(),
    actor_user_id: r.actor.user,
    actor_role: r.actor.role,
    action: r.action,
    target: r.target,
    subject_user_id: r.subject,
    outcome: r.outcome,
    details: r.details,
  });
}

/** Writes one audit entry in a commit of its own. */
export function recordAudit(ctx: AuditContext, r: AuditRecord): Promise<void> {
  return ctx.commit({ state: [auditEntry(ctx, r)] });
}
