/**
 * KalamDB's SUBSCRIBE statement (sql/parse-live.ts calls it once loaded):
 *   SUBSCRIBE TO [ns.]t [WHERE …] [OPTIONS (last_rows=N, batch_size=N, from=SEQ)]
 *   SUBSCRIBE TO SELECT … [OPTIONS (…)]
 * parsed into the SELECT text it stands for plus options.
 */
import { KalamError } from '../core/errors';
import type { Statement, SubscribeStmt } from './ast';
import type { Token } from './lexer';

const isWord = (t: Token | undefined, w: string) => !!t && t.type === 'word' && t.text.toUpperCase() === w;

/** Parses a statement whose first word is SUBSCRIBE. */
export function parseSubscribe(sql: string, tokens: readonly Token[]): Statement {
  if (!isWord(tokens[1], 'TO') || tokens.length < 3) {
    throw new KalamError('PARSE_ERROR', 'Expected SUBSCRIBE TO <namespace>.<table> [WHERE …] [OPTIONS (…)] or SUBSCRIBE TO SELECT …', tokens[1]?.start ?? sql.length);
  }
  // OPTIONS (…) closes the statement: the last top-level OPTIONS followed by a parenthesis that ends it.
  let end = tokens.length;
  let options: SubscribeStmt['options'] = {};
  const close = tokens[tokens.length - 1];
  if (close.type === 'punct' && close.text === ')') {
    let depth = 0;
    for (let k = tokens.length - 1; k >= 2; k--) {
      const t = tokens[k];
      if (t.type === 'punct' && t.text === ')') depth++;
      else if (t.type === 'punct' && t.text === '(') {
        depth--;
        if (depth === 0) {
          if (isWord(tokens[k - 1], 'OPTIONS')) {
            end = k - 1;
            options = parseOptions(tokens.slice(k + 1, tokens.length - 1), sql);
          }
          break;
        }
      }
    }
  }
  const body = tokens.slice(2, end);
  if (body.length === 0) throw new KalamError('PARSE_ERROR', 'SUBSCRIBE TO needs a table or a SELECT', tokens[1].end);
  const text = sql.slice(body[0].start, body[body.length - 1].end);
  if (isWord(body[0], 'SELECT') || isWord(body[0], 'WITH')) return { kind: 'subscribe', query: text, options };
  // [ns.]table [WHERE …]
  let k = 1;
  if (body[1]?.type === 'punct' && body[1].text === '.') k = 3;
  const name = body.slice(0, k);
  if (name.some((t, i) => (i % 2 === 0 ? t.type !== 'word' && t.type !== 'quoted' : t.text !== '.'))) {
    throw new KalamError('PARSE_ERROR', 'Expected a table name after SUBSCRIBE TO: SUBSCRIBE TO <namespace>.<table>', body[0].start);
  }
  const rest = body.slice(k);
  if (rest.length > 0 && !isWord(rest[0], 'WHERE')) {
    throw new KalamError('PARSE_ERROR', `Syntax error at '${rest[0].text}': SUBSCRIBE TO <table> takes only WHERE … and OPTIONS (…)`, rest[0].start);
  }
  const table = sql.slice(name[0].start, name[name.length - 1].end);
  const where = rest.length > 0 ? ` ${sql.slice(rest[0].start, rest[rest.length - 1].end)}` : '';
  return { kind: 'subscribe', query: `SELECT * FROM ${table}${where}`, options };
}

function parseOptions(tokens: readonly Token[], sql: string): SubscribeStmt['options'] {
  const out: SubscribeStmt['options'] = {};
  for (let k = 0; k < tokens.length; k += 4) {
    const key = tokens[k];
    const eq = tokens[k + 1];
    const value = tokens[k + 2];
    const sep = tokens[k + 3];
    if (!key || key.type !== 'word' || !eq || eq.text !== '=' || !value || (sep && sep.text !== ',')) {
      throw new KalamError('PARSE_ERROR', 'Expected OPTIONS (last_rows = <n>, batch_size = <n>, from = <seq>)', key?.start ?? sql.length);
    }
    const name = key.text.toLowerCase();
    const text = value.text;
    if ((value.type !== 'number' && value.type !== 'string') || !/^\d+$/.test(text)) {
      throw new KalamError('INVALID_OPTION', `Subscription option '${name}' must be a non-negative whole number, got '${text}'`, value.start);
    }
    switch (name) {
      case 'last_rows': out.lastRows = Number(text); break;
      case 'batch_size': out.batchSize = Number(text); break;
      case 'from': case 'from_seq_id': out.from = BigInt(text); break;
      default:
        throw new KalamError('INVALID_OPTION', `Unknown subscription option '${key.text}': use last_rows, batch_size or from`, key.start);
    }
  }
  return out;
}
