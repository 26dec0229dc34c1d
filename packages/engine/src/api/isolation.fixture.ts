/**
 * Fixture and judges for the isolation attack suite (isolation.test.ts).
 *
 * The world: namespace `app` with
 *  - USER table `app.secrets`: alice's rows hold 'ALICE-…' values and amounts
 *    91001…; bob's rows hold 'bob-…' values and small amounts. Both have a
 *    row with primary key 'k-common', and each has one soft-deleted row.
 *  - STREAM table `app.events` (TTL 3600 s): alice's 'ALICE-EVENT-…' events
 *    (n = 92001…) and bob's 'bob-event-1'.
 *  - SHARED `private` table `app.vault` with 'VAULT-…' values (93001…).
 *  - SHARED `public` table `app.board`, readable by bob, writable by service+.
 *
 * An attempt by bob passes when it either (a) succeeds and nothing it
 * returned — values, column names, messages — carries an alice or vault
 * value, or (b) fails with PERMISSION_DENIED. Any other error (UNSUPPORTED,
 * PARSE_ERROR, …) is not a pass: a missing feature must show up as a failure.
 * After every attempt alice's rows, alice's events, the vault and the board
 * must be exactly as before (same rows, same `_seq`).
 */
import { expect } from 'vitest';
import { openDatabase, type Database, type Session } from './database';
import { KalamError } from '../core/errors';
import type { Row, StatementResult, Value } from '../core/types';

export const BOB_SECRETS = [
  { id: 'bob-k1', secret: 'bob-1', amount: 1 },
  { id: 'k-common', secret: 'bob-2', amount: 2 },
] as const;
export const BOB_TOMBSTONE = { id: 'bob-del', secret: 'bob-deleted', amount: 3 } as const;
export const BOB_EVENTS = [{ id: 'be1', kind: 'login', payload: 'bob-event-1', n: 4 }] as const;

/**
 * What a leak looks like in a returned string: one of alice's or the vault's
 * values or keys (not merely the words "alice" or "vault", which error
 * messages may legitimately name).
 */
const FORBIDDEN_TEXT = /ALICE-|VAULT-|alice-(k|new|more)/i;
/** Alice's and the vault's numbers all lie at or above this; bob's never do. */
const FORBIDDEN_NUMBER_MIN = 91000;

export interface Snapshot {
  aliceSecrets: readonly Row[];
  aliceEvents: readonly Row[];
  vault: readonly Row[];
  board: readonly Row[];
}

export interface Fixture {
  db: Database;
  root: Session;
  alice: Session;
  bob: Session;
  /** The state everything is compared against after an attempt. */
  baseline: Snapshot;
  /** `_seq` values of alice's rows, alice's events and the vault: none may reach bob. */
  forbiddenSeqs: Set<bigint>;
  /** Errors from `CREATE USER …` while building the fixture (null if it worked). */
  createUserError: KalamError | null;
}

export async function buildFixture(): Promise<Fixture> {
  const db = await openDatabase({ storage: 'memory' });
  const root = db.session({ user: 'root', role: 'dba' });
  await root.execute(`CREATE NAMESPACE app;
    CREATE USER TABLE app.secrets (id TEXT PRIMARY KEY, secret TEXT NOT NULL, amount INT);
    CREATE STREAM TABLE app.events (id TEXT, kind TEXT, payload TEXT, n INT) WITH (TTL_SECONDS=3600);
    CREATE SHARED TABLE app.vault (id TEXT PRIMARY KEY, secret TEXT, level INT) WITH (ACCESS_LEVEL='private');
    CREATE SHARED TABLE app.board (id TEXT PRIMARY KEY, owner TEXT, note TEXT) WITH (ACCESS_LEVEL='public')`);
  let createUserError: KalamError | null = null;
  try {
    await root.execute(`CREATE USER 'alice' ROLE user; CREATE USER 'bob' ROLE user`);
  } catch (e) {
    createUserError = e instanceof KalamError ? e : new KalamError('INTERNAL', String(e));
  }
  const alice = db.session({ user: 'alice', role: 'user' });
  const bob = db.session({ user: 'bob', role: 'user' });

  await alice.execute(`INSERT INTO app.secrets (id, secret, amount) VALUES
    ('alice-k1', 'ALICE-SECRET-1', 91001), ('alice-k2', 'ALICE-SECRET-2', 91002),
    ('alice-k3', 'ALICE-SECRET-3', 91003), ('k-common', 'ALICE-SECRET-4', 91004),
    ('alice-k5', 'ALICE-DELETED-5', 91005)`);
  await alice.execute(`DELETE FROM app.secrets WHERE id = 'alice-k5'`);
  await alice.execute(`INSERT INTO app.events (id, kind, payload, n) VALUES
    ('ae1', 'login', 'ALICE-EVENT-1', 92001), ('ae2', 'click', 'ALICE-EVENT-2', 92002)`);

  await bob.execute(`INSERT INTO app.secrets (id, secret, amount) VALUES
    ('bob-k1', 'bob-1', 1), ('k-common', 'bob-2', 2), ('bob-del', 'bob-deleted', 3)`);
  await bob.execute(`DELETE FROM app.secrets WHERE id = 'bob-del'`);
  await bob.execute(`INSERT INTO app.events (id, kind, payload, n) VALUES ('be1', 'login', 'bob-event-1', 4)`);

  await root.execute(`INSERT INTO app.vault (id, secret, level) VALUES
    ('v1', 'VAULT-TOKEN-1', 93001), ('v2', 'VAULT-TOKEN-2', 93002), ('v3', 'VAULT-TOKEN-3', 93003)`);
  await root.execute(`INSERT INTO app.board (id, owner, note) VALUES
    ('n1', 'root', 'board-note-1'), ('k-common', 'root', 'board-note-common'), ('bob-k1', 'root', 'board-note-bob')`);

  const f = { db, root, alice, bob, createUserError } as Fixture;
  f.baseline = await snapshot(f);
  f.forbiddenSeqs = new Set(
    [...f.baseline.aliceSecrets, ...f.baseline.aliceEvents, ...f.baseline.vault].map((r) => r._seq as bigint),
  );
  // Sanity: the fixture holds what the attacks are aimed at.
  expect(f.baseline.aliceSecrets.map((r) => r.secret)).toEqual([
    'ALICE-SECRET-1', 'ALICE-SECRET-2', 'ALICE-SECRET-3', 'ALICE-DELETED-5', 'ALICE-SECRET-4',
  ]);
  expect(f.baseline.aliceEvents).toHaveLength(2);
  expect(f.baseline.vault).toHaveLength(3);
  return f;
}

