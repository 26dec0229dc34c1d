import { createContext, createElement, useContext, useMemo, type ReactNode } from 'react';
import { KalamError, type ClientSession, type ClientTransaction, type KalamClient, type SessionOptions } from '@kalamlite/worker';

interface KalamContextValue {
  /** null: no client yet (a server render, or createClient() still opening). */
  client: KalamClient | null;
  session: ClientSession;
  /** False while the session cannot run anything (no client, no session given): hooks report 'loading'. */
  ready: boolean;
}

const KalamContext = createContext<KalamContextValue | null>(null);

export interface KalamProviderProps {
  /**
   * The client the hooks below use. `null` (or undefined) while there is
   * none yet — in a server render (createClient() needs a browser), or while
   * createClient() is opening: the hooks then report status 'loading',
   * useSuspenseLiveQuery suspends, and the session's calls reject with CLOSED.
   */
  client: KalamClient | null | undefined;
  /** Who the hooks below run as: session options, or a session made by `client`. */
  session: SessionOptions | ClientSession;
  children?: ReactNode;
}

function isClientSession(session: SessionOptions | ClientSession): session is ClientSession {
  return typeof (session as ClientSession).live === 'function';
}

/**
 * Makes a client session available to the hooks below. Changing the
 * session (another user, role or namespace) makes every hook resubscribe;
 * an equal options object on each render changes nothing.
 */
export function KalamProvider({ client, session, children }: KalamProviderProps) {
  const given = isClientSession(session) ? session : undefined;
  const { user, role, namespace } = session;
  const value = useMemo<KalamContextValue>(() => {
    const options: SessionOptions = namespace === undefined ? { user, role } : { user, role, namespace };
    if (client == null) return { client: null, session: given ?? pendingSession(options), ready: given !== undefined };
    return { client, session: given ?? client.session(options), ready: true };
  }, [client, given, user, role, namespace]);
  return createElement(KalamContext.Provider, { value }, children);
}

/** What the provider above gives (hooks' use). */
export function useKalamContext(hook: string): KalamContextValue {
  const value = useContext(KalamContext);
  if (value === null) {
    throw new KalamError('INVALID_OPTION', `${hook}() must be used inside a <KalamProvider>.`);
  }
  return value;
}

/**
 * The session the surrounding KalamProvider runs as. While the provider has
 * no client yet, its calls reject with CLOSED (nothing is open to run them).
 */
export function useSession(): ClientSession {
  return useKalamContext('useSession').session;
}

/** The client the surrounding KalamProvider was given; null while it has none (server render, opening). */
export function useKalamClient(): KalamClient | null {
  return useKalamContext('useKalamClient').client;
}

/** The session of a provider without a client: who it will be, and calls that reject with CLOSED. */
function pendingSession({ user, role = 'user', namespace }: SessionOptions): ClientSession {
  const closed = () => Promise.reject(new KalamError('CLOSED', 'The database is not open yet: the KalamProvider has no client (a server render, or createClient() has not resolved). Call it once the provider has one.'));
  return {
    user,
    role,
    namespace,
    execute: closed,
    query: closed,
    queryArrow: closed,
    insertMany: closed,
    live: closed,
    begin: closed as () => Promise<ClientTransaction>,
    transaction: closed,
    exportUserData: closed,
    readFile: closed,
    fileUrl: closed,
    consume: () => {
      throw new KalamError('CLOSED', 'The database is not open yet: the KalamProvider has no client (a server render, or createClient() has not resolved). Start the consumer once the provider has one.');
    },
  };
}
