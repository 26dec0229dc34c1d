/**
 * `system.users`: the users an app declares (CREATE/ALTER/DROP USER) and
 * their roles. Sessions do not need a row here — the app names the user
 * when it opens a session — but EXECUTE AS USER reads a target's role from
 * here (an unknown id counts as role `user`, as KalamDB does).
 */
import { KalamError } from '../core/errors';
import { encodeKey, prefixUpperBound } from '../storage/keys';
import type { KvStore, KvWrite } from '../storage/kv';
import type { Role } from '../core/types';

export interface UserRecord {
  user_id: string;
  role: Role;
  email: string | null;
  auth_type: 'internal';
  created_at: number;
  updated_at: number;
  /** Set by DROP USER (soft delete). */
  deleted_at: number | null;
}

const userKey = (id: string) => encodeKey(['user', id]);

export const USER_ID_PATTERN = /^[A-Za-z0-9_.@-]{1,128}$/;

export function validateUserId(id: string): string {
  if (!USER_ID_PATTERN.test(id)) {
    throw new KalamError('INVALID_NAME', `Invalid user id '${id}': use 1 to 128 letters, digits, '_', '.', '@' or '-'`);
  }
  return id;
}

export class UserRegistry {
  /** One entry per declared user; bounded by what the app declares, shrunk never (soft delete keeps the row). */
  private readonly users = new Map<string, UserRecord>();

  static async load(kv: KvStore): Promise<UserRegistry> {
    const r = new UserRegistry();
    const lower = encodeKey(['user']);
    await kv.scan('system', { lower, upper: prefixUpperBound(lower) }, (_k, v) => {
      const u = v as UserRecord;
      r.users.set(u.user_id, u);
    });
    return r;
  }

  get(id: string): UserRecord | undefined {
    const u = this.users.get(id);
    return u && u.deleted_at === null ? u : undefined;
  }

  /** The role EXECUTE AS USER assumes for a target. */
  roleOf(id: string): Role {
    return this.get(id)?.role ?? 'user';
  }

  list(): UserRecord[] {
    return [...this.users.values()].sort((a, b) => (a.user_id < b.user_id ? -1 : 1));
  }

  /** Storage writes + apply step for a new or changed record. */
  put(record: UserRecord): { writes: KvWrite[]; apply: () => void } {
    return {
      writes: [{ store: 'system', key: userKey(record.user_id), value: record }],
      apply: () => { this.users.set(record.user_id, record); },
    };
  }
}
