/**
 * The `kalamlite` command's work (the bin, ../cli.ts, runs main()):
 *
 *   npx kalamlite types schema.sql [more.sql …] [-o db-types.ts] [--check]
 *
 * prints TypeScript row types for the tables the schema creates (see
 * schema-types.ts), or writes them to `-o`; with `--check` it writes
 * nothing and fails when the `-o` file is not what it would write (for CI).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { schemaTypes } from './schema-types';

const USAGE = `Usage: kalamlite types <schema.sql> [more.sql …] [-o <out.ts>] [--check]

  Reads the CREATE NAMESPACE / CREATE [USER|SHARED|STREAM] TABLE (and ALTER TABLE …)
  statements of the schema files, in order, and prints one TypeScript interface per
  table: the rows queries return (BIGINT → bigint, TIMESTAMP → number, JSON → unknown,
  BYTES → Uint8Array, DATE → string, nullable columns → | null).

  -o, --out <file>  write the types to <file> instead of printing them
  --check           write nothing; fail if <file> (-o) is not up to date
`;

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  readFile(path: string): Promise<string>;
  writeFile(path: string, text: string): Promise<void>;
}

const nodeIo: CliIo = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  readFile: (path) => readFile(path, 'utf8'),
  writeFile: (path, text) => writeFile(path, text),
};

/** Runs the command; resolves with its exit code. */
export async function main(args: readonly string[], io: CliIo = nodeIo): Promise<number> {
  const [command, ...rest] = args;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    io.stdout(USAGE);
    return command === undefined ? 1 : 0;
  }
  if (command !== 'types') {
    io.stderr(`kalamlite: unknown command '${command}'.\n\n${USAGE}`);
    return 1;
  }
  const files: string[] = [];
  let out: string | undefined;
  let check = false;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === '-o' || arg === '--out') {
      out = rest[++i];
      if (out === undefined) return usage(io, `${arg} needs a file name.`);
    } else if (arg === '--check') check = true;
    else if (arg.startsWith('-')) return usage(io, `unknown option '${arg}'.`);
    else files.push(arg);
  }
  if (files.length === 0) return usage(io, 'name the schema file(s).');
  if (check && out === undefined) return usage(io, '--check needs -o <file>, the file to check.');
  let sql = '';
  for (const file of files) {
    try {
      // Each file ends its last statement.
      sql += `${await io.readFile(file)}\n;\n`;
    } catch (e) {
      io.stderr(`kalamlite: cannot read ${file}: ${e instanceof Error ? e.message : String(e)}\n`);
      return 1;
    }
  }
  let types: string;
  try {
    types = await schemaTypes(sql, { source: files.join(', ') });
  } catch (e) {
    io.stderr(`kalamlite: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  if (out === undefined) {
    io.stdout(types);
    return 0;
  }
  if (check) {
    let current: string | undefined;
    try {
      current = await io.readFile(out);
    } catch {
      current = undefined;
    }
    if (current === types) return 0;
    io.stderr(`kalamlite: ${out} is not up to date with ${files.join(', ')}: run kalamlite types ${files.join(' ')} -o ${out}\n`);
    return 1;
  }
  await io.writeFile(out, types);
  return 0;
}

function usage(io: CliIo, problem: string): number {
  io.stderr(`kalamlite: ${problem}\n\n${USAGE}`);
  return 1;
}
