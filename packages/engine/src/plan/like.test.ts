import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileLike, foldCodePoint } from './like';

/** The RegExp LIKE used before compileLike (plan/compile.ts): the reference where it is fast. */
function likeRegex(pattern: string, caseInsensitive: boolean, escape = '\\'): RegExp {
  let src = '^';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (escape !== '' && ch === escape && i + 1 < pattern.length) { src += escapeRe(pattern[++i]); continue; }
    if (ch === '%') src += '[\\s\\S]*';
    else if (ch === '_') src += '[\\s\\S]';
    else src += escapeRe(ch);
  }
  return new RegExp(src + '$', caseInsensitive ? 'iu' : 'u');
}
const escapeRe = (ch: string) => ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const like = (value: string, pattern: string, ci = false, escape = '\\') => compileLike(pattern, ci, escape)(value);

describe('LIKE matcher', () => {
  it('matches % (any run, newlines too), _ (one character) and literals, anchored at both ends', () => {
    expect(like('hello', 'h%o')).toBe(true);
    expect(like('hello', 'h_llo')).toBe(true);
    expect(like('hello', 'h_lo')).toBe(false);
    expect(like('hello', 'hell')).toBe(false);
    expect(like('hello', '%ell%')).toBe(true);
    expect(like('a\nb', 'a%b')).toBe(true);
    expect(like('a\nb', 'a_b')).toBe(true);
    expect(like('', '')).toBe(true);
    expect(like('', '%')).toBe(true);
    expect(like('', '_')).toBe(false);
    expect(like('abcabc', '%b_a%')).toBe(true);
    expect(like('aXbXc', 'a%b%c')).toBe(true);
    expect(like('ab', 'a%b%c')).toBe(false);
    expect(like('abab', '%ab%ab')).toBe(true);
    expect(like('aba', '%ab%ab')).toBe(false); // the last segment may not overlap the one before
  });

  it('escapes with backslash by default, with the ESCAPE character given, or not at all', () => {
    expect(like('50%', '50\\%')).toBe(true);
    expect(like('500', '50\\%')).toBe(false);
    expect(like('a_b', 'a!_b', false, '!')).toBe(true);
    expect(like('axb', 'a!_b', false, '!')).toBe(false);
    expect(like('a\\b', 'a\\b', false, '')).toBe(true);
    expect(like('ab\\', 'ab\\')).toBe(true); // a trailing escape is itself
    expect(like('a%', 'a%%', false, '%')).toBe(true); // %% is a literal % when % is the escape
  });

  it('treats _ as one code point and compares case-insensitively by Unicode case folding for ILIKE', () => {
    expect(like('a😀b', 'a_b')).toBe(true);
    expect(like('a😀b', 'a__b')).toBe(false);
    expect(like('STRASSE', 'strasse', true)).toBe(true);
    expect(like('Kelvin', '\u212Aelvin', true)).toBe(true); // KELVIN SIGN folds to k
    expect(like('ΣΊΣΥΦΟΣ', 'σίσυφος', true)).toBe(true); // final sigma folds with sigma
    expect(like('I', 'ı', true)).toBe(false); // dotless i does not fold to i
    expect(like('𐐀', '𐐨', true)).toBe(true); // Deseret, outside the BMP
  });

  it('answers the backtracking case at once, and a long pattern in linear time', () => {
    expect(like('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaab', '%a%a%a%a%a%a%a%a%a%a%a%a%a%a%c')).toBe(false);
    expect(like('a'.repeat(40) + 'c', '%a'.repeat(30) + '%c')).toBe(true);
    const big = 'a%_'.repeat(100_000); // 300,000 characters: beyond what V8 builds as a RegExp
    expect(like('ab'.repeat(100_000), big)).toBe(true);
    expect(like('a'.repeat(100_000), big)).toBe(false);
    expect(like('x'.repeat(200_000) + 'needle' + 'y'.repeat(10), '%needle_%', true)).toBe(true);
  });

  it('agrees with the RegExp it replaced on random small patterns and values', () => {
    const alphabet = ['a', 'b', 'A', 'B', '%', '_', '\\', '!', '\n', 'ß', 'ẞ', 'K', 'k', '\u212A', 'ſ', 's', 'S', 'ς', 'σ', 'Σ', 'ı', 'i', 'I', 'İ', '😀', '𐐀', '𐐨', '\uD83D', '\uDE00'];
    const text = (max: number) => fc.array(fc.constantFrom(...alphabet), { maxLength: max }).map((a) => a.join(''));
    fc.assert(
      fc.property(text(8), text(10), fc.boolean(), fc.constantFrom('\\', '!', '', '%', '_', '\uD83D'), (pattern, value, ci, escape) => {
        expect([pattern, value, ci, escape, compileLike(pattern, ci, escape)(value)]).toEqual([pattern, value, ci, escape, likeRegex(pattern, ci, escape).test(value)]);
      }),
      { numRuns: 3000, seed: 12 },
    );
  });

  it('folds every cased code point as the RegExp iu flags do', () => {
    const same = (a: number, b: number) => new RegExp(`^${escapeRe(String.fromCodePoint(a))}$`, 'iu').test(String.fromCodePoint(b));
    const single = (s: string) => (s.length > 0 && String.fromCodePoint(s.codePointAt(0)!) === s ? s.codePointAt(0)! : undefined);
    let checked = 0;
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const ch = String.fromCodePoint(cp);
      const lower = ch.toLowerCase();
      const upper = ch.toUpperCase();
      if (lower === ch && upper === ch) continue;
      checked++;
      const f = foldCodePoint(cp);
      if (!same(cp, f)) expect([cp.toString(16), 'folds to', f.toString(16)]).toEqual([cp.toString(16), 'folds to', 'an equal code point']);
      for (const other of [single(lower), single(upper)]) {
        if (other === undefined) continue;
        if (same(cp, other) !== (f === foldCodePoint(other))) expect([cp.toString(16), other.toString(16), same(cp, other)]).toEqual([cp.toString(16), other.toString(16), f === foldCodePoint(other)]);
      }
    }
    expect(checked).toBeGreaterThan(2000);
  });
});
