import { memo, useCallback, useRef, useState, type FormEvent } from 'react';
import { useLiveQuery, useSession } from '@kalamlite/react';
import type { Todos as Todo } from './db-types';
import { ErrorMessage } from './ErrorMessage';
import { useAction } from './use-action';

const TODOS_SQL = 'SELECT id, title, done, created_at FROM demo.todos ORDER BY created_at DESC, id DESC';

/** The current user's private to-do list: a USER table, so only their rows. */
export function Todos() {
  const session = useSession();
  const { rows: todos, error, status } = useLiveQuery<Todo>(TODOS_SQL);
  const action = useAction();
  const [title, setTitle] = useState('');

  const add = async (event: FormEvent) => {
    event.preventDefault();
    const trimmed = title.trim();
    if (trimmed === '') return;
    const isAdded = await action.run(() => session.execute('INSERT INTO demo.todos (title) VALUES ($1)', [trimmed]));
    if (isAdded) setTitle('');
  };
  // Stable callbacks, so the memoized rows below re-render only when their row object changes.
  const run = action.run;
  const toggle = useCallback(
    (id: string) => void run(() => session.execute('UPDATE demo.todos SET done = NOT done WHERE id = $1', [id])),
    [run, session],
  );
  const remove = useCallback((id: string) => void run(() => session.execute('DELETE FROM demo.todos WHERE id = $1', [id])), [run, session]);

  const openCount = todos.filter((todo) => !todo.done).length;

  return (
    <section className="panel" data-testid="todos">
      <header className="panel-header">
        <h2>My to-dos</h2>
        <span className="badge" title="A USER table: every user has their own rows">
          USER table · only {session.user} sees these
        </span>
      </header>
      <form className="add-row" onSubmit={add}>
        <input
          data-testid="todo-input"
          value={title}
          onChange={(e) => setTitle(e.target.value)}
          placeholder={`Something ${session.user} needs to do…`}
          aria-label="New to-do"
          maxLength={200}
        />
        <button type="submit" data-testid="todo-add" disabled={title.trim() === '' || action.isRunning}>
          Add
        </button>
      </form>
      {action.error !== null && <ErrorMessage error={action.error} testId="todo-error" onDismiss={action.clearError} />}
      {error !== undefined && <ErrorMessage error={error} testId="todo-query-error" />}
      {status === 'loading' ? (
        <p className="empty">Loading…</p>
      ) : todos.length === 0 ? (
        <p className="empty" data-testid="todo-empty">
          Nothing to do yet. Add a to-do above; switch users to see that theirs are separate.
        </p>
      ) : (
        <>
          <ul className="list" data-testid="todo-list">
            {todos.map((todo) => (
              <TodoItem key={todo.id} todo={todo} onToggle={toggle} onRemove={remove} />
            ))}
          </ul>
          <p className="summary" data-testid="todo-summary">
            {openCount} open · {todos.length - openCount} done
          </p>
        </>
      )}
    </section>
  );
}

interface TodoItemProps {
  todo: Todo;
  onToggle: (id: string) => void;
  onRemove: (id: string) => void;
}

/**
 * One to-do. Memoized: the live rows keep their object identity when a
 * commit does not change them, so only changed rows render again.
 * `data-renders` counts renders, for the e2e test; it is not shown.
 */
const TodoItem = memo(function TodoItem({ todo, onToggle, onRemove }: TodoItemProps) {
  const renders = useRef(0);
  renders.current++;
  const { id } = todo;
  // done is BOOLEAN DEFAULT false, so it may be null.
  const isDone = todo.done ?? false;
  return (
    <li className={isDone ? 'item done' : 'item'} data-testid="todo-item" data-done={isDone} data-renders={renders.current}>
      <label className="item-main">
        <input type="checkbox" checked={isDone} onChange={() => onToggle(id)} data-testid="todo-toggle" />
        <span className="item-title" data-testid="todo-title">
          {todo.title}
        </span>
      </label>
      <button type="button" className="icon-button" onClick={() => onRemove(id)} data-testid="todo-delete" aria-label={`Delete ${todo.title}`}>
        Delete
      </button>
    </li>
  );
});
