/**
 * readFile as another user (`session.readFile(ref, { asUser })`), with
 * EXECUTE AS USER's rules (auth/permissions.ts): the actor's role must be
 * allowed to target the user's role (a user session: only itself), a
 * SHARED table's file is refused (as EXECUTE AS refuses SHARED tables), and
 * the file is then read as that user would read it (FILE_NOT_FOUND for a
 * file of another partition). Every attempt is written to
 * system.audit_log (action EXECUTE_AS_USER, details read_file…). Part of the
 * file code's chunk (imported by files.ts only).
 */
import { canImpersonate, canImpersonateOn, impersonationDenied, impersonationTableDenied } from '../auth/permissions';
import type { UserRegistry } from '../auth/users';
import { KalamError, toKalamError } from '../core/errors';
import type { TableDef } from '../core/schema';
import { recordAudit, type AuditContext } from './audit';
import type { SessionState } from './session-state';

/** session.readFile's options. */
export interface ReadFileOptions {
  /** Read as this user, as EXECUTE AS USER runs a statement (see the file comment). */
  asUser?: string;
}

/** What reading as another user needs of the engine. */
export interface ReadFileHost extends AuditContext {
  readonly users: UserRegistry;
  assertOpen(): void;
}

/** The read files.ts does: `checkTable` judges the file's table before its partition's read check. */
interface FileReader {
  read(state: SessionState, ref: unknown, checkTable?: (t: TableDef) => void): Promise<Blob>;
}

/** The `asUser` of readFile's options, checked (INVALID_OPTION). */
export function checkReadFileOptions(options: unknown): string | undefined {
  if (options === undefined || options === null) return undefined;
  const isObject = typeof options === 'object' && !Array.isArray(options);
  const asUser = isObject ? (options as ReadFileOptions).asUser : undefined;
  if (!isObject || Object.keys(options).some((k) => k !== 'asUser') || (asUser !== undefined && (typeof asUser !== 'string' || asUser === ''))) {
    throw new KalamError('INVALID_OPTION', "readFile() options are { asUser?: string }: the user to read as, with EXECUTE AS USER's rules (for example { asUser: 'alice' })");
  }
  return asUser;
}

export async function readAs(host: ReadFileHost, files: FileReader, state: SessionState, ref: unknown, asUser: string): Promise<Blob> {
  const actor = { user: state.user, role: state.role };
  const target = { user: asUser, role: host.users.roleOf(asUser) };
  const audit = (outcome: 'allowed' | 'denied', details: string) =>
    recordAudit(host, { actor, action: 'EXECUTE_AS_USER', target: null, subject: asUser, outcome, details });
  if (!canImpersonate(actor, target)) {
    await audit('denied', 'read_file: role_not_allowed');
    throw impersonationDenied(actor, target);
  }
  let blob: Blob;
  try {
    blob = await files.read({ ...state, ...target }, ref, (t) => {
      if (!canImpersonateOn(t)) throw impersonationTableDenied(t);
    });
  } catch (e) {
    await audit('denied', `read_file: ${toKalamError(e).code}`);
    throw e;
  }
  await audit('allowed', 'read_file');
  return blob;
}
