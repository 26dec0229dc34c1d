/**
 * A range of primary-key values (the row identity: the primary key, or
 * `_seq` for a table without one), as ordered reads of the hot tier and the
 * cold tier take it. Either end may be open; values compare with
 * core/values.ts `compareValues`, the order both tiers keep their rows in.
 */
import type { Value } from '../core/types';
import { compareValues } from '../core/values';

export interface KeyBound {
  value: Value;
  inclusive: boolean;
}

export interface KeyRange {
  lower?: KeyBound;
  upper?: KeyBound;
}

/** Whether `key` lies above the range's lower end. */
export function isAboveLower(range: KeyRange | undefined, key: Value): boolean {
  const lo = range?.lower;
  if (!lo) return true;
  const c = compareValues(key, lo.value);
  return c > 0 || (c === 0 && lo.inclusive);
}

/** Whether `key` lies below the range's upper end. */
export function isBelowUpper(range: KeyRange | undefined, key: Value): boolean {
  const hi = range?.upper;
  if (!hi) return true;
  const c = compareValues(key, hi.value);
  return c < 0 || (c === 0 && hi.inclusive);
}

export const inRange = (range: KeyRange | undefined, key: Value): boolean => isAboveLower(range, key) && isBelowUpper(range, key);

/** True when no key can lie in the range (lower above upper, or equal and not both inclusive). */
export function isEmptyRange(range: KeyRange | undefined): boolean {
  if (!range?.lower || !range.upper) return false;
  let c: number;
  try {
    c = compareValues(range.lower.value, range.upper.value);
  } catch {
    return false;
  }
  return c > 0 || (c === 0 && !(range.lower.inclusive && range.upper.inclusive));
}

/** Index of the first of `count` ascending keys that is not below the range's lower end. */
export function lowerIndex(keyAt: (i: number) => Value, count: number, range: KeyRange | undefined): number {
  const lo = range?.lower;
  if (!lo) return 0;
  let a = 0;
  let b = count;
  while (a < b) {
    const mid = (a + b) >>> 1;
    const c = compareValues(keyAt(mid), lo.value);
    if (c < 0 || (c === 0 && !lo.inclusive)) a = mid + 1;
    else b = mid;
  }
  return a;
}

/** Index after the last of `count` ascending keys that is not above the range's upper end. */
export function upperIndex(keyAt: (i: number) => Value, count: number, range: KeyRange | undefined): number {
  const hi = range?.upper;
  if (!hi) return count;
  let a = 0;
  let b = count;
  while (a < b) {
    const mid = (a + b) >>> 1;
    const c = compareValues(keyAt(mid), hi.value);
    if (c < 0 || (c === 0 && hi.inclusive)) a = mid + 1;
    else b = mid;
  }
  return a;
}

/** Index of `key` among `count` ascending keys, or -1. */
export function findKey(keyAt: (i: number) => Value, count: number, key: Value): number {
  let a = 0;
  let b = count;
  while (a < b) {
    const mid = (a + b) >>> 1;
    const c = compareValues(keyAt(mid), key);
    if (c === 0) return mid;
    if (c < 0) a = mid + 1;
    else b = mid;
  }
  return -1;
}
