/**
 * Regular expressions for regexp_like / regexp_match / regexp_replace and
 * the `~` operators, matched in linear time: the pattern compiles to a
 * program of at most REGEX_MAX_STATES instructions run as a Pike VM (every
 * thread advances together over the text), so a match costs at most text
 * length × program size steps whatever the pattern — no backtracking, no
 * catastrophic case. A JavaScript RegExp is never built from user input.
 *
 * The syntax is the common part of PostgreSQL's AREs: literals, `.`,
 * bracket expressions (`[a-z]`, `[^…]`, `[[:alpha:]]` and the other POSIX
 * classes), `\d \w \s \D \W \S`, `^ $`, groups `( )` and `(?: )`, `|`,
 * quantifiers `* + ? {m} {m,} {m,n}` and their lazy forms. Back-references,
 * lookaround and word-boundary escapes are refused (UNSUPPORTED). The whole
 * match is the leftmost, then the longest (as PostgreSQL for greedy
 * patterns); with a lazy quantifier, the first by priority. Flags: `i`
 * (case-insensitive), `c` (case-sensitive), `g` (regexp_replace: every match).
 */
import { KalamError } from '../core/errors';

/** The most instructions a compiled pattern may hold (`a{1000}{1000}` would expand to a million). */
export const REGEX_MAX_STATES = 10_000;

type Test = (cp: number) => boolean;
type Node =
  | { t: 'char'; test: Test }
  | { t: 'bol' } | { t: 'eol' }
  | { t: 'cat'; xs: Node[] } | { t: 'alt'; xs: Node[] }
  | { t: 'group'; cap: number | null; x: Node }
  | { t: 'rep'; x: Node; min: number; max: number; greedy: boolean };

type Inst =
  | { op: 'char'; test: Test }
  | { op: 'split'; x: number; y: number }
  | { op: 'jmp'; x: number }
  | { op: 'save'; n: number }
  | { op: 'bol' } | { op: 'eol' } | { op: 'match' };

export interface Regex {
  readonly prog: readonly Inst[];
  /** Capture groups, not counting the whole match. */
  readonly groups: number;
  readonly isLazy: boolean;
}

const unsupported = (what: string) => new KalamError('UNSUPPORTED', `Regular expressions: ${what} is not supported (supported: literals, ., [ ], POSIX classes, \\d \\w \\s, ^ $, ( ), (?: ), |, * + ? {m,n} and lazy forms)`);
const invalid = (what: string) => new KalamError('INVALID_PARAMETER', `Invalid regular expression: ${what}`);

const CLASSES: Record<string, Test> = {
  alpha: (c) => /\p{L}/u.test(String.fromCodePoint(c)),
  digit: (c) => c >= 48 && c <= 57,
  alnum: (c) => /[\p{L}\p{N}]/u.test(String.fromCodePoint(c)),
  upper: (c) => /\p{Lu}/u.test(String.fromCodePoint(c)),
  lower: (c) => /\p{Ll}/u.test(String.fromCodePoint(c)),
  space: (c) => /\s/u.test(String.fromCodePoint(c)),
  punct: (c) => /\p{P}/u.test(String.fromCodePoint(c)),
  xdigit: (c) => /[0-9A-Fa-f]/.test(String.fromCodePoint(c)),
  word: (c) => c === 95 || /[\p{L}\p{N}]/u.test(String.fromCodePoint(c)),
};
const not = (f: Test): Test => (c) => !f(c);
const ESCAPES: Record<string, Test> = { d: CLASSES.digit, w: CLASSES.word, s: CLASSES.space, D: not(CLASSES.digit), W: not(CLASSES.word), S: not(CLASSES.space) };
const LITERAL_ESCAPES: Record<string, number> = { n: 10, t: 9, r: 13, f: 12, v: 11 };

class Parser {
  private i = 0;
  groups = 0;
  isLazy = false;
  constructor(private readonly src: number[], private readonly ci: boolean) {}

  parse(): Node {
    const n = this.alt();
    if (this.i < this.src.length) throw invalid('unmatched )');
    return n;
  }

  private peek(): string | undefined {
    return this.i < this.src.length ? String.fromCodePoint(this.src[this.i]) : undefined;
  }

  private alt(): Node {
    const xs = [this.cat()];
    while (this.peek() === '|') {
      this.i++;
      xs.push(this.cat());
    }
    return xs.length === 1 ? xs[0] : { t: 'alt', xs };
  }

  private cat(): Node {
    const xs: Node[] = [];
    for (let ch = this.peek(); ch !== undefined && ch !== '|' && ch !== ')'; ch = this.peek()) xs.push(this.repeat(this.atom()));
    return { t: 'cat', xs };
  }

