// @vitest-environment happy-dom
import { act, Component, memo, StrictMode, Suspense, type ReactNode } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { createLocalClient, type ClientSession, type KalamClient, type Row } from '@kalamlite/worker';
import { openDatabase } from '@kalamlite/engine';
import { KalamProvider, useLiveQuery, useSuspenseLiveQuery } from './index';
import type { QuerySnapshot } from './store';
import { render, unmountRoot, until } from './test-dom';
import { pendingSuspenseStores } from './suspense-cache';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const INSERT = 'INSERT INTO app.todos (id, title) VALUES ($1, $2)';
const UPDATE = 'UPDATE app.todos SET title = $2 WHERE id = $1';
const SELECT = 'SELECT id, title FROM app.todos ORDER BY id';

async function openClient(): Promise<KalamClient> {
  const db = await openDatabase({ storage: 'memory' });
  await db
    .session({ user: 'admin', role: 'dba' })
    .execute('CREATE NAMESPACE IF NOT EXISTS app; CREATE USER TABLE app.todos (id TEXT PRIMARY KEY, title TEXT NOT NULL)');
  return createLocalClient(db);
}

/** A session that counts the live queries it has open, and the live() calls started and resolved. */
function counted(session: ClientSession) {
  const stats = { started: 0, resolved: 0, open: 0 };
  const wrapped: ClientSession = {
    ...session,
    async live(sql, params, onChange, onError, options) {
      stats.started++;
      const stop = await session.live(sql, params, onChange, onError, options);
      stats.resolved++;
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

const last = <T,>(items: T[]): T => items[items.length - 1];

function LiveList({ renders }: { renders: QuerySnapshot[] }) {
  renders.push(useLiveQuery(SELECT));
  return null;
}

describe('useLiveQuery, live', () => {
  it('holds exactly one live query under StrictMode double mounting, and none after unmount', async () => {
    const client = await openClient();
    const { session, stats } = counted(client.session({ user: 'alice' }));
    const renders: QuerySnapshot[] = [];
    render(
      <StrictMode>
        <KalamProvider client={client} session={session}>
          <LiveList renders={renders} />
        </KalamProvider>
      </StrictMode>,
    );
    await until(() => last(renders).status === 'ready');
    // Every live() call StrictMode's double mount started has resolved: one live query stays open.
    await until(() => stats.started >= 1 && stats.resolved === stats.started);
    expect(stats.open).toBe(1);
    unmountRoot();
    await until(() => stats.open === 0);
    await client.close();
  });

  it('reports what each commit changed in `changes`', async () => {
    const client = await openClient();
    const alice = client.session({ user: 'alice' });
    await alice.execute(INSERT, ['a', 'milk']);
    const renders: QuerySnapshot[] = [];
    render(
      <KalamProvider client={client} session={alice}>
        <LiveList renders={renders} />
      </KalamProvider>,
    );
    await until(() => last(renders).status === 'ready');
    expect(last(renders).changes?.kind).toBe('snapshot');
    await act(() => alice.execute(UPDATE, ['a', 'oat milk']));
    await until(() => last(renders).rows[0]?.title === 'oat milk');
    expect(last(renders).changes).toMatchObject({ kind: 'changes', updated: [{ row: { title: 'oat milk' }, old: { title: 'milk' } }] });
    // A delete names the key and hands back the row object the list showed (to animate or undo it).
    const shown = last(renders).rows[0];
    await act(() => alice.execute('DELETE FROM app.todos WHERE id = $1', ['a']));
    await until(() => last(renders).rows.length === 0);
    const deleted = last(renders).changes;
    expect(deleted).toMatchObject({ kind: 'changes', deleted: ['a'], deletedRows: [{ key: 'a' }] });
    expect(deleted?.kind === 'changes' && deleted.deletedRows?.[0].old).toBe(shown);
    await client.close();
  });

  it('does not re-render a React.memo row component for rows a commit left unchanged', async () => {
    const client = await openClient();
    const alice = client.session({ user: 'alice' });
    for (const id of ['a', 'b', 'c']) await alice.execute(INSERT, [id, `title ${id}`]);
    const rowRenders = new Map<string, number>();
    const Item = memo(function Item({ row }: { row: Row }) {
      rowRenders.set(String(row.id), (rowRenders.get(String(row.id)) ?? 0) + 1);
      return null;
    });
    function List() {
      const { rows } = useLiveQuery(SELECT);
      return (
        <>
          {rows.map((row) => (
            <Item key={String(row.id)} row={row} />
          ))}
        </>
      );
    }
    render(
      <KalamProvider client={client} session={alice}>
        <List />
      </KalamProvider>,
    );
    await until(() => rowRenders.size === 3);
    await act(() => alice.execute(UPDATE, ['b', 'changed']));
    await until(() => rowRenders.get('b') === 2);
    await act(() => alice.execute(INSERT, ['d', 'new']));
    await until(() => rowRenders.has('d'));
    expect(Object.fromEntries(rowRenders)).toEqual({ a: 1, b: 2, c: 1, d: 1 });
    await client.close();
  });
});

class Boundary extends Component<{ children: ReactNode; onError: (e: unknown) => void }, { failed: boolean }> {
  override state = { failed: false };
  static getDerivedStateFromError() {
    return { failed: true };
  }
  override componentDidCatch(error: unknown) {
    this.props.onError(error);
  }
  override render() {
    return this.state.failed ? null : this.props.children;
  }
}

describe('useSuspenseLiveQuery', () => {
  function SuspenseList({ renders, sql = SELECT }: { renders: QuerySnapshot[]; sql?: string }) {
    renders.push(useSuspenseLiveQuery(sql));
    return <p data-testid="list">{renders.length}</p>;
  }

  it('suspends until the first result, then renders it live with one live query, also under StrictMode', async () => {
    const client = await openClient();
    const alice = client.session({ user: 'alice' });
    await alice.execute(INSERT, ['a', 'milk']);
    const { session, stats } = counted(alice);
    const renders: QuerySnapshot[] = [];
    const container = render(
      <StrictMode>
        <KalamProvider client={client} session={session}>
          <Suspense fallback={<p data-testid="fallback">loading</p>}>
            <SuspenseList renders={renders} />
          </Suspense>
        </KalamProvider>
      </StrictMode>,
    );
    expect(container.querySelector('[data-testid="fallback"]')).not.toBeNull();
    expect(renders).toHaveLength(0);
    await until(() => renders.length > 0);
    expect(last(renders)).toMatchObject({ status: 'ready', rows: [{ id: 'a', title: 'milk' }] });
    await until(() => container.querySelector('[data-testid="list"]') !== null);

    await act(() => alice.execute(INSERT, ['b', 'eggs']));
    await until(() => last(renders).rows.length === 2);
    await until(() => stats.resolved === stats.started);
    expect(stats.open).toBe(1);
    expect(pendingSuspenseStores(session)).toBe(0);

    unmountRoot();
    await until(() => stats.open === 0);
    await client.close();
  });

  it('throws a failing first result to the error boundary as a KalamError', async () => {
    const client = await openClient();
    const errors: unknown[] = [];
    const renders: QuerySnapshot[] = [];
    render(
      <KalamProvider client={client} session={{ user: 'alice' }}>
        <Boundary onError={(e) => errors.push(e)}>
          <Suspense fallback={null}>
            <SuspenseList renders={renders} sql="SELECT * FROM app.missing" />
          </Suspense>
        </Boundary>
      </KalamProvider>,
    );
    await until(() => errors.length > 0);
    expect(errors[0]).toMatchObject({ code: 'TABLE_NOT_FOUND' });
    expect(renders).toHaveLength(0);
    await client.close();
  });
});
