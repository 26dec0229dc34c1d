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
import type { AbortSignalLike } from '../execute/queries';

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

/** Options of one call: `session.query(sql, params, { signal })`, `execute`, `queryArrow` (and a transaction's). */
export interface StatementOptions {
  /** Aborting it cancels the call: the statement stops at its next pause point with QUERY_CANCELLED (a signal already aborted fails at once). */
  signal?: AbortSignal;
}

/**
 * A call's options checked (undefined and null: none), or INVALID_OPTION
 * saying what is allowed. Read once: a getter or Proxy trap that throws is
 * reported, not raised. Hosts (the worker's page side) call it too, so a
 * bad option fails where it is given.
 */
export function resolveStatementOptions(options: unknown): { signal?: AbortSignalLike } {
  if (options === undefined || options === null) return {};
  const invalidOption = (message: string) => new KalamError('INVALID_OPTION', message);
  let signal: unknown;
  try {
    if (typeof options !== 'object' || Array.isArray(options)) {
      throw invalidOption(`Statement options must be an object { signal? }, got ${Array.isArray(options) ? 'an array' : typeof options}`);
    }
    for (const key of Object.keys(options)) {
      if (key !== 'signal' && (options as Record<string, unknown>)[key] !== undefined) throw invalidOption(`Unknown statement option '${key}': the only one is signal (an AbortSignal)`);
    }
    signal = (options as { signal?: unknown }).signal;
    if (signal === undefined || signal === null) return {};
    const s = signal as Partial<AbortSignalLike>;
    if (typeof signal !== 'object' || typeof s.aborted !== 'boolean' || typeof s.addEventListener !== 'function' || typeof s.removeEventListener !== 'function') {
      throw invalidOption(`signal must be an AbortSignal (new AbortController().signal), got ${shown(signal)}`);
    }
  } catch (e) {
    if (e instanceof KalamError) throw e;
    throw invalidOption(`Statement options could not be read: ${thrownMessage(e)}. Pass a plain object { signal }`);
  }
  return { signal: signal as AbortSignalLike };
}
