/**
 * LIKE / ILIKE matching without a RegExp built from the pattern (which can
 * backtrack exponentially: `%a%a%a…%c` against `aaa…b`, and which V8
 * refuses outright past a size). The pattern is cut at each `%` into
 * segments of code points and `_` wildcards; the first segment must match
 * at the start, the last at the end, and each one between at its leftmost
 * place after the previous — leftmost is always right, since a later `%`
 * can absorb whatever an earlier choice leaves. That is at most
 * O(value × pattern) steps (O(value + pattern) for the usual patterns,
 * whose literal segments are found with indexOf), never exponential.
 *
 * Semantics are those of the RegExp it replaces (`likeRegex`): `_` is one
 * code point, `%` any run of them (newlines too), the escape character
 * (backslash unless given; '' for none) makes the next character literal
 * and is literal itself at the end of the pattern, and ILIKE compares code
 * points under the Unicode simple case folding the RegExp `iu` flags use.
 */

/** `_` in a compiled pattern (code points are never negative). */
const ANY = -1;

/** A pattern cut at its `%`s: segment k is units[starts[k], starts[k + 1]). */
interface Compiled {
  /** Code points (case-folded for ILIKE), ANY for `_`. */
  units: number[];
  starts: number[];
  /** Per segment: its text when it has no `_` and no code point outside the BMP (found with indexOf), else null. */
  literals: (string | null)[];
}

export type LikeMatcher = (value: string) => boolean;

/** Compiles a LIKE pattern once; the matcher then runs per value. */
export function compileLike(pattern: string, caseInsensitive: boolean, escape = '\\'): LikeMatcher {
  const units: number[] = [];
  const starts = [0];
  let simple = true; // the current segment has no `_` and no surrogates
  const simples: boolean[] = [];
  // Literal code units since the last wildcard: a surrogate pair among them is one code point (even across an
  // escape), as it was in the RegExp source this replaces.
  let high = -1;
  const literal = (unit: number) => {
    if (high >= 0) {
      if (unit >= 0xdc00 && unit <= 0xdfff) {
        push(0x10000 + ((high - 0xd800) << 10) + (unit - 0xdc00));
        high = -1;
        return;
      }
      push(high);
      high = -1;
    }
    if (unit >= 0xd800 && unit <= 0xdbff) high = unit;
    else push(unit);
  };
  const push = (cp: number) => {
    if (cp >= 0xd800) simple &&= cp > 0xdfff && cp <= 0xffff;
    units.push(caseInsensitive ? foldCodePoint(cp) : cp);
  };
  const endLiteral = () => {
    if (high >= 0) push(high);
    high = -1;
  };
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charCodeAt(i);
    if (escape !== '' && c === escape.charCodeAt(0) && i + 1 < pattern.length) {
      literal(pattern.charCodeAt(++i));
    } else if (c === 37) { // %
      endLiteral();
      starts.push(units.length);
      simples.push(simple);
      simple = true;
    } else if (c === 95) { // _
      endLiteral();
      units.push(ANY);
      simple = false;
    } else {
      literal(c);
    }
  }
  endLiteral();
  starts.push(units.length);
  simples.push(simple);
  const compiled: Compiled = { units, starts, literals: simples.map((ok, k) => (ok ? textOf(units, starts[k], starts[k + 1]) : null)) };
  // Code points a value without surrogates cannot hold (outside the BMP, lone surrogates): such a pattern needs the slow path.
  const needsSurrogates = units.some((u) => u >= 0xd800 && (u <= 0xdfff || u > 0xffff));
  return (value) => {
    const s = caseInsensitive ? foldString(value) : value;
    if (!SURROGATE.test(s)) {
      // One code unit per code point: match on the string itself.
      if (needsSurrogates) return false;
      return matchSegments(s.length, (i) => s.charCodeAt(i), compiled, (text, from) => s.indexOf(text, from));
    }
    const points: number[] = [];
    for (const ch of s) points.push(ch.codePointAt(0)!);
    return matchSegments(points.length, (i) => points[i], compiled);
  };
}

