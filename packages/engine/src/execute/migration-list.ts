/**
 * The migrations list `db.migrate()` and `createClient({ migrations })`
 * take, and its check: kept apart from the migration runner (migrate.ts) so
 * a page that only checks the list loads nothing else of the engine.
 */
import { KalamError } from '../core/errors';
import { shown, thrownMessage } from '../core/json';

export interface Migration {
  /** A positive integer; versions run in ascending order, each once per database. */
  version: number;
  /** One or more statements separated by semicolons. */
  sql: string;
}

const invalid = (message: string) => new KalamError('INVALID_OPTION', message);

/**
 * The migrations list, checked (INVALID_OPTION naming the entry): an array
 * of `{ version, sql }`, versions positive integers in strictly increasing
 * order, sql a string with more than whitespace. Returns a frozen copy.
 */
export function checkMigrations(migrations: unknown): readonly Migration[] {
  const example = "for example [{ version: 1, sql: 'CREATE TABLE app.todos (id INT PRIMARY KEY, title TEXT)' }]";
  if (!Array.isArray(migrations)) throw invalid(`migrations must be an array of { version, sql }, ${example}; got ${shown(migrations)}`);
  const out: Migration[] = [];
  let previous = 0;
  for (let i = 0; i < migrations.length; i++) {
    let version: unknown;
    let sql: unknown;
    try {
      const m: unknown = migrations[i];
      if (typeof m !== 'object' || m === null || Array.isArray(m)) throw invalid(`migrations[${i}] must be an object { version, sql }, got ${shown(m)}`);
      for (const key of Object.keys(m)) {
        if (key !== 'version' && key !== 'sql') throw invalid(`migrations[${i}] has an unknown field '${key}': a migration is { version, sql }`);
      }
      ({ version, sql } = m as { version: unknown; sql: unknown });
    } catch (e) {
      throw e instanceof KalamError ? e : invalid(`migrations[${i}] could not be read: ${thrownMessage(e)}. Pass plain objects { version, sql }`);
    }
    if (typeof version !== 'number' || !Number.isSafeInteger(version) || version <= 0) {
      throw invalid(`migrations[${i}].version must be a positive integer, got ${shown(version)}`);
    }
    if (version <= previous) {
      throw invalid(`migrations[${i}].version is ${version}, after version ${previous}: versions must be strictly increasing (list migrations oldest first, each version once)`);
    }
    if (typeof sql !== 'string' || sql.trim() === '') throw invalid(`migrations[${i}].sql (version ${version}) must be a non-empty SQL string, got ${shown(sql)}`);
    previous = version;
    out.push(Object.freeze({ version, sql }));
  }
  return Object.freeze(out);
}

