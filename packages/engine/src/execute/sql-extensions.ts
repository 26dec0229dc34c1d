/**
 * SQL extensions: planning code only some statements need, loaded on first
 * use (core/lazy-module.ts) like the rare executors (lazy-executors.ts).
 * Parsing and planning are synchronous, so a statement cannot wait for
 * them where they are used: the asynchronous entries that plan SQL (a
 * statement, through runStatement: EXPLAIN, CREATE VIEW, DESCRIBE,
 * EXECUTE AS and every DML; opening a live query) first await
 * loadSqlExtensions with the statement's text, which reads the text for
 * the words that need an extension and the bodies of the catalog's views
 * (a view's query is planned inside the statement that reads the view).
 * Each extension registers with the synchronous code as it loads; one a
 * statement reaches unloaded is a bug and fails it with UNSUPPORTED.
 *
 * - window functions (`OVER`, `WINDOW`): plan/window-plan.ts and
 *   exec/window-fn.ts, which register with plan/window-check.ts;
 * - regular expressions (`~ ~* !~ !~*`, `regexp_*`): plan/regex-functions.ts
 *   and plan/regex.ts, which register with plan/call-hooks.ts;
 * - JSON (`-> ->> #> #>> ? ?| ?& @> <@`, `json_*`, `jsonb_*`, `to_json[b]`):
 *   plan/json-ops.ts, plan/json-functions.ts and plan/json-values.ts, which
 *   register with plan/call-hooks.ts;
 * - generate_series in FROM: plan/generate-series.ts, which registers with
 *   plan/call-hooks.ts;
 * - JOIN … USING and NATURAL JOIN (`USING`, `NATURAL`): plan/join-using.ts,
 *   which registers with plan/call-hooks.ts and sql/rewrite.ts;
 * - text functions (a name of plan/function-names.ts's TEXT_FUNCTION_NAMES):
 *   plan/text-functions.ts, which registers with plan/functions.ts;
 * - DECIMAL arithmetic (the words `decimal`, `numeric`, or any DECIMAL
 *   column in the catalog, since a statement computes on a column without
 *   naming its type): plan/decimal-math.ts, which registers with
 *   core/decimal.ts;
 * - EMBEDDING(n) values and the distance functions (`embedding`,
 *   `_distance`, `inner_product`, or any EMBEDDING column in the catalog): plan/vector-math.ts, which registers with
 *   core/vector-registry.ts and plan/functions.ts;
 * - INTERVAL (the word `interval`, `extract`, an INTERVAL_FUNCTION_NAMES
 *   name, an INTERVAL column in the catalog, or a `+`/`-` in a statement
 *   that may compute on timestamps or dates: it names a timestamp or date
 *   type or `now`, or the catalog has a TIMESTAMP or DATE column): plan/interval-math.ts, which registers
 *   with core/interval-registry.ts, plan/functions.ts and sql/convert.ts;
 * - `UPDATE … SET (columns) = (SELECT …)` (`SET (`): sql/row-subquery.ts,
 *   which registers with sql/rewrite.ts;
 * - index statements (`INDEX`): sql/parse-index.ts, which registers with
 *   sql/parse.ts;
 * - view statements (`VIEW`): sql/parse-view.ts, which registers with
 *   sql/parse.ts;
 * - view expansion (`VIEW`, or a view in the catalog): plan/view-expand.ts,
 *   which registers with execute/planner.ts;
 * - SUBSCRIBE TO (`SUBSCRIBE`): sql/parse-subscribe.ts, which registers
 *   with sql/parse-live.ts;
 * - system.settings' descriptions (`SETTINGS`): execute/setting-descriptions.ts,
 *   which registers with execute/stats.ts;
 * - CREATE/ALTER/DROP USER (`USER`): sql/parse-users.ts, which registers
 *   with sql/parse-ddl.ts (its executor is execute/users.ts, a lazy executor);
 * - ALTER TABLE (`ALTER`): sql/parse-alter.ts, which registers with
 *   sql/parse-ddl.ts (its executor is execute/alter.ts, a lazy executor);
 * - topics (`topic`): execute/topics.ts, which registers system.topics and
 *   system.topic_offsets with system/tables.ts;
 * - columnar aggregation (`count`, `sum`, `avg`, `min`, `max`, `group`):
 *   plan/columnar.ts and exec/columnar-aggregate.ts, which
 *   register with plan/block.ts.
 *
 * The text is read as plain text, not tokens: a word inside a string
 * literal (EXECUTE AS's statement, a column named `over`) loads the
 * extension without need, never misses it.
 */
