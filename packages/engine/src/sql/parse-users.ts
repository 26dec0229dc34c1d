/**
 * CREATE USER / ALTER USER / DROP USER (reference §1.1), without passwords
 * (DIALECT.md: the app names the user when it opens a session).
 */
import { KalamError } from '../core/errors';
import type { Statement } from './ast';
import type { Cursor } from './cursor';

function userId(c: Cursor): string {
  const t = c.next();
  if (t.type !== 'string' && t.type !== 'word' && t.type !== 'quoted') c.fail("expected a user id in single quotes, like 'alice'");
  return t.text;
}

const noPasswords = () =>
  new KalamError('UNSUPPORTED', 'Passwords are not used in kalamlite: the app names the user when it opens a session (db.session({ user, role })). Omit PASSWORD.');

export function parseUserStatement(c: Cursor): Statement | undefined {
  if (c.isWord('CREATE') && c.isWord('USER', 1) && !c.isWord('TABLE', 2)) {
    c.next();
    c.next();
    const ifNotExists = c.acceptWords('IF', 'NOT', 'EXISTS');
    const user = userId(c);
    let role: string | undefined;
    let email: string | undefined;
    while (!c.atEnd()) {
      if (c.acceptWord('WITH')) {
        if (c.isWord('PASSWORD')) throw noPasswords();
        if (!(c.acceptWord('INTERNAL') || c.acceptWord('OAUTH'))) c.fail('expected INTERNAL or OAUTH');
        continue;
      }
      if (c.isWord('PASSWORD')) throw noPasswords();
      if (c.acceptWord('ROLE')) { role = c.identifier('a role'); continue; }
      if (c.acceptWord('EMAIL')) { email = userId(c); continue; }
      c.fail('expected ROLE or EMAIL');
    }
    if (!role) throw new KalamError('INVALID_SQL', "CREATE USER needs a role: CREATE USER 'id' ROLE user|service|dba|system");
    const stmt: Statement = { kind: 'createUser', user, role, ifNotExists };
    if (email !== undefined) stmt.email = email;
    return stmt;
  }
  if (c.isWord('ALTER') && c.isWord('USER', 1)) {
    c.next();
    c.next();
    const user = userId(c);
    c.expectWord('SET');
    if (c.isWord('PASSWORD')) throw noPasswords();
    if (c.acceptWord('ROLE')) {
      const role = c.identifier('a role');
      c.end();
      return { kind: 'alterUser', user, role };
    }
    if (c.acceptWord('EMAIL')) {
      const email = userId(c);
      c.end();
      return { kind: 'alterUser', user, email };
    }
    c.fail('expected SET ROLE or SET EMAIL');
  }
  if (c.isWord('DROP') && c.isWord('USER', 1) && !c.isWord('TABLE', 2)) {
    c.next();
    c.next();
    const ifExists = c.acceptWords('IF', 'EXISTS');
    const user = userId(c);
    c.end();
    return { kind: 'dropUser', user, ifExists };
  }
  return undefined;
}
