/** Identifier rules of KalamDB: case-insensitive, lower-cased, validated. */
import { KalamError } from '../core/errors';

export const RESERVED_NAMESPACES = new Set([
  'system', 'sys', 'root', 'kalamdb', 'kalam', 'main', 'default', 'sql', 'admin', 'internal',
  'information_schema', 'pg_catalog', 'datafusion',
]);

export const RESERVED_COLUMNS = new Set([
  '_seq', '_deleted', '_id', '_row_id', '_rowid', '_key', '_updated', '_created', '_timestamp', '_commit_seq',
]);

/** SQL keywords that cannot name a namespace, table or column. */
const KEYWORDS = new Set([
  'select', 'from', 'where', 'insert', 'update', 'delete', 'into', 'values', 'set', 'table', 'create', 'drop',
  'alter', 'and', 'or', 'not', 'null', 'order', 'group', 'by', 'having', 'limit', 'offset', 'join', 'on',
  'as', 'distinct', 'union', 'all', 'case', 'when', 'then', 'else', 'end', 'in', 'is', 'like', 'between',
  'primary', 'key', 'default', 'with', 'namespace', 'true', 'false', 'inner', 'left', 'right', 'outer',
  'cross', 'full', 'exists', 'index', 'view', 'user', 'grant', 'revoke',
  // Words the standard-SQL parser cannot read as a name: a table or column so named could be created but never queried.
  'at', 'session', 'window', 'partition', 'constraint', 'using', 'recursive', 'except', 'intersect', 'explain',
  'show', 'desc', 'asc', 'nulls', 'ilike', 'json',
]);

export type NameKind = 'namespace' | 'table' | 'view' | 'column' | 'index';

const NAME = /^[a-zA-Z][a-zA-Z0-9_]*$/;

/** Lower-cases and validates a name being created. */
export function validateName(raw: string, kind: NameKind): string {
  const name = raw.toLowerCase();
  const label = kind[0].toUpperCase() + kind.slice(1);
  if (name.length === 0 || name.length > 64) {
    throw new KalamError('INVALID_NAME', `${label} name '${raw}' must be 1 to 64 characters long`);
  }
  if (!NAME.test(name)) {
    throw new KalamError(
      'INVALID_NAME',
      `${label} name '${raw}' is invalid: use letters, digits and underscores, starting with a letter`,
    );
  }
  if (KEYWORDS.has(name)) {
    throw new KalamError('INVALID_NAME', `${label} name '${raw}' is a reserved SQL keyword; choose another name`);
  }
  return name;
}

export function validateColumnName(raw: string): string {
  const lower = raw.toLowerCase();
  if (RESERVED_COLUMNS.has(lower)) {
    throw new KalamError('INVALID_NAME', `Column name '${raw}' is reserved for system columns; choose another name`);
  }
  return validateName(raw, 'column');
}
