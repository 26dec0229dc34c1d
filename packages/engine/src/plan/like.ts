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

/** `_` in a compiled segment (code points are never negative). */
const ANY = -1;

interface Segment {
  /** Code points (case-folded for ILIKE), ANY for `_`. */
  units: number[];
  /** The segment as a string when it has no `_` and no surrogates: found with indexOf. */
  literal?: string;
}

export type LikeMatcher = (value: string) => boolean;

/** Compiles a LIKE pattern once; the matcher then runs per value. */
export function compileLike(pattern: string, caseInsensitive: boolean, escape = '\\'): LikeMatcher {
  const segments: Segment[] = [];
  let units: number[] = [];
  let literal = ''; // literal code units since the last wildcard: decoded together, as a RegExp source would be
  const flush = () => {
    for (const ch of literal) {
      const cp = ch.codePointAt(0)!;
      units.push(caseInsensitive ? foldCodePoint(cp) : cp);
    }
    literal = '';
  };
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (escape !== '' && ch === escape && i + 1 < pattern.length) {
      literal += pattern[++i];
      continue;
    }
    if (ch === '%') {
      flush();
      segments.push(segment(units));
      units = [];
    } else if (ch === '_') {
      flush();
      units.push(ANY);
    } else {
      literal += ch;
    }
  }
  flush();
  segments.push(segment(units));
  // Code points a value without surrogates cannot hold (astral ones, lone surrogates): such a pattern needs the slow path.
  const needsSurrogates = segments.some((s) => s.units.some((u) => u > 0xd7ff && (u < 0xe000 || u > 0xffff)));
  return (value) => {
    const s = caseInsensitive ? foldString(value) : value;
    if (!SURROGATE.test(s)) {
      // One code unit per code point: match on the string itself.
      if (needsSurrogates) return false;
      return matchSegments(s.length, (i) => s.charCodeAt(i), segments, (seg, from) => s.indexOf(seg, from));
    }
    const points: number[] = [];
    for (const ch of s) points.push(ch.codePointAt(0)!);
    return matchSegments(points.length, (i) => points[i], segments);
  };
}

const SURROGATE = /[\uD800-\uDFFF]/;

function segment(units: number[]): Segment {
  const simple = units.every((u) => u !== ANY && (u < 0xd800 || (u > 0xdfff && u <= 0xffff)));
  return simple ? { units, literal: units.map((u) => String.fromCharCode(u)).join('') } : { units };
}

/**
 * Does a value of `length` units (`unit(i)`) match the segments? `indexOf`
 * finds a literal segment in the value when the units are its code units.
 */
function matchSegments(length: number, unit: (i: number) => number, segments: readonly Segment[], indexOf?: (literal: string, from: number) => number): boolean {
  const matchAt = (at: number, seg: Segment): boolean => {
    const u = seg.units;
    for (let j = 0; j < u.length; j++) if (u[j] !== ANY && u[j] !== unit(at + j)) return false;
    return true;
  };
  const first = segments[0];
  if (segments.length === 1) return length === first.units.length && matchAt(0, first);
  const last = segments[segments.length - 1];
  const end = length - last.units.length; // where the last segment starts
  if (end < first.units.length || !matchAt(0, first) || !matchAt(end, last)) return false;
  let pos = first.units.length;
  for (let k = 1; k < segments.length - 1; k++) {
    const seg = segments[k];
    const n = seg.units.length;
    if (n === 0) continue;
    const latest = end - n; // the segment must end before the last one starts
    let found = -1;
    if (seg.literal !== undefined && indexOf) {
      const at = indexOf(seg.literal, pos);
      if (at >= 0 && at <= latest) found = at;
    } else {
      for (let at = pos; at <= latest; at++) {
        if (matchAt(at, seg)) {
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
