/**
 * node-sql-parser's PostgreSQL grammar (about 40 kB of the worker's
 * gzipped size), loaded once as the engine opens (Engine.open awaits it)
 * rather than imported where it is used: the published worker ships it as a
 * file of its own beside worker.js (scripts/build.mjs), which keeps the
 * worker entry small and lets it load while the storage opens. parse.ts
 * reads it through sqlParser(); nothing else may import node-sql-parser.
 */
import { KalamError } from '../core/errors';
import { lazyModule } from '../core/lazy-module';

/** What the engine uses of node-sql-parser: one call. */
export interface SqlParser {
  astify(sql: string, options: { database: 'postgresql' }): unknown;
}

interface ParserModule {
  Parser: new () => SqlParser;
}

let parser: SqlParser | undefined;

/** Loads the grammar (once; every later call shares the first one's promise). */
export const loadSqlParser: () => Promise<void> = lazyModule('the SQL parser', async () => {
  const module = (await import('node-sql-parser/build/postgresql.js')) as unknown as ParserModule & { default?: ParserModule };
  // The build is UMD/CommonJS: bundlers and Node expose it as a default export.
  const { Parser } = module.default ?? module;
  parser ??= new Parser();
});

/** The loaded parser; INTERNAL when nothing awaited loadSqlParser() first (Engine.open does). */
export function sqlParser(): SqlParser {
  if (parser === undefined) throw new KalamError('INTERNAL', 'The SQL parser is not loaded: open the database with openDatabase() before running SQL');
  return parser;
}
