/**
 * Session options (`db.session({ user, role, namespace, client })`), checked
 * in one place: the engine's sessions use it, and a client that makes
 * sessions away from the engine (the worker's page side) calls it so a bad
 * session fails where it is made.
 */
import { DEFAULT_NAMESPACE } from '../catalog/catalog';
import { KalamError } from '../core/errors';
import { shown, thrownMessage } from '../core/json';
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
export function resolveSessionOptions(options: SessionOptions): ResolvedSession {
  let opts: { user: unknown; role: unknown; namespace: unknown; client: unknown } | undefined;
  let isArray = false;
  try {
    isArray = Array.isArray(options);
    // Each option read once: a getter or a Proxy trap runs once, and whatever it throws is reported.
    if (typeof options === 'object' && options !== null && !isArray) opts = { user: options.user, role: options.role, namespace: options.namespace, client: options.client };
  } catch (e) {
    throw invalid(`Session options could not be read: ${thrownMessage(e)}. Pass a plain object { user, role?, namespace?, client? }`);
  }
  if (opts === undefined) {
    throw invalid(`Session options must be an object { user, role?, namespace?, client? }, got ${options === null ? 'null' : isArray ? 'an array' : typeof options}`);
  }
  const role = (opts.role ?? 'user') as Role;
  if (!ROLES.includes(role)) throw invalid(`Unknown role ${shown(role)}: use one of ${ROLES.join(', ')}`);
  if (typeof opts.user !== 'string' || !ID.test(opts.user)) {
    throw invalid(`Invalid user id ${shown(opts.user)}: use 1 to 128 letters, digits, '_', '.', '@' or '-'`);
  }
  if (opts.namespace !== undefined && typeof opts.namespace !== 'string') {
    throw invalid(`A session namespace must be a string when given, got ${opts.namespace === null ? 'null' : typeof opts.namespace}`);
  }
  if (opts.client !== undefined && (typeof opts.client !== 'string' || !ID.test(opts.client))) {
    throw invalid(`Invalid client id ${shown(opts.client)}: use 1 to 128 letters, digits, '_', '.', '@' or '-'`);
  }
  const out: ResolvedSession = { user: opts.user, role, namespace: (opts.namespace ?? DEFAULT_NAMESPACE).toLowerCase() };
  if (opts.client !== undefined) out.client = opts.client;
  return out;
}
