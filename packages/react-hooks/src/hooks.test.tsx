// @vitest-environment happy-dom
import { act, useEffect, type ReactNode } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createLocalClient,
  isKalamError,
  type ClientSession,
  type KalamError,
  type LiveChange,
  type LiveOptions,
  type KalamClient,
  type Row,
  type SessionOptions,
  type Value,
} from '@kalamlite/worker';
import { openDatabase } from '@kalamlite/engine';
import { KalamProvider, useLiveQuery, useQuery, useSession } from './index';
import type { QuerySnapshot } from './store';
import { render, unmountRoot, until } from './test-dom';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const INSERT = 'INSERT INTO app.todos (id, title) VALUES ($1, $2)';
const UPDATE = 'UPDATE app.todos SET title = $2 WHERE id = $1';
const SELECT = 'SELECT id, title FROM app.todos ORDER BY id';

/** A client over a real engine memory database with a USER table `app.todos (id, title)`. */
async function openClient(): Promise<KalamClient> {
  const db = await openDatabase({ storage: 'memory' });
  await db
    .session({ user: 'admin', role: 'dba' })
    .execute('CREATE NAMESPACE IF NOT EXISTS app; CREATE USER TABLE app.todos (id TEXT PRIMARY KEY, title TEXT NOT NULL)');
  return createLocalClient(db);
}

/** A session that counts open live queries and results delivered, to observe the hooks from outside. */
function observed(session: ClientSession) {
  const stats = { liveCalls: 0, open: 0, delivered: 0 };
  const wrapped: ClientSession = {
    ...session,
    execute: session.execute,
    query: session.query,
    async live<T extends object>(
      sql: string,
      params: readonly Value[] | undefined,
      onChange: (rows: readonly T[], change: LiveChange<T>) => unknown,
      onError?: (error: KalamError) => void,
      options?: LiveOptions,
    ) {
      stats.liveCalls++;
      const stop = await session.live<T>(
        sql,
        params,
        (rows, change) => {
          stats.delivered++;
          return onChange(rows, change);
        },
        onError,
        options,
      );
      stats.open++;
      return () => {
        stats.open--;
        stop();
      };
    },
  };
  return { session: wrapped, stats };
}

afterEach(unmountRoot);

/**
 * A live query of `session` outside React (`SELECT id FROM app.todos`, so it
 * shares no subscription with the hooks'): a test waits for a commit to reach
 * it to know the commit has been delivered to the session's live queries.
 */
async function watch(session: ClientSession) {
  let latest: readonly Row[] = [];
  const stop = await session.live('SELECT id FROM app.todos', [], (rows) => {
    latest = rows;
  });
  return {
    stop,
    until: (check: (rows: readonly Row[]) => boolean) => until(() => check(latest)),
  };
}

function LiveList({ sql, params, renders }: { sql: string; params?: readonly string[]; renders: QuerySnapshot[] }) {
  const result = useLiveQuery(sql, params);
  renders.push(result);
  return null;
}

function last<T>(items: T[]): T {
  return items[items.length - 1];
}

