/**
 * The schema migration runner (migrate.ts), loaded on first use — a
 * migrate() call, or an open that finds a migration's undo journal left by
 * a crash (see core/lazy-module.ts). Nothing else may import './migrate'
 * except as types.
 */
import { lazyModule } from '../core/lazy-module';

export const loadMigrate = lazyModule('the schema migration runner', () => import('./migrate'));
