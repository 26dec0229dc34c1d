/**
 * createClient()'s `migrations`: checked on the page, where they are given
 * (INVALID_OPTION naming the entry, before any worker starts), and run by
 * the engine's host — the dedicated worker as it opens, the shared engine
 * (SharedWorker or leader tab) as each client attaches — through the
 * engine's db.migrate(), which runs one call at a time: a client that
 * arrives while another's migrations run waits for them, then finds them
 * applied. createClient() resolves only once its list is applied.
 */
import { checkMigrations, type Database, type Migration } from '@kalamlite/engine';

/** The list as the engine checks it (a frozen copy), or undefined when none was given. */
export function checkClientMigrations(migrations: unknown): readonly Migration[] | undefined {
  return migrations === undefined ? undefined : checkMigrations(migrations);
}

/** Applies what `migrations` holds that the database does not have yet; rejects with the engine's KalamError. */
export async function applyMigrations(db: Pick<Database, 'migrate'>, migrations: readonly Migration[] | undefined): Promise<void> {
  if (migrations !== undefined && migrations.length > 0) await db.migrate(migrations);
}
