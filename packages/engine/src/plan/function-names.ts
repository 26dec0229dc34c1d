/**
 * The names of the functions that load with a SQL extension
 * (execute/sql-extensions.ts): they stay in the worker entry so a
 * statement's text can be read for them before their code is loaded, and
 * so the README's list names them all. text-functions.test.ts and
 * json-ops.test.ts check these lists against the implementations.
 */

/** The string, formatting and date/time functions of text-functions.ts and datetime-functions.ts (upper case, as calls are named). */
export const TEXT_FUNCTION_NAMES: readonly string[] = [
  'LOWER', 'UPPER', 'LENGTH', 'CHAR_LENGTH', 'CHARACTER_LENGTH', 'OCTET_LENGTH', 'TRIM', 'BTRIM', 'LTRIM', 'RTRIM',
  'SUBSTRING', 'SUBSTR', 'LEFT', 'RIGHT', 'REPLACE', 'SPLIT_PART', 'STARTS_WITH', 'ENDS_WITH', 'STRPOS', 'POSITION',
  'REVERSE', 'INITCAP', 'REPEAT', 'LPAD', 'RPAD', 'MD5', 'ASCII', 'CHR', 'CONCAT', 'CONCAT_WS', 'FORMAT',
  'TO_CHAR', 'TO_DATE', 'TO_TIMESTAMP', 'DATE_PART', 'EXTRACT', 'DATE_TRUNC', 'MAKE_DATE', 'MAKE_TIME', 'MAKE_TIMESTAMP',
];

/** The date/time functions of the INTERVAL chunk (interval-functions.ts); date_part/EXTRACT are the text functions' (datetime-functions.ts). */
export const INTERVAL_FUNCTION_NAMES: readonly string[] = ['JUSTIFY_DAYS', 'JUSTIFY_HOURS', 'JUSTIFY_INTERVAL', 'AGE'];

/** Every JSON function json-functions.ts handles (lower case; each json_x is also jsonb_x). */
export const JSON_FUNCTIONS = [
  'json_extract_path', 'json_extract_path_text', 'json_array_length', 'json_typeof', 'json_build_object', 'json_build_array',
  'to_json', 'json_object_keys', 'json_strip_nulls',
  'json_get', 'json_get_str', 'json_get_int', 'json_get_float', 'json_get_bool', 'json_get_json', 'json_as_text', 'json_contains', 'json_length',
] as const;

/** The JSON operators json-ops.ts compiles. */
export const JSON_OPS: ReadonlySet<string> = new Set(['->', '->>', '#>', '#>>', '?', '?|', '?&', '@>', '<@']);
