/**
 * Export and import, as one module loaded on first use (lazy-executors.ts
 * `loadBackup`): the export writer (backup.ts) and the import reader
 * (restore.ts), and the roll-back at open of an import a crash cut off
 * (import-recovery.ts, loaded only when its marker is found). Nothing may
 * import these except through this module's loader (or as types).
 */
export { exportBackup } from './backup';
export { importBackup } from './restore';
export { rollBackInterruptedImport } from './import-recovery';