import type { Catalog } from '../catalog/catalog';
import { registerDecimalMath } from '../core/decimal-registry';
import { registerIntervalMath } from '../core/interval-registry';
import type { DataType } from '../core/types';
import { lazyModule } from '../core/lazy-module';
import { registerJson, registerRegexCalls, registerSeries, registerUsing } from '../plan/call-hooks';
import { INTERVAL_FUNCTION_NAMES, TEXT_FUNCTION_NAMES } from '../plan/function-names';
import { registerScalarFunctions, registerTextFunctions } from '../plan/functions';
import { registerWindowPlanner } from '../plan/window-check';
import { aggregateHooks } from '../plan/block';
import { registerExpressionKinds } from '../sql/convert';
import { registerNaturalJoins, registerRowSubqueries, registerWindowRewrites } from '../sql/rewrite';
import { registerWindowCall } from '../sql/convert-window';
import { registerIndexParser, registerViewParser } from '../sql/parse';
import { registerAlterParser, registerUserParser } from '../sql/parse-ddl';
import { registerSubscribeParser } from '../sql/parse-live';
import { registerSettingDescriptions } from './stats';
import { registerViewExpansion } from './planner';

const loadWindows = lazyModule('window functions', async () => {
  const { planWindows, findFrames, findWindowClauseMoves, windowCall } = await import('../plan/window-plan');
  registerWindowPlanner(planWindows);
  registerWindowCall(windowCall);
  registerWindowRewrites({ findFrames, findWindowClauseMoves });
});

const loadRegex = lazyModule('regular expressions', async () => {
  const { compileRegexCall } = await import('../plan/regex-functions');
  registerRegexCalls(compileRegexCall);
});

const loadJson = lazyModule('the JSON functions', async () => {
  const { compileJsonCall, compileJsonOp } = await import('../plan/json-functions');
  registerJson(compileJsonCall, compileJsonOp);
});

const loadText = lazyModule('the text functions', async () => {
  const { TEXT_STRICT, TEXT_LENIENT } = await import('../plan/text-functions');
  registerTextFunctions(TEXT_STRICT, TEXT_LENIENT);
});

const loadSeries = lazyModule('generate_series', async () => {
  const { planSeries } = await import('../plan/generate-series');
  registerSeries(planSeries);
});

const loadUsing = lazyModule('JOIN … USING', async () => {
  const { resolveUsing, naturalJoinEdits } = await import('../plan/join-using');
  registerUsing(resolveUsing);
  registerNaturalJoins(naturalJoinEdits);
});
const loadDecimals = lazyModule('DECIMAL arithmetic', async () => {
  const { DECIMAL_MATH } = await import('../plan/decimal-math');
  registerDecimalMath(DECIMAL_MATH);
});
const loadVectors = lazyModule('EMBEDDING', async () => {
  (await import('../plan/vector-math')).registerVectors();
});
/** Column types whose values need a chunk of their own, and its loader. */
/** The column types whose values need a chunk: loaded wherever a catalog with such a column is met. */
const TYPE_CHUNKS = (): readonly (readonly [DataType, () => Promise<void>])[] => [['DECIMAL', loadDecimals], ['EMBEDDING', loadVectors], ['INTERVAL', loadIntervals]];

let isIntervalLoaded = false;
const loadIntervals = lazyModule('INTERVAL arithmetic', async () => {
  const { INTERVAL_MATH, DATE_FUNCTIONS, INTERVAL_EXPRESSIONS } = await import('../plan/interval-math');
  registerIntervalMath(INTERVAL_MATH);
  registerScalarFunctions(DATE_FUNCTIONS); // date_part/EXTRACT are the text functions' (plan/datetime-functions.ts), which ask INTERVAL_MATH.part for an interval
  registerExpressionKinds(INTERVAL_EXPRESSIONS);
  isIntervalLoaded = true;
});

