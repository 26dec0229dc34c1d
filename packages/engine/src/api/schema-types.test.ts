// `kalamlite types`: the schema runs through the engine, and each table
// becomes one interface typed by the documented mapping (README, Values):
// BIGINT → bigint, TIMESTAMP → number, JSON → unknown, nullable → | null.
import { describe, expect, it } from 'vitest';
import { KalamError } from '../core/errors';
import { main, type CliIo } from './cli';
import { schemaTypes, TS_TYPES } from './schema-types';

const ALL_TYPES = `
  CREATE NAMESPACE app;
  CREATE SHARED TABLE app.all_types (
    id BIGINT PRIMARY KEY,
    b BOOLEAN NOT NULL, s SMALLINT, i INT, big BIGINT, f FLOAT, d DOUBLE, dec DECIMAL,
    t TEXT, u UUID, tm TIME, dt DATE, ts TIMESTAMP, dtm DATETIME, j JSON, bin BYTES
  );
`;

/** The property lines of one interface, `name: type`. */
function fields(source: string, name: string): Record<string, string> {
  const body = new RegExp(`export interface ${name} \\{([^}]*)\\}`).exec(source)?.[1];
  if (body === undefined) throw new Error(`no interface ${name} in:\n${source}`);
  return Object.fromEntries([...body.matchAll(/readonly ('?[\w$]+'?): ([^;]+);/g)].map((m) => [m[1], m[2]]));
}

describe('schemaTypes', () => {
  it('maps every SQL type as the README documents, nullable columns with | null, NOT NULL and the primary key without', async () => {
    const out = await schemaTypes(ALL_TYPES);
    expect(fields(out, 'AllTypes')).toEqual({
      id: 'bigint',
      b: 'boolean',
      s: 'number | null',
      i: 'number | null',
      big: 'bigint | null',
      f: 'number | null',
      d: 'number | null',
      dec: 'string | null', // exact text, such as '12.30'
      t: 'string | null',
      u: 'string | null',
      tm: 'string | null',
      dt: 'string | null',
      ts: 'number | null',
      dtm: 'number | null',
      j: 'unknown | null',
      bin: 'Uint8Array | null',
    });
    expect(TS_TYPES).toMatchObject({ BIGINT: 'bigint', TIMESTAMP: 'number', JSON: 'unknown' });
    expect(out).toContain(`'app.all_types': AllTypes;`);
  });

  it('emits one interface per table of every namespace, after ALTER TABLE, prefixing names that collide', async () => {
    const out = await schemaTypes(`
      CREATE NAMESPACE a; CREATE NAMESPACE b;
      CREATE USER TABLE a.todo_items (id TEXT PRIMARY KEY, title TEXT NOT NULL);
      CREATE STREAM TABLE a.events (id BIGINT PRIMARY KEY, kind TEXT) WITH (TYPE = 'STREAM', TTL_SECONDS = 60);
      CREATE SHARED TABLE a.notes (id INT PRIMARY KEY);
      CREATE SHARED TABLE b.notes (id INT PRIMARY KEY, body TEXT);
      ALTER TABLE a.todo_items ADD COLUMN done BOOLEAN NOT NULL DEFAULT false;
    `);
    expect([...out.matchAll(/export interface (\w+)/g)].map((m) => m[1])).toEqual(['Events', 'ANotes', 'TodoItems', 'BNotes', 'Tables']);
    expect(fields(out, 'TodoItems')).toEqual({ id: 'string', title: 'string', done: 'boolean' });
    expect(fields(out, 'BNotes')).toEqual({ id: 'number', body: 'string | null' });
    expect(out).toContain('`a.todo_items`: USER table.');
    expect(out).not.toMatch(/readonly (_seq|_deleted)/);
  });

  it('fails with the engine error, naming what did not run, for a schema that does not run', async () => {
    const failure = await schemaTypes('CREATE NAMESPACE app; CREATE SHARED TABLE app.t (id INT PRIMARY KEY, x NOSUCHTYPE)').catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(KalamError);
    expect((failure as KalamError).message).toMatch(/^The schema did not run: /);
  });
});

function fakeIo(files: Record<string, string>) {
  const out = { stdout: '', stderr: '', written: {} as Record<string, string> };
  const io: CliIo = {
    stdout: (t) => void (out.stdout += t),
    stderr: (t) => void (out.stderr += t),
    readFile: async (path) => {
      if (path in out.written) return out.written[path];
      if (!(path in files)) throw new Error(`ENOENT: ${path}`);
      return files[path];
    },
    writeFile: async (path, text) => void (out.written[path] = text),
  };
  return { io, out };
}

describe('the kalamlite CLI', () => {
  const schema = { 'schema.sql': 'CREATE NAMESPACE app; CREATE USER TABLE app.todos (id TEXT PRIMARY KEY, done BOOLEAN)' };

  it('prints the types of the schema files to stdout', async () => {
    const { io, out } = fakeIo(schema);
    expect(await main(['types', 'schema.sql'], io)).toBe(0);
    expect(out.stdout).toContain('export interface Todos {');
    expect(out.stdout).toContain('readonly done: boolean | null;');
    expect(out.stdout).toContain('from schema.sql');
  });

  it('writes them with -o, and --check passes on that file and fails once the schema changed', async () => {
    const { io, out } = fakeIo(schema);
    expect(await main(['types', 'schema.sql', '-o', 'db-types.ts'], io)).toBe(0);
    expect(out.written['db-types.ts']).toContain('export interface Todos {');
    expect(await main(['types', 'schema.sql', '-o', 'db-types.ts', '--check'], io)).toBe(0);
    const changed = fakeIo({ 'schema.sql': `${schema['schema.sql']}; ALTER TABLE app.todos ADD COLUMN title TEXT` });
    changed.out.written['db-types.ts'] = out.written['db-types.ts'];
    expect(await main(['types', 'schema.sql', '-o', 'db-types.ts', '--check'], changed.io)).toBe(1);
    expect(changed.out.stderr).toMatch(/db-types\.ts is not up to date/);
  });

  it('says what is wrong, with the usage, for an unknown command, a missing file or a schema that fails', async () => {
    const unknown = fakeIo(schema);
    expect(await main(['typez'], unknown.io)).toBe(1);
    expect(unknown.out.stderr).toMatch(/unknown command 'typez'[\s\S]*Usage: kalamlite types/);
    const missing = fakeIo(schema);
    expect(await main(['types', 'nope.sql'], missing.io)).toBe(1);
    expect(missing.out.stderr).toMatch(/cannot read nope\.sql/);
    const bad = fakeIo({ 'schema.sql': 'CREATE TABLE' });
    expect(await main(['types', 'schema.sql'], bad.io)).toBe(1);
    expect(bad.out.stderr).toMatch(/The schema did not run/);
    const noFile = fakeIo(schema);
    expect(await main(['types'], noFile.io)).toBe(1);
    expect(noFile.out.stderr).toMatch(/name the schema file/);
  });
});
