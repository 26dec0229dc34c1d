import type { Database, Session } from '@kalamlite/engine';
import type { SessionKey } from './protocol';

/** Distinct (user, role, namespace) sessions kept; beyond it the least recently used is dropped. */
export const SESSION_CACHE_SIZE = 64;

/**
 * Engine sessions by (user, role, namespace), so a call does not build a
 * session each time. Bounded LRU (a Map in access order); a dropped session
 * is simply rebuilt on next use, and live subscriptions keep their own
 * reference.
 */
export class SessionCache {
  // Owner: this cache; at most `size` entries.
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly db: Database,
    private readonly size = SESSION_CACHE_SIZE,
  ) {}

  get(key: SessionKey): Session {
    const id = cacheKey(key);
    let session = this.sessions.get(id);
    if (session !== undefined) {
      this.sessions.delete(id);
    } else {
      session = this.db.session(
        key.namespace === undefined
          ? { user: key.user, role: key.role }
          : { user: key.user, role: key.role, namespace: key.namespace },
      );
      if (this.sessions.size >= this.size) {
        this.sessions.delete(this.sessions.keys().next().value as string);
      }
    }
    this.sessions.set(id, session);
    return session;
  }

  /** Forgets `session` if it is still cached for `key` (a `USE` made it stop matching its key). */
  drop(key: SessionKey, session: Session): void {
    const id = cacheKey(key);
    if (this.sessions.get(id) === session) this.sessions.delete(id);
  }

  get count(): number {
    return this.sessions.size;
  }

  clear(): void {
    this.sessions.clear();
  }
}

function cacheKey(key: SessionKey): string {
  return JSON.stringify([key.role, key.namespace ?? null, key.user]);
}