describe('useLiveQuery', () => {
  it('renders the live result and re-renders when a row is inserted', async () => {
    const client = await openClient();
    const alice = client.session({ user: 'alice' });
    await alice.execute(INSERT, ['a', 'milk']);
    const renders: QuerySnapshot[] = [];
    render(
      <KalamProvider client={client} session={alice}>
        <LiveList sql={SELECT} renders={renders} />
      </KalamProvider>,
    );
    expect(renders[0].status).toBe('loading');
    await until(() => last(renders).status === 'ready');
    expect(last(renders).rows).toEqual([{ id: 'a', title: 'milk' }]);

    await act(() => alice.execute(INSERT, ['b', 'eggs']));
    await until(() => last(renders).rows.length === 2);
    expect(last(renders).rows.map((row) => row.id)).toEqual(['a', 'b']);
    await client.close();
  });

  it('keeps the identity of rows an update did not touch, and of the array when nothing changed', async () => {
    const client = await openClient();
    const alice = client.session({ user: 'alice' });
    await alice.execute(INSERT, ['a', 'milk']);
    await alice.execute(INSERT, ['b', 'eggs']);
    const renders: QuerySnapshot[] = [];
    render(
      <KalamProvider client={client} session={{ user: 'alice' }}>
        <LiveList sql={SELECT} renders={renders} />
      </KalamProvider>,
    );
    await until(() => last(renders).rows.length === 2);
    const before = last(renders).rows;

    await act(() => alice.execute(UPDATE, ['b', 'bread']));
    await until(() => last(renders).rows[1].title === 'bread');
    const after = last(renders).rows;
    expect(Object.is(after[0], before[0])).toBe(true);
    expect(after[1]).not.toBe(before[1]);

    const rendersBefore = renders.length;
    await act(() => alice.execute(UPDATE, ['b', 'bread']));
    // A later commit the list does show: by the time it renders, the update that changed nothing has come through.
    await act(() => alice.execute(INSERT, ['c', 'cheese']));
    await until(() => last(renders).rows.length === 3);
    expect(renders.slice(rendersBefore).filter((r) => r.rows.length === 2)).toHaveLength(0);
    expect(last(renders).rows[0]).toBe(after[0]);
    expect(last(renders).rows[1]).toBe(after[1]);
    await client.close();
  });

  it('reports an SQL error as status error with a KalamError code, and the next query still runs', async () => {
    const client = await openClient();
    const renders: QuerySnapshot[] = [];
    const tree = (sql: string) => (
      <KalamProvider client={client} session={{ user: 'alice' }}>
        <LiveList sql={sql} renders={renders} />
      </KalamProvider>
    );
    render(tree('SELECT * FROM app.missing'));
    await until(() => last(renders).status === 'error');
    const { error } = last(renders);
    expect(isKalamError(error)).toBe(true);
    expect(error?.code).toBe('TABLE_NOT_FOUND');

    render(tree(SELECT));
    await until(() => last(renders).status === 'ready');
    expect(last(renders).error).toBeUndefined();
    expect(last(renders).rows).toEqual([]);
    await client.close();
  });

  it('stops its live query on unmount, so no further results are delivered', async () => {
    const client = await openClient();
    const alice = client.session({ user: 'alice' });
    const { session, stats } = observed(alice);
    const renders: QuerySnapshot[] = [];
    render(
      <KalamProvider client={client} session={session}>
        <LiveList sql={SELECT} renders={renders} />
      </KalamProvider>,
    );
    await until(() => last(renders).status === 'ready' && stats.open === 1);
    unmountRoot();
    expect(stats.open).toBe(0);
    const delivered = stats.delivered;
    const sentinel = await watch(alice);
    await alice.execute(INSERT, ['a', 'milk']);
    // The same commit reached another live query of the session: it would have reached the list's too.
    await sentinel.until((rows) => rows.length === 1);
    expect(stats.delivered).toBe(delivered);
    sentinel.stop();
    await client.close();
  });

  it('compares parameters by value, so an inline array does not resubscribe on every render', async () => {
    const client = await openClient();
    const { session, stats } = observed(client.session({ user: 'alice' }));
    const renders: QuerySnapshot[] = [];
    const tree = (n: number) => (
      <KalamProvider client={client} session={session}>
        <LiveList sql={SELECT} params={[]} renders={renders} key="list" />
        <span>{n}</span>
      </KalamProvider>
    );
    render(tree(1));
    await until(() => last(renders).status === 'ready');
    render(tree(2));
    render(tree(3));
    // The list still delivers, through its one live query.
    await act(() => client.session({ user: 'alice' }).execute(INSERT, ['a', 'milk']));
    await until(() => last(renders).rows.length === 1);
    expect(stats.liveCalls).toBe(1);
    expect(stats.open).toBe(1);
    await client.close();
  });

  it('resubscribes as the new user when the session changes', async () => {
    const client = await openClient();
    await client.session({ user: 'alice' }).execute(INSERT, ['a', 'alice todo']);
    await client.session({ user: 'bob' }).execute(INSERT, ['b', 'bob todo']);
    const renders: QuerySnapshot[] = [];
    const seen: string[] = [];
    function WhoAmI() {
      const session = useSession();
      useEffect(() => void seen.push(session.user), [session]);
      return null;
    }
    const tree = (session: SessionOptions) => (
      <KalamProvider client={client} session={session}>
        <WhoAmI />
        <LiveList sql={SELECT} renders={renders} />
      </KalamProvider>
    );
    render(tree({ user: 'alice' }));
    await until(() => last(renders).rows[0]?.title === 'alice todo');
    render(tree({ user: 'alice' }));
    render(tree({ user: 'bob' }));
    await until(() => last(renders).rows[0]?.title === 'bob todo');
    expect(seen).toEqual(['alice', 'bob']);
    await client.close();
  });

  it('throws a KalamError when used outside a KalamProvider', () => {
    const errors: unknown[] = [];
    function Bare() {
      try {
        useLiveQuery(SELECT);
      } catch (e) {
        errors.push(e);
      }
      return null;
    }
    render(<Bare />);
    expect(isKalamError(errors[0])).toBe(true);
  });
});

describe('useQuery', () => {
  it('loads once, and refetch keeps unchanged rows and picks up new ones', async () => {
    const client = await openClient();
    const alice = client.session({ user: 'alice' });
    await alice.execute(INSERT, ['a', 'milk']);
    const results: (QuerySnapshot & { refetch(): Promise<void> })[] = [];
    function Once() {
      results.push(useQuery(SELECT, []));
      return null;
    }
    render(
      <KalamProvider client={client} session={alice}>
        <Once />
      </KalamProvider>,
    );
    expect(results[0].status).toBe('loading');
    await until(() => last(results).status === 'ready');
    const first: readonly Row[] = last(results).rows;
    expect(first).toEqual([{ id: 'a', title: 'milk' }]);

    await act(() => last(results).refetch());
    expect(last(results).rows).toBe(first);

    const sentinel = await watch(alice);
    await alice.execute(INSERT, ['b', 'eggs']);
    // A live query of the session saw the insert; the one-shot query's rows did not change.
    await sentinel.until((rows) => rows.length === 2);
    await act(async () => undefined);
    expect(last(results).rows).toBe(first);
    sentinel.stop();
    await act(() => last(results).refetch());
    expect(last(results).rows).toHaveLength(2);
    expect(last(results).rows[0]).toBe(first[0]);
    await client.close();
  });

  it('reports a failing query as status error and recovers on the next statement', async () => {
    const client = await openClient();
    const results: QuerySnapshot[] = [];
    function Once({ sql }: { sql: string }) {
      results.push(useQuery(sql));
      return null;
    }
    const tree = (sql: string) => (
      <KalamProvider client={client} session={{ user: 'alice' }}>
        <Once sql={sql} />
      </KalamProvider>
    );
    render(tree('SELECT id FROM app.todos WHERE'));
    await until(() => last(results).status === 'error');
    expect(last(results).error?.code).toBe('PARSE_ERROR');
    render(tree(SELECT));
    await until(() => last(results).status === 'ready');
    await client.close();
  });
});