  private repeat(x: Node): Node {
    for (;;) {
      const ch = this.peek();
      let min: number;
      let max: number;
      if (ch === '*') [min, max] = [0, Infinity];
      else if (ch === '+') [min, max] = [1, Infinity];
      else if (ch === '?') [min, max] = [0, 1];
      else if (ch === '{' && /^\{\d+(,\d*)?\}/.test(this.rest(12))) {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(this.rest(12))!;
        min = Number(m[1]);
        max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
        if (min > 255 || max < min || (max !== Infinity && max > 255)) throw invalid(`invalid repetition count {${m[1]}${m[2] ?? ''}} (0 to 255)`);
        this.i += m[0].length - 1;
      } else return x;
      this.i++;
      let greedy = true;
      if (this.peek() === '?') {
        greedy = false;
        this.isLazy = true;
        this.i++;
      }
      x = { t: 'rep', x, min, max, greedy };
    }
  }

  private rest(n: number): string {
    return String.fromCodePoint(...this.src.slice(this.i, this.i + n));
  }

  private literal(cp: number): Node {
    if (!this.ci) return { t: 'char', test: (c) => c === cp };
    const s = String.fromCodePoint(cp);
    const [lo, up] = [s.toLowerCase().codePointAt(0), s.toUpperCase().codePointAt(0)];
    return { t: 'char', test: (c) => c === cp || c === lo || c === up };
  }

  private atom(): Node {
    const ch = this.peek()!;
    this.i++;
    switch (ch) {
      case '.': return { t: 'char', test: () => true };
      case '^': return { t: 'bol' };
      case '$': return { t: 'eol' };
      case '(': {
        let cap: number | null = ++this.groups;
        if (this.peek() === '?') {
          if (this.rest(1 + 1) !== '?:') throw unsupported('lookaround and (?…) options');
          this.i += 2;
          cap = null;
          this.groups--;
        }
        const x = this.alt();
        if (this.peek() !== ')') throw invalid('parentheses () not balanced');
        this.i++;
        return { t: 'group', cap, x };
      }
      case ')': throw invalid('parentheses () not balanced');
      case '[': return this.bracket();
      case '*': case '+': case '?': throw invalid(`quantifier operand invalid at ${ch}`);
      case '\\': return this.escape();
      default: return this.literal(ch.codePointAt(0)!);
    }
  }

  private escape(): Node {
    const e = this.peek();
    if (e === undefined) throw invalid('invalid escape \\ at the end of the pattern');
    this.i++;
    if (ESCAPES[e]) return { t: 'char', test: ESCAPES[e] };
    if (LITERAL_ESCAPES[e] !== undefined) return this.literal(LITERAL_ESCAPES[e]);
    if (/[0-9]/.test(e)) throw unsupported('a back-reference (\\1 … \\9)');
    if (/[A-Za-z]/.test(e)) throw unsupported(`the escape \\${e}`);
    return this.literal(e.codePointAt(0)!);
  }

  private bracket(): Node {
    const tests: Test[] = [];
    let negated = false;
    if (this.peek() === '^') {
      negated = true;
      this.i++;
    }
    let first = true;
    for (;;) {
      const ch = this.peek();
      if (ch === undefined) throw invalid('brackets [] not balanced');
      if (ch === ']' && !first) break;
      first = false;
      if (ch === '[' && this.rest(2) === '[:') {
        const m = /^\[:([a-z]+):\]/.exec(this.rest(12));
        if (!m || !CLASSES[m[1]]) throw invalid('invalid character class');
        tests.push(CLASSES[m[1]]);
        this.i += m[0].length;
        continue;
      }
      let lo: number;
      if (ch === '\\') {
        this.i++;
        const e = this.peek();
        if (e === undefined) throw invalid('brackets [] not balanced');
        this.i++;
        if (ESCAPES[e]) {
          tests.push(ESCAPES[e]);
          continue;
        }
        lo = LITERAL_ESCAPES[e] ?? e.codePointAt(0)!;
      } else {
        lo = ch.codePointAt(0)!;
        this.i++;
      }
      let hi = lo;
      if (this.peek() === '-' && this.i + 1 < this.src.length && String.fromCodePoint(this.src[this.i + 1]) !== ']') {
        this.i++;
        hi = this.src[this.i++];
        if (hi < lo) throw invalid('invalid character range');
      }
      tests.push(this.range(lo, hi));
    }
    this.i++;
    const any: Test = (c) => tests.some((t) => t(c));
    return { t: 'char', test: negated ? not(any) : any };
  }

  private range(lo: number, hi: number): Test {
    const inRange: Test = (c) => c >= lo && c <= hi;
    if (!this.ci) return inRange;
    return (c) => {
      const s = String.fromCodePoint(c);
      return inRange(c) || inRange(s.toLowerCase().codePointAt(0)!) || inRange(s.toUpperCase().codePointAt(0)!);
    };
  }
}

/** Compiles `pattern` (flags: i, c, g — g is the caller's). INVALID_PARAMETER for a bad pattern or flag. */
export function compileRegex(pattern: string, flags: string): Regex {
  let ci = false;
  for (const f of flags) {
    if (f === 'i') ci = true;
    else if (f === 'c') ci = false;
    else if (f !== 'g') throw invalid(`invalid regular expression option: "${f}" (supported: i, c, g)`);
  }
  const p = new Parser([...pattern].map((c) => c.codePointAt(0)!), ci);
  const ast = p.parse();
  const prog: Inst[] = [{ op: 'save', n: 0 }];
  emit(ast, prog);
  prog.push({ op: 'save', n: 1 }, { op: 'match' });
  return { prog, groups: p.groups, isLazy: p.isLazy };
}

