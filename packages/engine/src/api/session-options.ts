/**
 * Session options (`db.session({ user, role, namespace, client })`), checked
 * in one place: the engine's sessions use it, and a client that makes
 * sessions away from the engine (the worker's page side) calls it so a bad
 * session fails where it is made.
 */
import { DEFAULT_NAMESPACE } from '../catalog/catalog';
import { KalamError } from '../core/errors';
import { ROLES, type Role, type SessionOptions } from '../core/types';

const ID = /^[A-Za-z0-9_.@-]{1,128}$/;

export interface ResolvedSession {
  user: string;
  role: Role;
  namespace: string;
  client?: string;
}

const invalid = (message: string) => new KalamError('INVALID_PARAMETER', message);

/** The session options with defaults filled in (role 'user', namespace 'default'), or INVALID_PARAMETER saying what is wrong. */
export function resolveSessionOptions(opts: SessionOptions): ResolvedSession {
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) {
    throw invalid(`Session options must be an object { user, role?, namespace?, client? }, got ${opts === null ? 'null' : Array.isArray(opts) ? 'an array' : typeof opts}`);
  }
  const role = opts.role ?? 'user';
  if (!ROLES.includes(role)) throw invalid(`Unknown role '${String(role)}': use one of ${ROLES.join(', ')}`);
  if (typeof opts.user !== 'string' || !ID.test(opts.user)) {
    throw invalid(`Invalid user id '${String(opts.user)}': use 1 to 128 letters, digits, '_', '.', '@' or '-'`);
  }
  if (opts.namespace !== undefined && typeof opts.namespace !== 'string') {
    throw invalid(`A session namespace must be a string when given, got ${opts.namespace === null ? 'null' : typeof opts.namespace}`);
  }
  if (opts.client !== undefined && (typeof opts.client !== 'string' || !ID.test(opts.client))) {
    throw invalid(`Invalid client id '${String(opts.client)}': use 1 to 128 letters, digits, '_', '.', '@' or '-'`);
  }
  const out: ResolvedSession = { user: opts.user, role, namespace: (opts.namespace ?? DEFAULT_NAMESPACE).toLowerCase() };
  if (opts.client !== undefined) out.client = opts.client;
  return out;
}
