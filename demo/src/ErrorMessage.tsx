import { describeError } from './describe-error';

interface ErrorMessageProps {
  error: unknown;
  testId: string;
  onDismiss?: () => void;
}

/** A failure shown in place: code first, then what the engine said. */
export function ErrorMessage({ error, testId, onDismiss }: ErrorMessageProps) {
  const { code, message, position } = describeError(error);
  return (
    <div className="error" role="alert" data-testid={testId}>
      <code className="error-code" data-testid={`${testId}-code`}>
        {code}
      </code>
      <span className="error-message">
        {message}
        {position !== undefined && <span className="error-position"> (at character {position})</span>}
      </span>
      {onDismiss && (
        <button type="button" className="link-button" onClick={onDismiss} aria-label="Dismiss">
          ×
        </button>
      )}
    </div>
  );
}
