/**
 * Executors most statements never run, loaded on first use (see
 * core/lazy-module.ts): ALTER TABLE, CREATE TABLE … AS, CREATE/DROP VIEW, CREATE/DROP INDEX,
 * FLUSH / STORAGE FLUSH / STORAGE COMPACT / KILL JOB, EXPLAIN, user
 * management, the catalog statements (SHOW, DESCRIBE, USE), topics (and the
 * topic log, loaded at open when the database has topics), the engine
 * side of insertMany, and export/import. The published worker ships each as a file of its own
 * beside worker.js (scripts/build.mjs); one that cannot be fetched fails
 * its statement with VERSION_MISMATCH, and the next statement tries again.
 *
 * Nothing may import these modules except through a loader here (or as
 * types). A module loaded here may not import this file (an import cycle):
 * schema migrations, which run ALTER TABLE through it, have their own loader
 * (migrate-loader.ts).
 */
import { lazyModule } from '../core/lazy-module';

export const loadAlter = lazyModule('the ALTER TABLE executor', () => import('./alter'));
export const loadStorageStatements = lazyModule('the FLUSH, STORAGE FLUSH/COMPACT and KILL JOB executor', () => import('./storage-statements'));
export const loadIndexDdl = lazyModule('the CREATE/DROP INDEX executor', () => import('./index-ddl'));
export const loadViewDdl = lazyModule('the CREATE/DROP VIEW executor', () => import('./view-ddl'));
export const loadExplain = lazyModule('the EXPLAIN executor', () => import('./explain'));
export const loadUserStatements = lazyModule('the CREATE/ALTER/DROP USER executor', () => import('./users'));
export const loadInsertMany = lazyModule('the insertMany bulk loader', () => import('./insert-many'));
export const loadIntrospection = lazyModule('the SHOW, DESCRIBE and USE executor', () => import('./introspection'));
export const loadCreateTableAs = lazyModule('the CREATE TABLE … AS executor', () => import('./create-table-as'));
export const loadTopics = lazyModule('the topic statements and system tables', () => import('./topics'));
export const loadBackup = lazyModule('the export and import code', () => import('./backup-run'));
