/** The Arrow field metadata key holding a column's SQL type ('UNKNOWN' for computed columns). */
export const SQL_TYPE_KEY = 'kalamlite.type';
