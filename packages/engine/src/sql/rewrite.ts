/**
 * Rewrites the few shapes node-sql-parser misreads into equivalent shapes it
 * reads, before it sees the text:
 * - `$1::type` fails outside the select list (and inside it the operator after
 *   the cast is dropped); `($1)::type` is read correctly.
 * - `SUM/AVG/MIN/MAX(DISTINCT x)` is a syntax error to it (only COUNT takes
 *   DISTINCT); it becomes a call of a marker function that convert.ts turns
 *   back into the distinct aggregate.
 * Positions in the rewritten text map back to the text as written, so syntax
 * errors point at what the user typed.
 */
import type { Token } from './lexer';

/** Prefix of the marker functions standing for `AGG(DISTINCT …)`. */
export const DISTINCT_AGGREGATE_PREFIX = 'KALAMLITE_DISTINCT_';

const DISTINCT_AGGREGATES = new Set(['SUM', 'AVG', 'MIN', 'MAX']);

interface Edit {
  /** Replaces source[start, end) with text. */
  start: number;
  end: number;
  text: string;
}

export interface RewrittenSql {
  text: string;
  /** Maps an offset in `text` back to an offset in the original SQL. */
  originalOffset(offset: number): number;
}

export function rewriteForParser(sql: string, tokens: readonly Token[]): RewrittenSql {
  const edits: Edit[] = [];
  for (let k = 0; k + 1 < tokens.length; k++) {
    const t = tokens[k];
    const next = tokens[k + 1];
    if (t.type === 'param' && next.type === 'punct' && next.text === '::') {
      edits.push({ start: t.start, end: t.end, text: `(${t.text})` });
      continue;
    }
    const third = tokens[k + 2];
    if (
      t.type === 'word' && DISTINCT_AGGREGATES.has(t.text.toUpperCase()) &&
      next.type === 'punct' && next.text === '(' &&
      third && third.type === 'word' && third.text.toUpperCase() === 'DISTINCT'
    ) {
      edits.push({ start: t.start, end: third.end, text: `${DISTINCT_AGGREGATE_PREFIX}${t.text.toUpperCase()}(` });
      k += 2;
    }
  }
  if (edits.length === 0) return { text: sql, originalOffset: (offset) => offset };
  let text = '';
  let at = 0;
  // For each edit: where its replacement starts and ends in the new text.
  const placed: { newStart: number; newEnd: number; edit: Edit }[] = [];
  for (const e of edits) {
    text += sql.slice(at, e.start);
    const newStart = text.length;
    text += e.text;
    placed.push({ newStart, newEnd: text.length, edit: e });
    at = e.end;
  }
  text += sql.slice(at);
  return {
    text,
    originalOffset(offset) {
      let delta = 0;
      for (const p of placed) {
        if (offset < p.newStart) break;
        if (offset < p.newEnd) return p.edit.start; // inside a replacement: point at what it replaced
        delta = p.edit.end - p.newEnd;
      }
      return offset + delta;
    },
  };
}
