/**
 * `JOIN … USING (a, b)` and NATURAL JOIN as PostgreSQL reads them: the join
 * condition is `left.a = right.a AND left.b = right.b`, where `left` is the
 * one relation joined so far that has the column, and each named column
 * appears once in the output, before the other columns (the last join's
 * first). The copy kept is the side whose rows are always there (the left
 * one for INNER and LEFT JOIN, the right one for RIGHT JOIN; for FULL JOIN
 * the left one, read unqualified as COALESCE(left.a, right.a)); the other
 * copy is marked `merged`, so `*` and unqualified names skip it, and a
 * qualified name (`b.a`) still reads it. NATURAL JOIN is USING over the
 * columns both sides have (none: a cross join); sql/rewrite.ts turns it
 * into `JOIN … USING ("kalamlite_natural")` with the edits made here.
 */
import { KalamError } from '../core/errors';
import type { Expr, FromTable } from '../sql/ast';
import type { Token } from '../sql/lexer';
import { closingParen, type Edit } from '../sql/rewrite';
import type { Scope, ScopeColumn } from './scope';

/** The USING list sql/rewrite.ts gives a NATURAL JOIN. */
const NATURAL_MARKER = 'kalamlite_natural';

/** Words that end a FROM item's alias position. */
const AFTER_ITEM = new Set([
  'ON', 'USING', 'JOIN', 'NATURAL', 'INNER', 'LEFT', 'RIGHT', 'FULL', 'CROSS', 'OUTER', 'WHERE', 'GROUP', 'HAVING', 'ORDER', 'LIMIT',
  'OFFSET', 'FETCH', 'WINDOW', 'UNION', 'INTERSECT', 'EXCEPT', 'RETURNING', 'SET',
]);

/** The edits for `NATURAL [INNER | LEFT | RIGHT | FULL] [OUTER] JOIN item` at tokens[k]: NATURAL dropped, USING (the marker) after the item. */
export function naturalJoinEdits(tokens: readonly Token[], k: number): Edit[] {
  const upper = (i: number) => (tokens[i]?.type === 'word' ? tokens[i].text.toUpperCase() : undefined);
  let j = k + 1;
  while (upper(j) !== undefined && upper(j) !== 'JOIN') {
    if (upper(j) === 'CROSS') throw new KalamError('PARSE_ERROR', 'NATURAL CROSS JOIN is not valid: write CROSS JOIN or NATURAL JOIN', tokens[j].start);
    j++;
  }
  if (upper(j) !== 'JOIN') throw new KalamError('PARSE_ERROR', 'NATURAL must be followed by [INNER | LEFT | RIGHT | FULL] JOIN', tokens[k].start);
  let p = j + 1;
  if (tokens[p]?.text === '(') p = (closingParen(tokens, p) ?? tokens.length - 1) + 1;
  else {
    p++;
    while (tokens[p]?.text === '.') p += 2;
  }
  if (upper(p) === 'AS') p += 2;
  else if (tokens[p]?.type === 'word' && !AFTER_ITEM.has(upper(p)!)) p++;
  if (tokens[p]?.text === '(') p = (closingParen(tokens, p) ?? tokens.length - 1) + 1; // a column alias list
  if (upper(p) === 'ON' || upper(p) === 'USING') throw new KalamError('INVALID_SQL', 'A NATURAL JOIN takes no ON or USING: its condition is the columns both sides have', tokens[p].start);
  const end = tokens[Math.min(p, tokens.length) - 1].end;
  return [
    { start: tokens[k].start, end: tokens[k + 1].start, text: '' },
    { start: end, end, text: ` USING ("${NATURAL_MARKER}")` },
  ];
}

interface Source {
  relation: string;
  from: FromTable;
  scope: Scope;
}

/** `sources` with every USING turned into an ON condition and the merged copies marked. */
export function resolveUsing<S extends Source>(sources: readonly S[]): S[] {
  if (!sources.some((s) => s.from.using)) return [...sources];
  const out = [...sources];
  for (let i = 1; i < out.length; i++) {
    const s = out[i];
    let using = s.from.using;
    if (!using) continue;
    if (using.length === 1 && using[0] === NATURAL_MARKER) {
      // NATURAL: the right side's columns some relation joined so far has too, in the right side's order.
      const joined = out.slice(0, i).flatMap((l) => l.scope.columns.filter((c) => !c.hidden && !c.merged).map((c) => c.name));
      using = s.scope.columns.filter((c) => !c.hidden && joined.includes(c.name)).map((c) => c.name);
    }
    const full = s.from.join === 'full';
    const terms: Expr[] = [];
    for (const [k, name] of using.entries()) {
      const lefts = out.slice(0, i).filter((l) => l.scope.columns.some((c) => c.name === name && !c.hidden && !c.merged));
      if (lefts.length === 0) throw new KalamError('COLUMN_NOT_FOUND', `column "${name}" specified in USING clause does not exist in left table`);
      if (lefts.length > 1) throw new KalamError('AMBIGUOUS_COLUMN', `common column name "${name}" appears more than once in left table: join with ON and qualified names instead`);
      if (!s.scope.columns.some((c) => c.name === name && !c.hidden)) {
        throw new KalamError('COLUMN_NOT_FOUND', `column "${name}" specified in USING clause does not exist in right table`);
      }
      const left = lefts[0];
      terms.push({ kind: 'binary', op: '=', left: { kind: 'column', table: left.relation, name }, right: { kind: 'column', table: s.relation, name } });
      // The copy of the side that may be missing (NULL) is merged into the other; the kept one is listed first by `*`.
      const leftAt = out.indexOf(left);
      const [kept, merged] = s.from.join === 'right' ? [i, leftAt] : [leftAt, i];
      const mark = (at: number, change: Partial<ScopeColumn>) => {
        const side = out[at];
        out[at] = { ...side, scope: side.scope.withColumns(side.scope.columns.map((c) => (c.name === name && !c.hidden && !c.merged ? { ...c, ...change } : c))) };
      };
      mark(kept, full ? { using: i * 1000 - k, coalesce: s.relation } : { using: i * 1000 - k });
      mark(merged, { merged: true });
    }
    // No common column (NATURAL): every pair of rows joins.
    const on: Expr = terms.length === 0 ? { kind: 'literal', value: true } : terms.reduce((a, b) => ({ kind: 'binary', op: 'AND', left: a, right: b }));
    out[i] = { ...out[i], from: { ...out[i].from, on, using: undefined } };
  }
  return out;
}
