import { useState, type KeyboardEvent } from 'react';
import type { StatementResult } from '@kalamlite/worker';
import { ErrorMessage } from './ErrorMessage';
import { formatCell } from './format';
import { useSession } from '@kalamlite/react';

/** Rows drawn per result; the rest are counted, not rendered. */
const MAX_ROWS_SHOWN = 200;

const EXAMPLES = [
  'SELECT * FROM demo.todos',
  'SELECT author, COUNT(*) AS notes FROM demo.notes GROUP BY author',
  "INSERT INTO demo.todos (title) VALUES ('from the console')",
];

type ConsoleOutcome =
  | { kind: 'idle' }
  | { kind: 'running' }
  | { kind: 'done'; results: StatementResult[]; elapsedMs: number }
  | { kind: 'failed'; error: unknown };

/** Runs SQL as the current user; errors are shown and the console stays usable. */
export function SqlConsole() {
  const session = useSession();
  const [sql, setSql] = useState(EXAMPLES[0]);
  const [outcome, setOutcome] = useState<ConsoleOutcome>({ kind: 'idle' });

  const run = async () => {
    if (sql.trim() === '') return;
    setOutcome({ kind: 'running' });
    const started = performance.now();
    try {
      const results = await session.execute(sql);
      setOutcome({ kind: 'done', results, elapsedMs: performance.now() - started });
    } catch (error) {
      setOutcome({ kind: 'failed', error });
    }
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      void run();
    }
  };

  return (
    <section className="panel console" data-testid="sql-console">
      <header className="panel-header">
        <h2>SQL console</h2>
        <span className="badge">runs as {session.user} (role user)</span>
      </header>
      <textarea
        data-testid="sql-input"
        value={sql}
        onChange={(e) => setSql(e.target.value)}
        onKeyDown={onKeyDown}
        spellCheck={false}
        rows={4}
        aria-label="SQL"
      />
      <div className="console-actions">
        <button type="button" data-testid="sql-run" onClick={() => void run()} disabled={outcome.kind === 'running'}>
          Run
        </button>
        <span className="hint">Ctrl+Enter runs · try:</span>
        {EXAMPLES.map((example) => (
          <button key={example} type="button" className="chip" onClick={() => setSql(example)}>
            {example.length > 36 ? `${example.slice(0, 34)}…` : example}
          </button>
        ))}
      </div>
      <ConsoleOutput outcome={outcome} />
    </section>
  );
}

function ConsoleOutput({ outcome }: { outcome: ConsoleOutcome }) {
  switch (outcome.kind) {
    case 'idle':
      return <p className="empty">Results appear here.</p>;
    case 'running':
      return <p className="empty">Running…</p>;
    case 'failed':
      return <ErrorMessage error={outcome.error} testId="sql-error" />;
    case 'done':
      return (
        <div data-testid="sql-output">
          {outcome.results.map((result, i) => (
            <ResultView key={i} result={result} />
          ))}
          <p className="summary">
            {outcome.results.length === 1 ? 'Ran' : `Ran ${outcome.results.length} statements`} in{' '}
            {outcome.elapsedMs.toFixed(1)} ms
          </p>
        </div>
      );
    default: {
      const unreachable: never = outcome;
      return unreachable;
    }
  }
}

function ResultView({ result }: { result: StatementResult }) {
  if (result.kind === 'ok') {
    return (
      <p className="console-message" data-testid="sql-message">
        {result.message}
      </p>
    );
  }
  const shown = result.rows.slice(0, MAX_ROWS_SHOWN);
  return (
    <div className="result">
      <div className="table-scroll">
        <table data-testid="sql-result">
          <thead>
            <tr>
              {result.columns.map((column) => (
                <th key={column.name} title={column.type}>
                  {column.name}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {shown.map((row, i) => (
              <tr key={i} data-testid="sql-row">
                {result.columns.map((column) => (
                  <td key={column.name}>{formatCell(row[column.name] ?? null)}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p className="summary" data-testid="sql-row-count">
        {result.rowCount === 1 ? '1 row' : `${result.rowCount} rows`}
        {result.rowCount > shown.length ? `, first ${shown.length} shown` : ''}
      </p>
    </div>
  );
}
