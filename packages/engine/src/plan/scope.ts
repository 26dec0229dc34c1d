/** Name resolution: which slot of a row tuple a column reference reads. */
import { KalamError } from '../errors';
import type { DataType } from '../types';

export interface ScopeColumn {
  /** The relation's alias (or table name) this column belongs to. */
  relation: string;
  name: string;
  type: DataType | 'UNKNOWN';
  /** System columns (_seq, _deleted) are not expanded by `*`. */
  hidden: boolean;
}

export class Scope {
  constructor(readonly columns: readonly ScopeColumn[]) {}

  get width(): number {
    return this.columns.length;
  }

  relations(): string[] {
    return [...new Set(this.columns.map((c) => c.relation))];
  }

  resolve(relation: string | undefined, name: string): number {
    let found = -1;
    for (let i = 0; i < this.columns.length; i++) {
      const c = this.columns[i];
      if (c.name !== name || (relation !== undefined && c.relation !== relation)) continue;
      if (found >= 0) {
        throw new KalamError('AMBIGUOUS_COLUMN', `Column reference '${name}' is ambiguous: qualify it with a table name or alias`);
      }
      found = i;
    }
    if (found < 0) {
      if (relation !== undefined && !this.columns.some((c) => c.relation === relation)) {
        throw new KalamError('TABLE_NOT_FOUND', `Table or alias '${relation}' is not in the FROM clause`);
      }
      const label = relation ? `${relation}.${name}` : name;
      throw new KalamError('COLUMN_NOT_FOUND', `Column '${label}' does not exist. Check the name with DESCRIBE TABLE`);
    }
    return found;
  }

  concat(other: Scope): Scope {
    return new Scope([...this.columns, ...other.columns]);
  }
}
