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

  /** The session for `key`; the engine's `db.session()` judges a key it has not seen (INVALID_PARAMETER for a bad user or role). */
  get(key: SessionKey): Session {
    const id = cacheKey(key);
    // Only keys of strings are cached; any other is the engine's to refuse.
    if (id === undefined) return this.open(key);
    let session = this.sessions.get(id);
    if (session !== undefined) {
      this.sessions.delete(id);
    } else {
      session = this.open(key);
      if (this.sessions.size >= this.size) {
        this.sessions.delete(this.sessions.keys().next().value as string);
      }
    }
    this.sessions.set(id, session);
    return session;
  }

  private open(key: SessionKey): Session {
    return this.db.session(
      key.namespace === undefined
        ? { user: key.user, role: key.role }
        : { user: key.user, role: key.role, namespace: key.namespace },
    );
  }

  /** Forgets `session` if it is still cached for `key` (a `USE` made it stop matching its key). */
  drop(key: SessionKey, session: Session): void {
    const id = cacheKey(key);
    if (id !== undefined && this.sessions.get(id) === session) this.sessions.delete(id);
  }

  get count(): number {
    return this.sessions.size;
  }

  clear(): void {
    this.sessions.clear();
  }
}

function cacheKey({ user, role, namespace }: SessionKey): string | undefined {
  if (typeof user !== 'string' || typeof role !== 'string' || (namespace !== undefined && typeof namespace !== 'string')) return undefined;
  return JSON.stringify([role, namespace ?? null, user]);
}
