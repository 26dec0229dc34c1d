import { useMemo, useState, type FormEvent } from 'react';
import { useKalamClient, useLiveQuery, useSession } from '@kalamlite/react';
import { ErrorMessage } from './ErrorMessage';
import { useAction } from './use-action';
import { formatTime } from './format';
import type { Notes as Note } from './db-types';

const NOTES_SQL = 'SELECT id, author, body, created_at FROM demo.notes ORDER BY created_at DESC, id DESC LIMIT 50';

/** Notes everyone sees: a SHARED table with ACCESS_LEVEL 'public'. */
export function Notes() {
  const session = useSession();
  const client = useKalamClient();
  // In KalamDB's role matrix a `user` may read a public SHARED table but only
  // `service` and above may write it: the app posts notes through a service
  // session that signs them with the signed-in user's name.
  const poster = useMemo(() => client?.session({ user: session.user, role: 'service' }), [client, session.user]);
  const { rows: notes, error, status } = useLiveQuery<Note>(NOTES_SQL);
  const action = useAction();
  const [body, setBody] = useState('');

  const add = async (event: FormEvent) => {
    event.preventDefault();
    const trimmed = body.trim();
    if (trimmed === '' || poster === undefined) return;
    const isAdded = await action.run(() =>
      poster.execute('INSERT INTO demo.notes (author, body) VALUES ($1, $2)', [session.user, trimmed]),
    );
    if (isAdded) setBody('');
  };


  return (
    <section className="panel" data-testid="notes">
      <header className="panel-header">
        <h2>Shared notes</h2>
        <span className="badge badge-shared" title="A SHARED table: the same rows for every user">
          SHARED table · everyone sees these
        </span>
      </header>
      <form className="add-row" onSubmit={add}>
        <input
          data-testid="note-input"
          value={body}
          onChange={(e) => setBody(e.target.value)}
          placeholder="Leave a note for everyone…"
          aria-label="New note"
          maxLength={500}
        />
        <button type="submit" data-testid="note-add" disabled={body.trim() === '' || action.isRunning}>
          Post
        </button>
      </form>
      {action.error !== null && <ErrorMessage error={action.error} testId="note-error" onDismiss={action.clearError} />}
      {error !== undefined && <ErrorMessage error={error} testId="note-query-error" />}
      {status === 'loading' ? (
        <p className="empty">Loading…</p>
      ) : notes.length === 0 ? (
        <p className="empty" data-testid="note-empty">
          No notes yet. Post one; every user will see it.
        </p>
      ) : (
        <ul className="list" data-testid="note-list">
          {notes.map((note) => (
            <li key={note.id} className="item note" data-testid="note-item">
              <span className={`avatar small avatar-${note.author}`} aria-hidden="true">
                {note.author.slice(0, 1).toUpperCase()}
              </span>
              <div className="note-text">
                <span className="note-body" data-testid="note-body">
                  {note.body}
                </span>
                <span className="note-meta">
                  {note.author} · {formatTime(note.created_at)}
                </span>
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
