import { runnerImport } from 'vite';
const { module } = await runnerImport('/work/main/bench/dbg-tiers.tmp.ts', { root: '/work/main' });
await module.main();
process.exit(0);
