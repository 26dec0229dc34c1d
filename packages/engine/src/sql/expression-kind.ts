/**
 * What a user calls an expression node-sql-parser reads but we do not
 * convert: error messages name that, never the parser's node type.
 */

/** The words a user knows for a node-sql-parser expression type we do not read (never the node's name). */
export function expressionKind(type: unknown): string {
  switch (type) {
    case 'array': return 'An ARRAY value';
    case 'extract': return 'EXTRACT';
    case 'interval': return 'INTERVAL';
    case 'json': case 'json_expr': case 'json_visitor': return 'This JSON expression';
    case 'unnest': return 'UNNEST';
    case 'convert': return 'CONVERT';
    case 'fulltext_search': return 'Full-text search';
    case 'collate': return 'COLLATE';
    case 'param': case 'var': return 'This kind of parameter (write $1, $2, …)';
    default: return 'This kind of expression (see the SQL section of the engine README for what is supported)';
  }
}