/** Everything bob must never change, read by its owners (alice; root for SHARED tables). */
export async function snapshot(f: Pick<Fixture, 'alice' | 'root'>): Promise<Snapshot> {
  const [aliceSecrets, aliceEvents, vault, board] = await Promise.all([
    f.alice.query(`SELECT id, secret, amount, _seq, _deleted FROM app.secrets WHERE _deleted = true OR _deleted = false ORDER BY id`),
    f.alice.query(`SELECT id, kind, payload, n, _seq FROM app.events ORDER BY id`),
    f.root.query(`SELECT id, secret, level, _seq, _deleted FROM app.vault WHERE _deleted = true OR _deleted = false ORDER BY id`),
    f.root.query(`SELECT id, owner, note, _seq, _deleted FROM app.board WHERE _deleted = true OR _deleted = false ORDER BY id`),
  ]);
  return { aliceSecrets: aliceSecrets.rows, aliceEvents: aliceEvents.rows, vault: vault.rows, board: board.rows };
}

/** Fails if alice's rows, alice's events, the vault or the board differ from the baseline in any row or `_seq`. */
export async function expectUntouched(f: Fixture): Promise<void> {
  let now: Snapshot;
  try {
    now = await snapshot(f);
  } catch (e) {
    throw new Error(`LEAK (write): alice's rows, events or the vault can no longer be read as before: ${e instanceof KalamError ? `${e.code}: ${e.message}` : String(e)}`);
  }
  const same = (a: unknown, b: unknown) => JSON.stringify(a, jsonBig) === JSON.stringify(b, jsonBig);
  for (const k of ['aliceSecrets', 'aliceEvents', 'vault', 'board'] as const) {
    if (!same(now[k], f.baseline[k])) {
      throw new Error(
        `LEAK (write): ${k} changed under bob's attempt.\nbefore: ${JSON.stringify(f.baseline[k], jsonBig)}\nafter:  ${JSON.stringify(now[k], jsonBig)}`,
      );
    }
  }
}

const jsonBig = (_k: string, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v);

/** Walks every value bob got back and reports the first alice/vault value found, with its path. */
export function findLeak(value: unknown, forbiddenSeqs: ReadonlySet<bigint>, path = 'result'): string | null {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'string':
      return FORBIDDEN_TEXT.test(value) ? `${path} = ${JSON.stringify(value)}` : null;
    case 'number':
      return value >= FORBIDDEN_NUMBER_MIN ? `${path} = ${value}` : null;
    case 'bigint':
      if (forbiddenSeqs.has(value)) return `${path} = ${value}n (an alice/vault _seq)`;
      return value >= BigInt(FORBIDDEN_NUMBER_MIN) && value < 1_000_000n ? `${path} = ${value}n` : null;
    case 'object': {
      if (value instanceof Uint8Array) return null;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const hit = findLeak(value[i], forbiddenSeqs, `${path}[${i}]`);
          if (hit) return hit;
        }
        return null;
      }
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        const keyHit = findLeak(k, forbiddenSeqs, `${path} key`);
        if (keyHit) return keyHit;
        const hit = findLeak(v, forbiddenSeqs, `${path}.${k}`);
        if (hit) return hit;
      }
      return null;
    }
    default:
      return null;
  }
}

