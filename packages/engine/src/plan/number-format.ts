/**
 * to_char(number, fmt) with PostgreSQL's numeric template patterns (§9.8,
 * Table 9.32), the common subset: `9` (a digit, blank when a leading
 * zero), `0` (a digit, zero kept), `.` and `D` (the decimal point), `,`
 * and `G` (a group separator, printed only between digits), `S` (the
 * sign, where it is written), `MI` (a trailing minus), `PL` (a plus sign),
 * `FM` (no padding). Without S, MI or PL, one position before the digits
 * holds the sign: `-` or a blank. A value with more integer digits than
 * the template has is printed as `#` in every digit position. Other
 * letters are an error naming the supported patterns.
 */
import { KalamError } from '../core/errors';

interface Template {
  fm: boolean;
  /** Integer positions, left to right: '9', '0' or ',' (a group separator). */
  int: string[];
  /** Fraction positions: '9' or '0'. */
  frac: string[];
  point: boolean;
  sign: 'leading' | 'S-before' | 'S-after' | 'MI' | 'PL';
}

function readTemplate(fmt: string): Template {
  const t: Template = { fm: false, int: [], frac: [], point: false, sign: 'leading' };
  const up = fmt.toUpperCase();
  for (let i = 0; i < up.length;) {
    const two = up.slice(i, i + 2);
    if (two === 'FM') { t.fm = true; i += 2; continue; }
    if (two === 'MI') { t.sign = 'MI'; i += 2; continue; }
    if (two === 'PL') { t.sign = 'PL'; i += 2; continue; }
    const c = up[i++];
    if (c === '9' || c === '0') (t.point ? t.frac : t.int).push(c);
    else if (c === '.' || c === 'D') t.point = true;
    else if (c === ',' || c === 'G') { if (!t.point) t.int.push(','); }
    else if (c === 'S') t.sign = t.int.length === 0 && !t.point ? 'S-before' : 'S-after';
    else throw new KalamError('INVALID_PARAMETER', `to_char(): '${fmt[i - 1]}' is not a numeric template pattern: the patterns are 9 0 . D , G S MI PL FM`);
  }
  return t;
}

export function formatNumber(value: number | bigint, fmt: string): string {
  const t = readTemplate(fmt);
  const negative = typeof value === 'bigint' ? value < 0n : value < 0 || Object.is(value, -0);
  const abs = typeof value === 'bigint' ? (negative ? -value : value).toString() : Math.abs(value).toFixed(Math.min(t.frac.length, 100));
  const [intText, fracText = ''] = abs.split('.');
  const digits = t.int.filter((c) => c !== ',').length;
  const intDigits = intText === '0' && !t.int.includes('0') ? '' : intText.replace(/^0+(?=\d)/, '');
  let intOut = '';
  if (intDigits.length > digits) {
    intOut = t.int.map((c) => (c === ',' ? ',' : '#')).join('');
  } else {
    // Right to left: digits of the value, then '0' from the first 0 position leftwards on, else blanks.
    const firstZero = t.int.indexOf('0');
    let k = intDigits.length - 1;
    let printed = false;
    for (let i = t.int.length - 1; i >= 0; i--) {
      const c = t.int[i];
      if (c === ',') { intOut = (printed && (k >= 0 || (firstZero >= 0 && i > firstZero)) ? ',' : t.fm ? '' : ' ') + intOut; continue; }
      if (k >= 0) { intOut = intDigits[k--] + intOut; printed = true; }
      else if (firstZero >= 0 && i >= firstZero) { intOut = '0' + intOut; printed = true; }
      else if (!t.fm) intOut = ' ' + intOut;
    }
  }
  let frac = t.point ? '.' + fracText : '';
  if (t.fm && t.point) {
    // FM drops trailing zeros that stand in 9 positions.
    let end = frac.length;
    while (end > 1 && frac[end - 1] === '0' && t.frac[end - 2] === '9') end--;
    frac = frac.slice(0, end);
  }
  const lead = intOut.length - intOut.trimStart().length;
  const body = intOut.trimStart() + frac;
  const pad = intOut.slice(0, lead);
  switch (t.sign) {
    case 'leading': return pad + (negative ? '-' : t.fm ? '' : ' ') + body;
    case 'S-before': return pad + (negative ? '-' : '+') + body;
    case 'S-after': return pad + body + (negative ? '-' : '+');
    case 'MI': return pad + body + (negative ? '-' : t.fm ? '' : ' ');
    case 'PL': return pad + (negative ? '-' : '+') + body;
  }
}
