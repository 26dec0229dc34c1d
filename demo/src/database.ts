import { createClient, type KalamClient } from '@kalamlite/worker';
import { ADMIN_USER, SCHEMA_SQL } from './schema';

let opening: Promise<KalamClient> | undefined;

/**
 * Opens the demo's database in the worker (IndexedDB, so data survives a
 * reload) and makes sure its tables exist. Memoized: React's StrictMode runs
 * effects twice, and one page needs one client.
 */
export function openDemoDatabase(): Promise<KalamClient> {
  opening ??= (async () => {
    const client = await createClient({ name: 'kalamlite-demo', storage: 'idb' });
    await client.session({ user: ADMIN_USER, role: 'dba' }).execute(SCHEMA_SQL);
    return client;
  })();
  return opening;
}
