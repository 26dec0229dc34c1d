/**
 * Export and import, as one module loaded on first use (lazy-executors.ts
 * `loadBackup`): the export writer (backup.ts) and the import reader
 * (restore.ts). Nothing may import './backup' or './restore' except through
 * this module's loader (or as types).
 */
export { exportBackup } from './backup';
export { importBackup } from './restore';
