/**
 * Isolation attack suite, FILE columns (issue 16): a user never reaches
 * another user's files. Bob holds alice's exact FileRef (as if it leaked)
 * and tries to read the file, to adopt it into a row of his own (then read
 * or delete it), to reach it through his own partition of the same table,
 * and to read a file of a SHARED table above his access level. Same
 * fixture and judges as isolation.test.ts (isolation.fixture.ts); besides,
 * alice's file must stay readable by her, byte for byte.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildFixture, codeOf, expectNoLeak, expectUntouched, type Fixture } from './isolation.fixture';
import type { FileRef, Value } from '../core/types';
import { KalamError } from '../core/errors';

let f: Fixture;
let aliceRef: FileRef;
let vaultRef: FileRef;
const ALICE_BYTES = new TextEncoder().encode('ALICE-FILE-CONTENT');

beforeEach(async () => {
  f = await buildFixture();
  await f.root.execute(`CREATE USER TABLE app.docs (id TEXT PRIMARY KEY, body FILE);
    CREATE SHARED TABLE app.vault_docs (id TEXT PRIMARY KEY, body FILE) WITH (ACCESS_LEVEL='private')`);
  await f.alice.execute('INSERT INTO app.docs (id, body) VALUES ($1, $2)', ['k-common', new File([ALICE_BYTES], 'alice.txt', { type: 'text/plain' })]);
  aliceRef = (await f.alice.query(`SELECT body FROM app.docs`)).rows[0].body as unknown as FileRef;
  await f.root.execute('INSERT INTO app.vault_docs (id, body) VALUES ($1, $2)', ['v1', new Blob([new TextEncoder().encode('VAULT-FILE')])]);
  vaultRef = (await f.root.query(`SELECT body FROM app.vault_docs`)).rows[0].body as unknown as FileRef;
});

afterEach(async () => {
  await f.db.close();
});

/** Alice's file is still hers, whole; nothing else of hers or the vault changed. */
async function expectAliceFileIntact(): Promise<void> {
  const blob = await f.alice.readFile(aliceRef);
  expect(new Uint8Array(await blob.arrayBuffer())).toEqual(ALICE_BYTES);
  expect((await f.alice.query('SELECT body FROM app.docs')).rows).toEqual([{ body: aliceRef }]);
  await expectUntouched(f);
}

/** Bob's attempt must fail with one of `codes`, its message carrying none of alice's data. */
async function expectBobRefused(run: () => Promise<unknown>, codes: readonly string[], what: string): Promise<void> {
  let error: unknown;
  try {
    await run();
  } catch (e) {
    error = e;
  }
  if (!(error instanceof KalamError)) throw new Error(`LEAK: ${what} did not fail with a KalamError (${String(error)})`);
  expect(codes, `${what}: ${error.code}: ${error.message}`).toContain(error.code);
  expectNoLeak(f, error.message, `${what} (error message)`);
  expect(error.message).not.toContain(aliceRef.id);
}

describe('isolation: FILE columns', () => {
  it("bob cannot read alice's file with her exact FileRef", async () => {
    await expectBobRefused(() => f.bob.readFile(aliceRef), ['FILE_NOT_FOUND'], 'bob.readFile(alice ref)');
    await expectBobRefused(() => f.bob.readFile({ ...aliceRef, name: 'x' }), ['FILE_NOT_FOUND'], 'bob.readFile(alice id, other fields)');
    await expectAliceFileIntact();
  });

  it("bob cannot adopt alice's FileRef into a row of his own, as an object, as JSON text or in SQL text", async () => {
    const attempts: [string, Value[]][] = [
      ['INSERT INTO app.docs (id, body) VALUES ($1, $2)', ['bob-1', aliceRef as unknown as Value]],
      ['INSERT INTO app.docs (id, body) VALUES ($1, $2)', ['bob-2', JSON.stringify(aliceRef)]],
      [`INSERT INTO app.docs (id, body) VALUES ('bob-3', '${JSON.stringify(aliceRef)}')`, []],
      ['INSERT INTO app.docs (id, body) VALUES ($1, CAST($2 AS FILE))', ['bob-4', JSON.stringify(aliceRef)]],
    ];
    for (const [sql, params] of attempts) await expectBobRefused(() => f.bob.execute(sql, params), ['INVALID_PARAMETER', 'TYPE_MISMATCH', 'UNSUPPORTED', 'PARSE_ERROR'], sql);
    // Bob's own row, then an UPDATE swapping alice's ref in.
    await f.bob.execute('INSERT INTO app.docs (id, body) VALUES ($1, $2)', ['k-common', new Blob([new Uint8Array([1, 2, 3])])]);
    await expectBobRefused(() => f.bob.execute('UPDATE app.docs SET body = $1 WHERE id = $2', [aliceRef as unknown as Value, 'k-common']), ['INVALID_PARAMETER'], 'UPDATE to alice ref');
    expect((await f.bob.query('SELECT id FROM app.docs')).rows).toEqual([{ id: 'k-common' }]);
    await expectBobRefused(() => f.bob.readFile(aliceRef), ['FILE_NOT_FOUND'], 'bob.readFile after the attempts');
    await expectAliceFileIntact();
  });

  it("bob's row of the same primary key has a file of its own; deleting it leaves alice's", async () => {
    await f.bob.execute('INSERT INTO app.docs (id, body) VALUES ($1, $2)', ['k-common', new Blob([new Uint8Array([9])])]);
    const bobRef = (await f.bob.query('SELECT body FROM app.docs')).rows[0].body as unknown as FileRef;
    expect(bobRef.id).not.toBe(aliceRef.id);
    expect(new Uint8Array(await (await f.bob.readFile(bobRef)).arrayBuffer())).toEqual(new Uint8Array([9]));
    await expectBobRefused(() => f.alice.readFile(bobRef), ['FILE_NOT_FOUND'], 'alice.readFile(bob ref)');
    expect((await f.bob.execute(`DELETE FROM app.docs WHERE id = 'k-common'`))[0].rowCount).toBe(1);
    expect((await f.bob.execute(`UPDATE app.docs SET body = NULL WHERE id = 'k-common'`))[0].rowCount).toBe(0);
    await expectAliceFileIntact();
  });

  it('a SHARED table above his access level keeps its files from bob; its readers get them', async () => {
    expect(await codeOf(f.bob.readFile(vaultRef))).toBe('PERMISSION_DENIED');
    const service = f.db.session({ user: 'svc', role: 'service' });
    expect(new TextDecoder().decode(await (await service.readFile(vaultRef)).arrayBuffer())).toBe('VAULT-FILE');
    await expectAliceFileIntact();
  });

  it("another role's session (dba) does not read alice's USER-table file either: only its owner does", async () => {
    expect(await codeOf(f.root.readFile(aliceRef))).toBe('FILE_NOT_FOUND');
    expect(await codeOf(f.bob.readFile('not a ref' as never))).toBe('INVALID_PARAMETER');
    await expectAliceFileIntact();
  });
});
