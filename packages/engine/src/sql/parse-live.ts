/**
 * KalamDB's live-query statements, and KILL QUERY beside KILL LIVE QUERY:
 *   SUBSCRIBE TO … (sql/parse-subscribe.ts, an SQL extension loaded before
 *   a statement whose text says SUBSCRIBE: execute/sql-extensions.ts)
 *   KILL LIVE QUERY '<live_id>'
 *   KILL QUERY '<query_id>' (a running statement of system.queries)
 */
import { KalamError } from '../core/errors';
import type { Statement } from './ast';
import type { Token } from './lexer';

/** SUBSCRIBE TO's parser, once loaded. */
let subscribeParser: ((sql: string, tokens: readonly Token[]) => Statement) | undefined;

export function registerSubscribeParser(parse: (sql: string, tokens: readonly Token[]) => Statement): void {
  subscribeParser = parse;
}

const isWord = (t: Token | undefined, w: string) => !!t && t.type === 'word' && t.text.toUpperCase() === w;

export function parseLiveStatement(sql: string, tokens: readonly Token[]): Statement | undefined {
  if (isWord(tokens[0], 'KILL') && isWord(tokens[1], 'QUERY')) {
    const id = tokens[2];
    if (!id || id.type !== 'string' || tokens.length !== 3) {
      throw new KalamError('PARSE_ERROR', "Expected KILL QUERY '<query_id>' (the query_id of system.queries)", tokens[2]?.start ?? sql.length);
    }
    return { kind: 'killQuery', queryId: id.text };
  }
  if (isWord(tokens[0], 'KILL') && isWord(tokens[1], 'LIVE')) {
    const id = tokens[3];
    if (!isWord(tokens[2], 'QUERY') || !id || id.type !== 'string' || tokens.length !== 4) {
      throw new KalamError('PARSE_ERROR', "Expected KILL LIVE QUERY '<live_id>' (the live_id of system.live)", tokens[2]?.start ?? sql.length);
    }
    return { kind: 'killLiveQuery', liveId: id.text };
  }
  if (!isWord(tokens[0], 'SUBSCRIBE')) return undefined;
  if (!subscribeParser) throw new KalamError('UNSUPPORTED', 'SUBSCRIBE TO reached the parser before its parser loaded (a bug in loadSqlExtensions): report it');
  return subscribeParser(sql, tokens);
}
