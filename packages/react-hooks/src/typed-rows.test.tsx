// @vitest-environment happy-dom
// Typed rows through the hooks: useLiveQuery<T>, useQuery<T> and
// useSuspenseLiveQuery<T> return rows typed T (bigint ids, string | null
// columns) with the values the engine's type mapping gives. The type
// assertions are checked by `tsc` (npm test).
import { Suspense } from 'react';
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import { createLocalClient, type KalamClient, type LiveChange } from '@kalamlite/worker';
import { openDatabase } from '@kalamlite/engine';
import { KalamProvider, useLiveQuery, useQuery, useSuspenseLiveQuery } from './index';
import { render, unmountRoot, until } from './test-dom';

afterEach(unmountRoot);

/** As `kalamlite types` emits it for app.parts. */
interface Parts {
  readonly id: bigint;
  readonly name: string;
  readonly note: string | null;
}

async function openClient(): Promise<KalamClient> {
  const db = await openDatabase({ storage: 'memory' });
  await db
    .session({ user: 'admin', role: 'dba' })
    .execute(`CREATE NAMESPACE app; CREATE USER TABLE app.parts (id BIGINT PRIMARY KEY, name TEXT NOT NULL, note TEXT)`);
  return createLocalClient(db);
}

const SELECT = 'SELECT id, name, note FROM app.parts ORDER BY id';

function LiveParts() {
  const { rows, changes } = useLiveQuery<Parts>(SELECT);
  expectTypeOf(rows).toEqualTypeOf<readonly Parts[]>();
  expectTypeOf(changes).toEqualTypeOf<LiveChange<Parts> | undefined>();
  // No casts: id is a bigint, name a string, note string | null.
  return <ul>{rows.map((p) => <li key={p.id.toString()}>{`${p.name.toUpperCase()}#${p.id + 1n}:${p.note ?? '-'}`}</li>)}</ul>;
}

function OnceParts() {
  const { rows } = useQuery<Parts>(SELECT);
  expectTypeOf(rows).toEqualTypeOf<readonly Parts[]>();
  return <p data-testid="once">{rows.map((p) => p.name.length).join(',')}</p>;
}

function SuspendedParts() {
  const { rows, status } = useSuspenseLiveQuery<Parts>(SELECT);
  expectTypeOf(rows).toEqualTypeOf<readonly Parts[]>();
  expectTypeOf(status).toEqualTypeOf<'ready' | 'error'>();
  return <p data-testid="suspended">{rows.map((p) => typeof p.id).join(',')}</p>;
}

describe('typed rows in hooks', () => {
  it('render typed rows with the mapped values: bigint ids, text, null for an empty nullable column', async () => {
    const client = await openClient();
    const alice = client.session({ user: 'alice' });
    await alice.execute(`INSERT INTO app.parts (id, name, note) VALUES (1, 'bolt', NULL), (9007199254740993, 'nut', 'M4')`);
    // The client's own query<T>() (what the hooks build on) types the rows the same way.
    const { rows } = await alice.query<Parts>(SELECT);
    expectTypeOf(rows).toEqualTypeOf<readonly Parts[]>();
    expect(rows.map((p) => [p.id, p.note])).toEqual([[1n, null], [9007199254740993n, 'M4']]);
    const container = render(
      <KalamProvider client={client} session={alice}>
        <LiveParts />
        <OnceParts />
        <Suspense fallback={<p>loading</p>}>
          <SuspendedParts />
        </Suspense>
      </KalamProvider>,
    );
    await until(() => container.querySelectorAll('li').length === 2 && container.querySelector('[data-testid=suspended]') !== null && container.querySelector('[data-testid=once]')?.textContent !== '');
    expect([...container.querySelectorAll('li')].map((li) => li.textContent)).toEqual(['BOLT#2:-', 'NUT#9007199254740994:M4']);
    expect(container.querySelector('[data-testid=once]')?.textContent).toBe('4,3');
    expect(container.querySelector('[data-testid=suspended]')?.textContent).toBe('bigint,bigint');
    await client.close();
  });
});