/** Per catalog, the column types of its tables at a table epoch (read again only when the tables changed). */
const columnTypes = new WeakMap<Catalog, { epoch: number; types: ReadonlySet<DataType> }>();

function columnTypesOf(catalog: Catalog): ReadonlySet<DataType> {
  const epoch = catalog.tableEpoch;
  let known = columnTypes.get(catalog);
  if (known?.epoch !== epoch) {
    known = { epoch, types: new Set(catalog.listTables().flatMap((t) => t.columns.map((c) => c.type))) };
    columnTypes.set(catalog, known);
  }
  return known.types;
}

/**
 * A `+` or `-` outside quoted text (and comments' `--`) in a statement that
 * may meet a timestamp or a date: INTERVAL's chunk makes timestamp -
 * timestamp an interval, date - date a number of days, date ± n a date.
 */
/** A date/time type, or a function whose value is a timestamp or a date (plan/arith.ts types them). */
const DATE_WORDS = /\b(?:timestamp|timestamptz|datetime|date|now|current_timestamp|current_date|localtimestamp|to_timestamp|make_timestamp|date_trunc|make_date|to_date)\b/i;

function mayComputeOnDates(text: string, catalog: Catalog): boolean {
  // String(): a live query's text is checked to be a string only after the extensions load.
  if (!/\+|(?<!-)-(?!-)/.test(String(text).replace(/'(?:[^']|'')*'/g, "''"))) return false;
  const types = columnTypesOf(catalog);
  return DATE_WORDS.test(text) || types.has('TIMESTAMP') || types.has('DATETIME') || types.has('DATE');
}

const loadColumnarAggregates = lazyModule('columnar aggregation', async () => {
  aggregateHooks.columnar = (await import('../plan/columnar')).planColumnarAggregate;
});

const loadRowSubqueries = lazyModule('UPDATE … SET (columns) = (SELECT …)', async () => {
  registerRowSubqueries((await import('../sql/row-subquery')).rowSubqueryColumns);
});

/**
 * Loads the chunk of each of those types `catalog` has a column of (its
 * values may meet any statement, and are read as a database opens or
 * insertMany writes), or without a catalog all of them (an import, whose
 * tables are not made yet).
 */
export async function loadColumnTypesFor(catalog?: Catalog): Promise<void> {
  // Every statement asks: read the tables only when they changed since the last answer.
  const epoch = catalog?.tableEpoch;
  if (catalog && typesChecked.get(catalog) === epoch) return;
  const tables = catalog?.listTables();
  const loads = TYPE_CHUNKS().filter(([type]) => !tables || tables.some((t) => t.columns.some((c) => c.type === type)));
  // Nothing to load: no await (a statement's commit is not put off by a tick).
  if (loads.length > 0) await Promise.all(loads.map(([, load]) => load()));
  if (catalog) typesChecked.set(catalog, epoch!);
}

/** Per catalog, the table epoch whose tables' column types have their chunks loaded. */
const typesChecked = new WeakMap<Catalog, number>();

const loadIndexParser = lazyModule('the CREATE/DROP INDEX parser', async () => {
  const { parseIndexStatement } = await import('../sql/parse-index');
  registerIndexParser(parseIndexStatement);
});

const INDEX_WORDS = /\bindex\b/i;

const loadViewParser = lazyModule('the CREATE/DROP VIEW parser', async () => {
  const { parseViewStatement } = await import('../sql/parse-view');
  registerViewParser(parseViewStatement);
});
const loadAlterParser = lazyModule('the ALTER TABLE parser', async () => {
  const { parseAlterTable } = await import('../sql/parse-alter');
  registerAlterParser((c) => parseAlterTable(c)!);
});
const loadUserParser = lazyModule('the CREATE/ALTER/DROP USER parser', async () => {
  registerUserParser((await import('../sql/parse-users')).parseUserStatement);
});
const loadSubscribeParser = lazyModule('the SUBSCRIBE TO parser', async () => {
  registerSubscribeParser((await import('../sql/parse-subscribe')).parseSubscribe);
});
const loadSettingDescriptions = lazyModule('the setting descriptions', async () => {
  registerSettingDescriptions((await import('./setting-descriptions')).SETTING_DESCRIPTIONS);
});
const loadViewExpansion = lazyModule('view expansion', async () => {
  registerViewExpansion((await import('../plan/view-expand')).expandViews);
});
const loadTopicTables = lazyModule('the topic statements and system tables', async () => {
  (await import('./topics')).registerTopicTables();
});

const WINDOW_WORDS = /\b(?:over|window)\b/i;
const REGEX_WORDS = /~|\bregexp_/i;
const JSON_WORDS = /->|#>|\?|@>|<@|\bjsonb?_|\bto_jsonb?\b/i;
/** A text function's name, but not LEFT/RIGHT of a join. */
const INTERVAL_WORDS = new RegExp(`\\b(?:interval|extract|${INTERVAL_FUNCTION_NAMES.join('|')})\\b`, 'i');
const TEXT_WORDS = new RegExp(`\\b(?:${TEXT_FUNCTION_NAMES.join('|')})\\b(?!\\s+(?:outer\\s+)?join\\b)`, 'i');

/** Each extension: what in a statement's text needs it, and its loader. */
const EXTENSIONS: readonly { words: RegExp; load: () => Promise<void>; loaded?: boolean }[] = [
  { words: WINDOW_WORDS, load: loadWindows },
  { words: REGEX_WORDS, load: loadRegex },
  { words: JSON_WORDS, load: loadJson },
  { words: TEXT_WORDS, load: loadText },
  { words: /\bgenerate_series\b/i, load: loadSeries },
  { words: /\b(?:using|natural)\b/i, load: loadUsing },
  { words: /\b(?:decimal|numeric)\b/i, load: loadDecimals },
  { words: /embedding|_distance|inner_product/i, load: loadVectors },
  { words: INTERVAL_WORDS, load: loadIntervals },
  { words: /\bset\s*\(/i, load: loadRowSubqueries },
  { words: INDEX_WORDS, load: loadIndexParser },
  { words: /\bview\b/i, load: loadViewParser },
  { words: /\bview\b/i, load: loadViewExpansion },
  { words: /\balter\b/i, load: loadAlterParser },
  { words: /\bsubscribe\b/i, load: loadSubscribeParser },
  { words: /\buser\b/i, load: loadUserParser },
  { words: /\bsettings\b/i, load: loadSettingDescriptions },
  { words: /topic/i, load: loadTopicTables },
  { words: /\b(?:count|sum|avg|min|max|group)\b/i, load: loadColumnarAggregates },
];

/** The view epoch whose view bodies have been read (one catalog per engine, per worker). */
const viewsRead = new WeakMap<Catalog, number>();

/** Loads the extensions `text`, or a view of `catalog`, needs (each once; later calls resolve at once). */
export async function loadSqlExtensions(text: string, catalog: Catalog): Promise<void> {
  const epoch = catalog.viewEpoch;
  const viewsUnread = viewsRead.get(catalog) !== epoch;
  const views = viewsUnread ? catalog.listViews().map((v) => v.query) : [];
  // An extension loaded once stays loaded: only the others' words are looked for.
  const needed = EXTENSIONS.filter((x) => !x.loaded && (x.words.test(text) || views.some((q) => x.words.test(q))));
  if (needed.length > 0) {
    await Promise.all(needed.map(async (x) => {
      await x.load();
      x.loaded = true;
    }));
  }
  if (views.length > 0) await loadViewExpansion(); // a statement may read a view without saying VIEW
  if (!isIntervalLoaded && [text, ...views].some((q) => mayComputeOnDates(q, catalog))) await loadIntervals();
  await loadColumnTypesFor(catalog);
  // Remembered once what they need has loaded (a load that failed is tried again).
  if (viewsUnread) viewsRead.set(catalog, epoch);
}
