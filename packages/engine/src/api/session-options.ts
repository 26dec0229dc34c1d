/**
 * Session options (`db.session({ user, role, namespace, client })`), checked
 * in one place: the engine's sessions use it, and a client that makes
 * sessions away from the engine (the worker's page side) calls it so a bad
 * session fails where it is made.
 */
import { DEFAULT_NAMESPACE } from '../core/defaults';
import { KalamError } from '../core/errors';
import { shown, thrownMessage } from '../core/json';
import { ROLES, type Role, type SessionOptions } from '../core/types';
import { INSERT_MANY_CHUNK_BYTES, INSERT_MANY_CHUNK_ROWS, INSERT_MANY_MAX_CHUNK_ROWS, type InsertManyProgress, type ResolvedInsertManyOptions } from '../execute/insert-chunks';
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

/** Options of `session.insertMany(table, rows, options)`. */
export interface InsertManyOptions {
  /** Called after each chunk commits: rows committed so far (counting `offset`), chunks this call committed. */
  onProgress?: (progress: InsertManyProgress) => void;
  /** Rows per chunk (one commit) at most. Default 5,000; at most 100,000. */
  chunkRows?: number;
  /** Rough bytes of row values per chunk at most (a chunk ends at whichever bound it reaches first). Default 4 MiB. */
  chunkBytes?: number;
  /** Rows of the whole input already committed before these (a resumed load): row numbers in errors and `rowsCommitted` count from it. Default 0. */
  offset?: number;
  /** Aborting it stops the load between chunks (a chunk being written writes nothing): QUERY_CANCELLED, with `rowsCommitted`. */
  signal?: AbortSignal;
}

/**
 * insertMany's options checked, defaults filled in, or INVALID_OPTION
 * naming what is allowed. Hosts (the worker's page side) call it too.
 */
export function resolveInsertManyOptions(options: unknown): ResolvedInsertManyOptions {
  const invalidOption = (message: string) => new KalamError('INVALID_OPTION', message);
  if (options === undefined || options === null) return { chunkRows: INSERT_MANY_CHUNK_ROWS, chunkBytes: INSERT_MANY_CHUNK_BYTES, offset: 0 };
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw invalidOption(`insertMany() options must be an object { onProgress?, chunkRows?, chunkBytes?, offset?, signal? }, got ${shown(options)}`);
  }
  let o: Record<string, unknown>;
  try {
    o = { ...(options as Record<string, unknown>) };
  } catch (e) {
    throw invalidOption(`insertMany() options could not be read: ${thrownMessage(e)}. Pass a plain object`);
  }
  const names = ['onProgress', 'chunkRows', 'chunkBytes', 'offset', 'signal'];
  for (const key of Object.keys(o)) {
    if (o[key] !== undefined && !names.includes(key)) throw invalidOption(`Unknown insertMany() option '${key}'. Valid options: ${names.join(', ')}`);
  }
  const count = (key: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const v = o[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
      throw invalidOption(`${key} must be a whole number from ${min} to ${max.toLocaleString('en-US')} (got ${shown(v)})`);
    }
    return v;
  };
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw invalidOption(`onProgress must be a function (got ${shown(o.onProgress)})`);
  const { signal } = resolveStatementOptions({ signal: o.signal });
  const resolved: ResolvedInsertManyOptions = {
    chunkRows: count('chunkRows', INSERT_MANY_CHUNK_ROWS, 1, INSERT_MANY_MAX_CHUNK_ROWS),
    chunkBytes: count('chunkBytes', INSERT_MANY_CHUNK_BYTES, 1),
    offset: count('offset', 0, 0),
  };
  if (o.onProgress !== undefined) resolved.onProgress = o.onProgress as ResolvedInsertManyOptions['onProgress'];
  if (signal !== undefined) resolved.signal = signal;
  return resolved;
}
