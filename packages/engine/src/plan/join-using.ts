/**
 * `JOIN … USING (a, b)` as PostgreSQL reads it: the join condition is
 * `left.a = right.a AND left.b = right.b`, where `left` is the one relation
 * joined so far that has the column, and each named column appears once in
 * the output. The copy kept is the side whose rows are always there (the
 * left one for INNER and LEFT JOIN, the right one for RIGHT JOIN); the other
 * copy is marked `merged`, so `*` and unqualified names skip it, and a
 * qualified name (`b.a`) still reads it.
 */
import { KalamError } from '../core/errors';
import type { Expr, FromTable } from '../sql/ast';
import type { Scope } from './scope';

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
    const using = s.from.using;
    if (!using) continue;
    if (s.from.join === 'full') {
      throw new KalamError('UNSUPPORTED', 'FULL JOIN … USING is not supported: write FULL JOIN … ON l.c = r.c and read the column as COALESCE(l.c, r.c)');
    }
    const terms: Expr[] = [];
    for (const name of using) {
      const lefts = out.slice(0, i).filter((l) => l.scope.columns.some((c) => c.name === name && !c.hidden && !c.merged));
      if (lefts.length === 0) throw new KalamError('COLUMN_NOT_FOUND', `column "${name}" specified in USING clause does not exist in left table`);
      if (lefts.length > 1) throw new KalamError('AMBIGUOUS_COLUMN', `common column name "${name}" appears more than once in left table: join with ON and qualified names instead`);
      if (!s.scope.columns.some((c) => c.name === name && !c.hidden)) {
        throw new KalamError('COLUMN_NOT_FOUND', `column "${name}" specified in USING clause does not exist in right table`);
      }
      const left = lefts[0];
      terms.push({ kind: 'binary', op: '=', left: { kind: 'column', table: left.relation, name }, right: { kind: 'column', table: s.relation, name } });
      // The copy of the side that may be missing (NULL) is merged into the other.
      const mergedSide = s.from.join === 'right' ? left : s;
      const at = out.indexOf(mergedSide);
      out[at] = { ...mergedSide, scope: mergedSide.scope.withColumns(mergedSide.scope.columns.map((c) => (c.name === name && !c.hidden ? { ...c, merged: true } : c))) };
    }
    const on = terms.reduce((a, b) => ({ kind: 'binary', op: 'AND', left: a, right: b }));
    out[i] = { ...out[i], from: { ...out[i].from, on, using: undefined } };
  }
  return out;
}
