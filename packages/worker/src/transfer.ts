import { transferHandlers, type TransferHandler } from 'comlink';
import { KalamError, type ErrorCode, type KalamErrorShape } from '@kalamlite/engine';

/**
 * A thrown value as it crosses the worker boundary. Always a KalamError's
 * shape: plain Errors and other thrown values become INTERNAL errors on the
 * way out, so the page only ever catches KalamError.
 */
export interface ThrownShape extends KalamErrorShape {
  stack?: string;
}

/** Comlink hands the 'throw' handler `{ value }` wrapped in a private marker. */
interface Thrown {
  value: unknown;
}

/**
 * Anything thrown, as a KalamError: the one place a failure is converted on
 * either side of the worker boundary. A value that cannot cross it (a
 * function, a symbol, a Proxy: structured clone refuses it before the engine
 * sees it) is INVALID_PARAMETER; other unknown failures become INTERNAL.
 */
export function asKalamError(e: unknown): KalamError {
  if (e instanceof KalamError) return e;
  if (e instanceof Error && e.name === 'DataCloneError') {
    return new KalamError(
      'INVALID_PARAMETER',
      `A value cannot be sent to the database worker: ${e.message}. Pass parameters as null, booleans, numbers, bigints, strings, Uint8Arrays, Dates or JSON values, and options as plain data (no functions, symbols or Proxies).`,
    );
  }
  const message = e instanceof Error ? e.message : String(e);
  const error = new KalamError(
    'INTERNAL',
    `Internal error: ${message}. This is a bug in kalamlite; please report it with the statement that caused it.`,
  );
  if (e instanceof Error && e.stack !== undefined) error.stack = e.stack;
  return error;
}

/**
 * `methods` with every method failing only with a KalamError (see
 * asKalamError), a synchronous throw included: the one error wrapper of an
 * API object. Each method becomes async.
 */
export function guarded<T extends { [K in keyof T]: (...args: never[]) => Promise<unknown> }>(methods: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(methods) as [string, (...args: unknown[]) => Promise<unknown>][]) {
    wrapped[name] = async (...args: unknown[]) => {
      try {
        return await method.apply(methods, args);
      } catch (e) {
        throw asKalamError(e);
      }
    };
  }
  return wrapped as T;
}

export function serializeThrown(e: unknown): ThrownShape {
  const error = asKalamError(e);
  const shape: ThrownShape = { code: error.code, message: error.message };
  if (error.position !== undefined) shape.position = error.position;
  if (error.stack !== undefined) shape.stack = error.stack;
  return shape;
}

export function deserializeThrown(shape: ThrownShape): KalamError {
  const error = new KalamError(shape.code as ErrorCode, shape.message, shape.position);
  // The worker's stack says where the failure happened; the page's would
  // only point into Comlink.
  if (shape.stack !== undefined) error.stack = shape.stack;
  return error;
}

const INSTALLED = Symbol.for('kalamlite.throwHandler');

/**
 * Replaces Comlink's 'throw' handler so a KalamError crosses the boundary
 * with `code`, `message` and `position` intact and arrives as a real
 * KalamError. Must run on both sides (worker and page); idempotent.
 */
export function installKalamErrorTransfer(): void {
  const builtIn = transferHandlers.get('throw') as (TransferHandler<unknown, unknown> & { [INSTALLED]?: true }) | undefined;
  if (builtIn === undefined || builtIn[INSTALLED]) return;
  const handler: TransferHandler<Thrown, ThrownShape> & { [INSTALLED]: true } = {
    [INSTALLED]: true,
    // Comlink marks thrown values with a private symbol only its own handler
    // can test for, so detection is delegated to it.
    canHandle: (value: unknown): value is Thrown => builtIn.canHandle(value),
    serialize: ({ value }) => [serializeThrown(value), []],
    deserialize: (shape) => {
      throw deserializeThrown(shape);
    },
  };
  transferHandlers.set('throw', handler as TransferHandler<unknown, unknown>);
}
