import { describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../api/database';
import { EXPECTED_TARGETS } from '../auth/role-matrix.fixture';
import { KalamError } from '../core/errors';
import type { FileRef, Role } from '../core/types';
import { MemoryBlobStore } from '../storage/blob-store';

const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(KalamError);
    return (e as KalamError).code;
  }
  return 'ok';
};

/** Each target user (by role) owns one file in a USER table; a SHARED table holds one more. */
const TARGETS: Record<Role, string> = { user: 'alice', service: 'svc', dba: 'ops', system: 'root2' };

async function setup(): Promise<{ db: Database; refs: Record<string, FileRef>; shared: FileRef }> {
  const db = await openDatabase({ storage: 'memory', blobStore: new MemoryBlobStore() });
  const root = db.session({ user: 'root', role: 'system' });
  await root.execute(`CREATE NAMESPACE app;
    CREATE USER TABLE app.docs (id INT PRIMARY KEY, body FILE);
    CREATE SHARED TABLE app.assets (id INT PRIMARY KEY, logo FILE) WITH (ACCESS_LEVEL = 'public');
    CREATE USER 'alice' ROLE user; CREATE USER 'bob' ROLE user; CREATE USER 'svc' ROLE service; CREATE USER 'ops' ROLE dba; CREATE USER 'root2' ROLE system`);
  const refs: Record<string, FileRef> = {};
  for (const [role, user] of [...Object.entries(TARGETS), ['user', 'bob']] as [Role, string][]) {
    const s = db.session({ user, role });
    await s.execute('INSERT INTO app.docs (id, body) VALUES (1, $1)', [new Blob([user])]);
    refs[user] = (await s.query('SELECT body FROM app.docs WHERE id = 1')).rows[0].body as unknown as FileRef;
  }
  await root.execute('INSERT INTO app.assets (id, logo) VALUES (1, $1)', [new Blob(['logo'])]);
  const shared = (await root.query('SELECT logo FROM app.assets')).rows[0].logo as unknown as FileRef;
  return { db, refs, shared };
}

describe('readFile as another user (EXECUTE AS USER rules)', () => {
  it('follows the EXECUTE AS USER role matrix: each actor role reads as the target roles it may impersonate, and is refused the others', async () => {
    const { db, refs } = await setup();
    const allowed = EXPECTED_TARGETS; // actor role → the target roles it may impersonate (reference §2.4)
    for (const actorRole of ['user', 'service', 'dba', 'system'] as Role[]) {
      const actor = db.session({ user: `actor_${actorRole}`, role: actorRole });
      for (const [targetRole, target] of Object.entries(TARGETS) as [Role, string][]) {
        const outcome = await codeOf(actor.readFile(refs[target], { asUser: target }));
        expect([actorRole, targetRole, outcome]).toEqual([actorRole, targetRole, allowed[actorRole].includes(targetRole) ? 'ok' : 'PERMISSION_DENIED']);
        if (outcome === 'ok') expect(await (await actor.readFile(refs[target], { asUser: target })).text()).toBe(target);
      }
    }
    await db.close();
  });

  it('reads exactly what the target could: not another user\'s file, not a SHARED table\'s; a user session only as itself; every attempt audited', async () => {
    const { db, refs, shared } = await setup();
    const ops = db.session({ user: 'ops', role: 'dba' });
    const alice = db.session({ user: 'alice', role: 'user' });
    expect(await codeOf(ops.readFile(refs.alice))).toBe('FILE_NOT_FOUND'); // as itself: not its file
    expect(await (await ops.readFile(refs.alice, { asUser: 'alice' })).text()).toBe('alice');
    expect(await codeOf(ops.readFile(refs.bob, { asUser: 'alice' }))).toBe('FILE_NOT_FOUND'); // alice cannot read bob's
    await expect(ops.readFile(shared, { asUser: 'alice' })).rejects.toMatchObject({ code: 'PERMISSION_DENIED', message: expect.stringContaining('SHARED') });
    expect(await (await alice.readFile(refs.alice, { asUser: 'alice' })).text()).toBe('alice'); // anyone may target themselves
    await expect(alice.readFile(refs.bob, { asUser: 'bob' })).rejects.toMatchObject({ code: 'PERMISSION_DENIED', message: expect.stringContaining('EXECUTE AS USER is not authorized') });
    for (const bad of [{ asUser: '' }, { asUser: 7 }, { as: 'alice' }, 'alice']) {
      expect(await codeOf(ops.readFile(refs.alice, bad as never))).toBe('INVALID_OPTION');
    }
    const audit = (await db.session({ user: 'root', role: 'system' }).query(
      `SELECT actor_user_id, subject_user_id, outcome, details FROM system.audit_log WHERE action = 'EXECUTE_AS_USER' ORDER BY audit_id`,
    )).rows;
    expect(audit).toEqual([
      { actor_user_id: 'ops', subject_user_id: 'alice', outcome: 'allowed', details: 'read_file' },
      { actor_user_id: 'ops', subject_user_id: 'alice', outcome: 'denied', details: 'read_file: FILE_NOT_FOUND' },
      { actor_user_id: 'ops', subject_user_id: 'alice', outcome: 'denied', details: 'read_file: PERMISSION_DENIED' },
      { actor_user_id: 'alice', subject_user_id: 'alice', outcome: 'allowed', details: 'read_file' },
      { actor_user_id: 'alice', subject_user_id: 'bob', outcome: 'denied', details: 'read_file: role_not_allowed' },
    ]);
    await db.close();
  });
});
