/**
 * The one error a full disk reaches a user as, whichever backend hit it.
 * Backends call it after making sure nothing of the refused batch was
 * applied, so the message can promise that.
 */
import { KalamError } from '../core/errors';

/** True for the browser's quota failure (a DOMException, or an Error of that name from a polyfill). */
export function isQuotaError(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'QuotaExceededError';
}

export function quotaExceeded(action: string): KalamError {
  return new KalamError(
    'QUOTA_EXCEEDED',
    `Storage quota exceeded while ${action}: the browser refused to store more data for this site, and nothing of this write was saved (everything committed before it is intact). Free space by deleting rows or dropping tables, or ask for persistent storage (navigator.storage.persist()), then retry.`,
  );
}
