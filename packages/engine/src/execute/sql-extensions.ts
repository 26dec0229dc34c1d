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
 * - topics (`topic`): execute/topics.ts, which registers system.topics and
 *   system.topic_offsets with system/tables.ts.
 *
 * The text is read as plain text, not tokens: a word inside a string
 * literal (EXECUTE AS's statement, a column named `over`) loads the
 * extension without need, never misses it.
 */
import type { Catalog } from '../catalog/catalog';
import { lazyModule } from '../core/lazy-module';
import { registerRegexCalls } from '../plan/call-hooks';
import { registerWindowPlanner } from '../plan/window-check';

const loadWindows = lazyModule('window functions', async () => {
  const { planWindows } = await import('../plan/window-plan');
  registerWindowPlanner(planWindows);
});

const loadRegex = lazyModule('regular expressions', async () => {
  const { compileRegexCall } = await import('../plan/regex-functions');
  registerRegexCalls(compileRegexCall);
});

const loadTopicTables = lazyModule('the topic statements and system tables', async () => {
  (await import('./topics')).registerTopicTables();
});

const WINDOW_WORDS = /\b(?:over|window)\b/i;
const REGEX_WORDS = /~|\bregexp_/i;

/** Each extension: what in a statement's text needs it, and its loader. */
const EXTENSIONS: readonly { words: RegExp; load: () => Promise<void> }[] = [
  { words: WINDOW_WORDS, load: loadWindows },
  { words: REGEX_WORDS, load: loadRegex },
  { words: /topic/i, load: loadTopicTables },
];

/** The view epoch whose view bodies have been read (one catalog per engine, per worker). */
const viewsRead = new WeakMap<Catalog, number>();

/** Loads the extensions `text`, or a view of `catalog`, needs (each once; later calls resolve at once). */
export async function loadSqlExtensions(text: string, catalog: Catalog): Promise<void> {
  const epoch = catalog.viewEpoch;
  const viewsUnread = viewsRead.get(catalog) !== epoch;
  const views = viewsUnread ? catalog.listViews().map((v) => v.query) : [];
  const needed = EXTENSIONS.filter((x) => x.words.test(text) || views.some((q) => x.words.test(q)));
  if (needed.length > 0) await Promise.all(needed.map((x) => x.load()));
  // Remembered once what they need has loaded (a load that failed is tried again).
  if (viewsUnread) viewsRead.set(catalog, epoch);
}
