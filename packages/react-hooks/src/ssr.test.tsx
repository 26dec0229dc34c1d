// Server rendering (Next.js, Remix): the packages import in plain Node
// without touching a browser API, and with no client yet (createClient()
// needs a browser) the hooks render status 'loading', the suspense hook the
// nearest fallback, and the session's calls reject with CLOSED.
import { Suspense } from 'react';
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';

describe('server rendering', () => {
  it('imports @kalamlite/engine, @kalamlite/worker and @kalamlite/react in Node without a browser', async () => {
    expect(typeof globalThis.window).toBe('undefined');
    const engine = await import('@kalamlite/engine');
    const worker = await import('@kalamlite/worker');
    const react = await import('./index');
    expect(typeof engine.openDatabase).toBe('function');
    expect(typeof worker.createClient).toBe('function');
    expect(typeof react.useLiveQuery).toBe('function');
  });

  it("renders status 'loading' for useLiveQuery and useQuery, and the Suspense fallback for useSuspenseLiveQuery, without a client", async () => {
    const { KalamProvider, useLiveQuery, useQuery, useSuspenseLiveQuery, useKalamClient } = await import('./index');
    function Live() {
      const { rows, status } = useLiveQuery<{ id: string }>('SELECT id FROM app.todos');
      return <p>{`live:${status}:${rows.length}`}</p>;
    }
    function Once() {
      const { rows, status, error } = useQuery('SELECT 1');
      return <p>{`once:${status}:${rows.length}:${error === undefined ? 'none' : error.code}`}</p>;
    }
    function Suspended() {
      const { rows } = useSuspenseLiveQuery('SELECT 1');
      return <p>{`suspended:${rows.length}`}</p>;
    }
    function Client() {
      return <p>{`client:${useKalamClient() === null ? 'none' : 'some'}`}</p>;
    }
    const html = renderToString(
      <KalamProvider client={null} session={{ user: 'alice' }}>
        <Live />
        <Once />
        <Client />
        <Suspense fallback={<p>fallback</p>}>
          <Suspended />
        </Suspense>
      </KalamProvider>,
    );
    expect(html).toContain('live:loading:0');
    expect(html).toContain('once:loading:0:none');
    expect(html).toContain('client:none');
    expect(html).toContain('fallback');
    expect(html).not.toContain('suspended:');
  });

  it('gives a session whose calls reject with CLOSED while the provider has no client', async () => {
    const { KalamProvider, useSession } = await import('./index');
    let session: ReturnType<typeof useSession> | undefined;
    function Grab() {
      session = useSession();
      return null;
    }
    renderToString(
      <KalamProvider client={undefined} session={{ user: 'alice', role: 'user' }}>
        <Grab />
      </KalamProvider>,
    );
    expect(session?.user).toBe('alice');
    await expect(session!.query('SELECT 1')).rejects.toMatchObject({ code: 'CLOSED' });
  });
});