const SURROGATE = /[\uD800-\uDFFF]/;

/** units[from, to) (BMP code points) as a string. */
function textOf(units: readonly number[], from: number, to: number): string {
  let out = '';
  for (let i = from; i < to; i++) out += String.fromCharCode(units[i]);
  return out;
}

/**
 * Does a value of `length` units (`unit(i)`) match the compiled pattern?
 * `indexOf` finds a segment's text in the value when the units are its
 * code units. The first segment must match at the start, the last at the
 * end, each between at its leftmost place after the one before.
 */
function matchSegments(length: number, unit: (i: number) => number, p: Compiled, indexOf?: (text: string, from: number) => number): boolean {
  const { units, starts, literals } = p;
  const matchAt = (at: number, from: number, to: number): boolean => {
    for (let j = from; j < to; j++) if (units[j] !== ANY && units[j] !== unit(at + j - from)) return false;
    return true;
  };
  const segments = starts.length - 1;
  const firstLength = starts[1];
  if (segments === 1) return length === firstLength && matchAt(0, 0, firstLength);
  const lastFrom = starts[segments - 1];
  const end = length - (units.length - lastFrom); // where the last segment starts
  if (end < firstLength || !matchAt(0, 0, firstLength) || !matchAt(end, lastFrom, units.length)) return false;
  let pos = firstLength;
  for (let k = 1; k < segments - 1; k++) {
    const from = starts[k];
    const n = starts[k + 1] - from;
    if (n === 0) continue;
    const latest = end - n; // the segment must end before the last one starts
    let found = -1;
    const text = literals[k];
    if (text !== null && indexOf) {
      const at = indexOf(text, pos);
      if (at >= 0 && at <= latest) found = at;
    } else {
      for (let at = pos; at <= latest; at++) {
        if (matchAt(at, from, from + n)) {
          found = at;
          break;
        }
      }
    }
    if (found < 0) return false;
    pos = found + n;
  }
  return true;
}

/** A string with every code point case-folded (foldCodePoint); folding never changes a code point's UTF-16 length. */
function foldString(s: string): string {
  if (ASCII.test(s)) return s.toLowerCase();
  let out = '';
  for (const ch of s) out += String.fromCodePoint(foldCodePoint(ch.codePointAt(0)!));
  return out;
}

const ASCII = /^[\x00-\x7f]*$/;

/** Folds with no single-code-point case mapping that reaches them. */
const FOLD_EXTRA = new Map([[0x1fd3, 0x390], [0x1fe3, 0x3b0], [0xfb05, 0xfb06]]);

/**
 * One representative per class of code points the RegExp `iu` flags treat
 * as equal (Unicode simple case folding): the lower case of the code point,
 * or of its upper case where that is a single code point that folds the
 * same way (ſ, ς, ϐ, µ, K …). Checked against the RegExp for every cased
 * code point (like.test.ts); ı (dotless i) folds to itself, as it does there.
 */
export function foldCodePoint(cp: number): number {
  if (cp < 128) return cp >= 65 && cp <= 90 ? cp + 32 : cp;
  const extra = FOLD_EXTRA.get(cp);
  if (extra !== undefined) return extra;
  let x = single(String.fromCodePoint(cp).toLowerCase()) ?? cp;
  if (x === 0x131) return x;
  const upper = single(String.fromCodePoint(x).toUpperCase());
  if (upper !== undefined) {
    const lower = single(String.fromCodePoint(upper).toLowerCase());
    if (lower !== undefined) x = lower;
  }
  return x;
}

/** The code point of a one-code-point string, else undefined. */
function single(s: string): number | undefined {
  const cp = s.codePointAt(0);
  return cp !== undefined && (cp > 0xffff ? 2 : 1) === s.length ? cp : undefined;
}