export function expectNoLeak(f: Fixture, value: unknown, what: string): void {
  const hit = findLeak(value, f.forbiddenSeqs);
  if (hit) throw new Error(`LEAK (read): ${what} returned alice/vault data: ${hit}\nfull: ${JSON.stringify(value, jsonBig)}`);
}

export type Outcome = { kind: 'denied'; error: KalamError } | { kind: 'ok'; results: StatementResult[]; last: StatementResult };

/**
 * Runs one attempt and classifies it. A PERMISSION_DENIED error is a
 * 'denied' outcome; any other failure throws "NOT A PASS" naming the code;
 * a success is deep-scanned for alice/vault values. Then checks nothing of
 * alice's or the vault changed.
 */
export async function attempt(f: Fixture, run: () => Promise<StatementResult[] | StatementResult>, what: string): Promise<Outcome> {
  let outcome: Outcome;
  try {
    const r = await run();
    const results = Array.isArray(r) ? r : [r];
    outcome = { kind: 'ok', results, last: results[results.length - 1] };
  } catch (e) {
    if (e instanceof KalamError && e.code === 'PERMISSION_DENIED') outcome = { kind: 'denied', error: e };
    else {
      const desc = e instanceof KalamError ? `${e.code}: ${e.message}` : `non-KalamError: ${String(e)}`;
      throw new Error(`NOT A PASS — ${what} failed with ${desc} (expected bob's own data or PERMISSION_DENIED)`);
    }
  }
  if (outcome.kind === 'ok') expectNoLeak(f, outcome.results, what);
  else expectNoLeak(f, outcome.error.message, `${what} (error message)`);
  await expectUntouched(f);
  return outcome;
}

/** Bob runs `sql`; it must be refused with PERMISSION_DENIED, and nothing may change. */
export async function expectDenied(f: Fixture, sql: string, params: readonly Value[] = [], session?: Session): Promise<KalamError> {
  const o = await attempt(f, () => (session ?? f.bob).execute(sql, params), sql);
  if (o.kind !== 'denied') {
    throw new Error(`Expected PERMISSION_DENIED for bob, but it succeeded: ${sql} → ${JSON.stringify(o.last.rows, jsonBig)} (${o.last.message})`);
  }
  return o.error;
}

/** Bob runs `sql`; it must succeed without a leak, and the last result's rows must equal `rows` exactly. */
export async function expectBobRows(f: Fixture, sql: string, rows: readonly Record<string, Value>[], params: readonly Value[] = [], session?: Session): Promise<StatementResult> {
  const o = await attempt(f, () => (session ?? f.bob).execute(sql, params), sql);
  if (o.kind === 'denied') throw new Error(`Expected bob's own rows, got PERMISSION_DENIED: ${o.error.message}`);
  expect(o.last.rows).toEqual(rows);
  return o.last;
}

/** Bob runs a write; it must succeed without a leak and affect exactly `count` rows (bob's own), or be denied when allowed. */
export async function expectBobWrite(f: Fixture, sql: string, count: number, params: readonly Value[] = []): Promise<StatementResult> {
  const o = await attempt(f, () => f.bob.execute(sql, params), sql);
  if (o.kind === 'denied') throw new Error(`Expected bob's write to apply to his own rows, got PERMISSION_DENIED: ${o.error.message}`);
  expect(o.last.rowCount).toBe(count);
  return o.last;
}

/** Bob's secrets (with tombstones), as bob sees them. */
export async function bobSecrets(f: Fixture): Promise<readonly Row[]> {
  return (await f.bob.query(`SELECT id, secret, amount, _deleted FROM app.secrets WHERE _deleted = true OR _deleted = false ORDER BY id`)).rows;
}

export const codeOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
  } catch (e) {
    return e instanceof KalamError ? e.code : `non-KalamError: ${String(e)}`;
  }
  return 'no error';
};

/**
 * Bob runs `sql`; it must be refused with PERMISSION_DENIED or one of
 * `codes` — deliberate refusals of a shape (e.g. EXECUTE AS USER inside a
 * transaction), never UNSUPPORTED or PARSE_ERROR — and nothing may change.
 */
export async function expectRefused(f: Fixture, sql: string, codes: readonly string[], params: readonly Value[] = []): Promise<KalamError> {
  let err: KalamError;
  try {
    const r = await f.bob.execute(sql, params);
    throw new Error(`Expected bob's attempt to be refused, but it succeeded: ${sql} → ${JSON.stringify(r.map((x) => x.rows), jsonBig)}`);
  } catch (e) {
    if (!(e instanceof KalamError)) throw e;
    err = e;
  }
  if (err.code !== 'PERMISSION_DENIED' && !codes.includes(err.code)) {
    throw new Error(`NOT A PASS — ${sql} failed with ${err.code}: ${err.message} (expected PERMISSION_DENIED or ${codes.join('/')})`);
  }
  expectNoLeak(f, err.message, `${sql} (error message)`);
  await expectUntouched(f);
  return err;
}
