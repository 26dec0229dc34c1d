import { createContext, createElement, useContext, useMemo, type ReactNode } from 'react';
import { KalamError, type ClientSession, type KalamClient, type SessionOptions } from '@kalamlite/worker';

interface KalamContextValue {
  client: KalamClient;
  session: ClientSession;
}

const KalamContext = createContext<KalamContextValue | null>(null);

export interface KalamProviderProps {
  client: KalamClient;
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
  const value = useMemo<KalamContextValue>(
    () => ({
      client,
      session: given ?? client.session(namespace === undefined ? { user, role } : { user, role, namespace }),
    }),
    [client, given, user, role, namespace],
  );
  return createElement(KalamContext.Provider, { value }, children);
}

function useKalamContext(hook: string): KalamContextValue {
  const value = useContext(KalamContext);
  if (value === null) {
    throw new KalamError('INVALID_OPTION', `${hook}() must be used inside a <KalamProvider>.`);
  }
  return value;
}

/** The session the surrounding KalamProvider runs as. */
export function useSession(): ClientSession {
  return useKalamContext('useSession').session;
}

/** The client the surrounding KalamProvider was given. */
export function useKalamClient(): KalamClient {
  return useKalamContext('useKalamClient').client;
}
