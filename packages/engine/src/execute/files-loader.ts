/**
 * The FILE column code (files.ts), loaded on first use (see
 * core/lazy-module.ts): a statement given a Blob parameter, readFile, a
 * commit touching a table with a FILE column, or an open of a database that
 * stored files. Nothing else may import './files' except as types.
 */
import { lazyModule } from '../core/lazy-module';

export const loadFiles = lazyModule('FILE columns', () => import('./files'));
