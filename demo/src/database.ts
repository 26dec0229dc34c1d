import { createClient, type KalamClient, type Transport } from '@kalamlite/worker';
import { ADMIN_USER, SCHEMA_SQL } from './schema';

let opening: Promise<KalamClient> | undefined;

/** The database this page opens: `?db=` and `?transport=` pick another (tests and demos of the leader path use them). */
export function demoDatabaseOptions(search: string = globalThis.location?.search ?? ''): { name: string; transport: Transport } {
  const params = new URLSearchParams(search);
  const transport = params.get('transport');
  return {
    name: params.get('db') || 'kalamlite-demo',
    transport: transport === 'leader' || transport === 'shared-worker' || transport === 'worker' ? transport : 'auto',
  };
}

/**
 * Opens the demo's database (IndexedDB, so data survives a reload) through
 * the origin's one engine, shared by every tab, and makes sure its tables
 * exist. Memoized: React's StrictMode runs effects twice, and one page needs
 * one client. The client is also left on `window.kalamliteDemo`, to try
 * things from the devtools console (and for the multi-tab e2e tests).
 */
export function openDemoDatabase(): Promise<KalamClient> {
  opening ??= (async () => {
    const client = await createClient({ ...demoDatabaseOptions(), storage: 'idb' });
    await client.session({ user: ADMIN_USER, role: 'dba' }).execute(SCHEMA_SQL);
    (globalThis as { kalamliteDemo?: { client: KalamClient } }).kalamliteDemo = { client };
    return client;
  })();
  return opening;
}
