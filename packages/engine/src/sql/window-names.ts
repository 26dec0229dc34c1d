/**
 * Names the parser's rewriting and the window conversion share, kept apart
 * from window-frame.ts so that they stay in worker.js while the frame and
 * WINDOW-clause rewriting loads with the window functions (on first use).
 */

/** Prefix of the marker call inside `NTILE(…)` standing for a window function the parser cannot read (percent_rank, cume_dist). */
export const WINDOW_FUNCTION_PREFIX = 'KALAMLITE_WINDOW_';

/** Window functions node-sql-parser's grammar does not read, spelled by rewrite.ts as `NTILE(KALAMLITE_WINDOW_<name>())`. */
export const UNREAD_WINDOW_FUNCTIONS = new Set(['PERCENT_RANK', 'CUME_DIST']);
