import { useEffect, useMemo, useState } from 'react';
import { KalamProvider } from '@kalamlite/react';
import { loadCurrentUser, saveCurrentUser } from './current-user';
import type { KalamClient } from '@kalamlite/worker';
import { openDemoDatabase } from './database';
import { ErrorMessage } from './ErrorMessage';
import { Notes } from './Notes';
import type { DemoUser } from './schema';
import { SqlConsole } from './SqlConsole';
import { TabsBadge } from './TabsBadge';
import { TodoBadge } from './TodoBadge';
import { Todos } from './Todos';
import { UserSwitcher } from './UserSwitcher';

type Startup = { kind: 'opening' } | { kind: 'ready'; client: KalamClient } | { kind: 'failed'; error: unknown };

export function App() {
  const [startup, setStartup] = useState<Startup>({ kind: 'opening' });

  useEffect(() => {
    let isCurrent = true;
    openDemoDatabase().then(
      (client) => isCurrent && setStartup({ kind: 'ready', client }),
      (error: unknown) => isCurrent && setStartup({ kind: 'failed', error }),
    );
    return () => {
      isCurrent = false;
    };
  }, []);

  switch (startup.kind) {
    case 'opening':
      return (
        <div className="status-page" data-testid="app-opening">
          Opening the database…
        </div>
      );
    case 'failed':
      return (
        <div className="status-page" data-testid="app-failed">
          <h1>The database could not be opened</h1>
          <ErrorMessage error={startup.error} testId="startup-error" />
        </div>
      );
    case 'ready':
      return <Workspace client={startup.client} />;
    default: {
      const unreachable: never = startup;
      return unreachable;
    }
  }
}

function Workspace({ client }: { client: KalamClient }) {
  const [user, setUser] = useState<DemoUser>(loadCurrentUser);
  const session = useMemo(() => client.session({ user, role: 'user' }), [client, user]);

  const switchUser = (next: DemoUser) => {
    saveCurrentUser(next);
    setUser(next);
  };

  return (
    <KalamProvider client={client} session={session}>
      <div className="app" data-testid="app-ready" data-user={user}>
        <header className="app-header" data-testid="app-header">
          <div>
            <h1>kalamlite demo</h1>
            <p>A SQL database in a Web Worker over IndexedDB. Everything stays in this browser.</p>
            <TodoBadge />
          </div>
          <UserSwitcher current={user} onChange={switchUser} />
        </header>
        <TabsBadge client={client} />
        <div className="columns">
          {/* Keyed by user: switching users also clears a half-typed to-do and its error. */}
          <Todos key={user} />
          <Notes />
        </div>
        <SqlConsole key={user} />
        <footer className="footer">
          Stored in this browser&apos;s IndexedDB (database “kalamlite-demo”). Reload the page: everything is still here.
        </footer>
      </div>
    </KalamProvider>
  );
}
