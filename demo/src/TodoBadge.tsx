import { useLiveQuery } from '@kalamlite/react';

const OPEN_SQL = 'SELECT COUNT(*) AS open FROM demo.todos WHERE done = false';

/**
 * The current user's open to-dos, in the header: a second live query over
 * the same table as the list. Both arrive in the same message per commit,
 * so the badge and the list change in the same frame.
 */
export function TodoBadge() {
  const { rows, status } = useLiveQuery<{ open: number }>(OPEN_SQL);
  const open = status === 'ready' ? (rows[0]?.open ?? 0) : undefined;
  return (
    <span className="badge todo-badge" data-testid="todo-badge" data-open={open ?? ''} title="Open to-dos, kept live by its own query">
      {open === undefined ? '…' : `${open} open ${open === 1 ? 'to-do' : 'to-dos'}`}
    </span>
  );
}
