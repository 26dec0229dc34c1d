/** What the demo shows for a failure: the engine's stable code and its message. */
export interface ErrorDescription {
  code: string;
  message: string;
  position?: number;
}

/**
 * Engine errors arrive as KalamError (code intact across the worker
 * boundary); anything else is shown with a generic code rather than hidden.
 */
export function describeError(error: unknown): ErrorDescription {
  if (typeof error === 'object' && error !== null && 'code' in error && 'message' in error) {
    const { code, message } = error as { code: unknown; message: unknown };
    const position = (error as { position?: unknown }).position;
    return {
      code: String(code),
      message: String(message),
      ...(typeof position === 'number' ? { position } : {}),
    };
  }
  return { code: 'ERROR', message: error instanceof Error ? error.message : String(error) };
}
