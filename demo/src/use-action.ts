import { useCallback, useState } from 'react';

/**
 * Runs a write and keeps its failure, if any, for display. The app carries
 * on after a failure; the next successful run clears it.
 */
export function useAction() {
  const [error, setError] = useState<unknown>(null);
  const [isRunning, setIsRunning] = useState(false);

  const run = useCallback(async (action: () => Promise<unknown>): Promise<boolean> => {
    setIsRunning(true);
    try {
      await action();
      setError(null);
      return true;
    } catch (e) {
      setError(e);
      return false;
    } finally {
      setIsRunning(false);
    }
  }, []);

  const clearError = useCallback(() => setError(null), []);
  return { run, error, clearError, isRunning };
}
