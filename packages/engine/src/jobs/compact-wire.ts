/**
 * The messages between the engine and a compaction helper worker
 * (compact-offload.ts, compact-helper.ts): one merge at a time per helper,
 * every message carrying the merge's `id` and each request a `req` its
 * reply names.
 *
 *   engine → helper: merge {t, user, inputs, options, idb?} · cancel ·
 *                    bytes {req, bytes | error} · written {req, meta | error}
 *   helper → engine: read {req, input, group} · segment {req, meta, bytes?} ·
 *                    remove {req, segment} · done {result} · aborted ·
 *                    error {code, message}
 */
import { KalamError, type ErrorCode } from '../core/errors';
import type { TableDef } from '../core/schema';
import type { SegmentMeta } from '../storage/cold/types';
import type { MergeResult } from './merge-rows';

/** What the engine sends to start a merge. */
export interface MergeRequest {
  readonly type: 'merge';
  readonly id: number;
  readonly t: TableDef;
  readonly user: string;
  readonly inputs: readonly SegmentMeta[];
  readonly options: { rowGroupRows: number; maxSegmentRows: number; rowPageRows: number; cutoffMs: number; collectPurged: boolean };
  /** The IndexedDB database whose `segments` store holds the segments: the helper reads the inputs' and writes the outputs' bytes there itself (else it asks for them and hands them over). */
  readonly idb?: { readonly name: string; readonly durability: 'relaxed' | 'strict' };
}

export type ToHelper =
  | MergeRequest
  | { readonly type: 'cancel'; readonly id: number }
  | { readonly type: 'bytes'; readonly id: number; readonly req: number; readonly bytes?: Uint8Array; readonly error?: WireError }
  | { readonly type: 'written'; readonly id: number; readonly req: number; readonly meta?: SegmentMeta; readonly error?: WireError };

export type FromHelper =
  | { readonly type: 'read'; readonly id: number; readonly req: number; readonly input: number; readonly group: number }
  /** An output's entry to commit, and its bytes to write — or none: the helper writes them itself once the entry is committed (`idb`). */
  | { readonly type: 'segment'; readonly id: number; readonly req: number; readonly meta: SegmentMeta; readonly bytes?: Uint8Array[] }
  | { readonly type: 'remove'; readonly id: number; readonly req: number; readonly segment: string }
  | { readonly type: 'done'; readonly id: number; readonly result: MergeResult }
  | { readonly type: 'aborted'; readonly id: number }
  | { readonly type: 'error'; readonly id: number; readonly error: WireError };

/** An error as it crosses threads: a KalamError's code kept. */
export interface WireError {
  readonly code?: ErrorCode;
  readonly message: string;
}

export const toWire = (e: unknown): WireError => (e instanceof KalamError ? { code: e.code, message: e.message } : { message: e instanceof Error ? e.message : String(e) });
export const fromWire = (e: WireError): Error => (e.code ? new KalamError(e.code, e.message) : new Error(e.message));

/** The buffers of `views` that each view covers whole, once each: moved to the other thread rather than copied. */
export function transferable(views: readonly Uint8Array[]): ArrayBuffer[] {
  const seen = new Set<ArrayBufferLike>();
  const whole = new Set<ArrayBufferLike>();
  for (const v of views) {
    if (seen.has(v.buffer)) whole.delete(v.buffer);
    else if (v.byteOffset === 0 && v.byteLength === v.buffer.byteLength && v.buffer instanceof ArrayBuffer) whole.add(v.buffer);
    seen.add(v.buffer);
  }
  return [...whole] as ArrayBuffer[];
}

/** A helper's global scope, as the serving code uses it. */
export interface HelperScope {
  postMessage(message: FromHelper, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<ToHelper>) => void): void;
}
