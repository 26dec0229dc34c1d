/**
 * The OPFS backend (storage/opfs.ts: the KV log and the segment files),
 * loaded when a database opens with `storage: 'opfs'` (see
 * core/lazy-module.ts): a worker over IndexedDB or memory never fetches
 * it. Nothing else may import '../storage/opfs' except as types.
 */
import { lazyModule } from '../core/lazy-module';

export const loadOpfs = lazyModule('the OPFS storage backend', () => import('../storage/opfs'));