function emit(n: Node, prog: Inst[]): void {
  if (prog.length > REGEX_MAX_STATES) {
    throw new KalamError('LIMIT_EXCEEDED', `A regular expression compiles to more than ${REGEX_MAX_STATES.toLocaleString('en-US')} states: use fewer or smaller repetition counts`);
  }
  switch (n.t) {
    case 'char': prog.push({ op: 'char', test: n.test }); return;
    case 'bol': prog.push({ op: 'bol' }); return;
    case 'eol': prog.push({ op: 'eol' }); return;
    case 'cat': for (const x of n.xs) emit(x, prog); return;
    case 'group':
      if (n.cap !== null) prog.push({ op: 'save', n: 2 * n.cap });
      emit(n.x, prog);
      if (n.cap !== null) prog.push({ op: 'save', n: 2 * n.cap + 1 });
      return;
    case 'alt': {
      const jumps: Inst[] = [];
      n.xs.forEach((x, k) => {
        if (k < n.xs.length - 1) {
          const split = { op: 'split', x: prog.length + 1, y: 0 } as Extract<Inst, { op: 'split' }>;
          prog.push(split);
          emit(x, prog);
          const j = { op: 'jmp', x: 0 } as Extract<Inst, { op: 'jmp' }>;
          prog.push(j);
          jumps.push(j);
          split.y = prog.length;
        } else emit(x, prog);
      });
      for (const j of jumps) (j as { x: number }).x = prog.length;
      return;
    }
    case 'rep': {
      for (let k = 0; k < n.min; k++) emit(n.x, prog);
      if (n.max === Infinity) {
        const split = { op: 'split', x: 0, y: 0 } as Extract<Inst, { op: 'split' }>;
        const at = prog.length;
        prog.push(split);
        emit(n.x, prog);
        prog.push({ op: 'jmp', x: at });
        [split.x, split.y] = n.greedy ? [at + 1, prog.length] : [prog.length, at + 1];
        return;
      }
      const splits: Extract<Inst, { op: 'split' }>[] = [];
      for (let k = n.min; k < n.max; k++) {
        const split = { op: 'split', x: 0, y: 0 } as Extract<Inst, { op: 'split' }>;
        splits.push(split);
        prog.push(split);
        const body = prog.length;
        emit(n.x, prog);
        split.x = body;
      }
      for (const s of splits) [s.x, s.y] = n.greedy ? [s.x, prog.length] : [prog.length, s.x];
      return;
    }
  }
}

/** One match: capture positions in code points (`caps[0..1]` the whole match; -1 for a group that did not take part). */
export type Captures = Int32Array;

/**
 * The leftmost match of `re` in `text` (code points) starting at or after
 * `from`, or undefined. Time: O((text length - from) × program size).
 */
export function execRegex(re: Regex, text: readonly number[], from: number): Captures | undefined {
  const { prog } = re;
  const width = 2 * (re.groups + 1);
  let clist: { pc: number; caps: Captures }[] = [];
  let nlist: { pc: number; caps: Captures }[] = [];
  const seen = new Int32Array(prog.length).fill(-1);
  let best: Captures | undefined;
  let mark = 0;
  const add = (list: { pc: number; caps: Captures }[], pc0: number, caps0: Captures, at: number): void => {
    const stack: [number, Captures][] = [[pc0, caps0]];
    while (stack.length > 0) {
      const [pc, caps] = stack.pop()!;
      if (seen[pc] === mark) continue;
      seen[pc] = mark;
      const inst = prog[pc];
      switch (inst.op) {
        case 'jmp': stack.push([inst.x, caps]); break;
        case 'split': stack.push([inst.y, caps], [inst.x, caps]); break;
        case 'save': { const c = caps.slice(); c[inst.n] = at; stack.push([pc + 1, c]); break; }
        case 'bol': if (at === 0) stack.push([pc + 1, caps]); break;
        case 'eol': if (at === text.length) stack.push([pc + 1, caps]); break;
        default: list.push({ pc, caps });
      }
    }
  };
  for (let at = from; at <= text.length; at++) {
    mark++;
    if (best === undefined) add(clist, 0, new Int32Array(width).fill(-1), at);
    if (clist.length === 0) {
      if (best !== undefined) break;
      continue;
    }
    mark++;
    for (let k = 0; k < clist.length; k++) {
      const { pc, caps } = clist[k];
      const inst = prog[pc];
      if (inst.op === 'match') {
        // Leftmost first; then the longest (greedy) or the first by priority (lazy): lower-priority threads stop here.
        if (best === undefined || caps[0] < best[0] || (caps[0] === best[0] && caps[1] > best[1])) best = caps;
        if (re.isLazy) break;
        continue;
      }
      if (inst.op === 'char' && at < text.length && inst.test(text[at])) add(nlist, pc + 1, caps, at + 1);
    }
    [clist, nlist] = [nlist, []];
    if (best !== undefined) clist = clist.filter((t) => t.caps[0] <= best![0]);
  }
  return best;
}
