/**
 * What @kalamlite/worker's page-side client takes from the engine, built as
 * an entry of its own (scripts/build.mjs) but not exported by the package:
 * index.ts re-exports each of these. Being an entry keeps these modules in
 * chunks that import nothing of the database (openDatabase, the storage
 * tiers, the lazily loaded modules), so an app's bundler, which sees only the
 * names the page uses of '@kalamlite/engine', leaves all of that out of the
 * page (`sideEffects: false`).
 */
export { KalamError, isKalamError, toKalamError } from './core/errors';
export { checkDurability, resolveOptions, OPTION_NAMES } from './execute/options';
export { resolveInsertManyOptions, resolveSessionOptions, resolveStatementOptions } from './api/session-options';
export { checkBackupOptions } from './execute/backup-format';
export { insertChunks, insertManyError } from './execute/insert-chunks';
export { validateParams } from './execute/validate';
export { checkMigrations } from './execute/migration-list';
export { freezeJson } from './core/values';
export { loadArrow } from './api/arrow-loader';
