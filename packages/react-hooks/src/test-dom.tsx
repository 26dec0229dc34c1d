/**
 * Test helpers for rendering hooks under happy-dom: one React root per test
 * file, unmounted by `unmountRoot` (call it from afterEach), and polling
 * helpers that let React flush between checks. Used only by tests. There is
 * no "wait and see that nothing happened": a test waits for a later event
 * instead (a commit that does show, every live() call resolved).
 */
import { act, type ReactNode } from 'react';
import { createRoot, type Root } from 'react-dom/client';

let root: Root | undefined;
let container: HTMLElement | undefined;

export function unmountRoot(): void {
  if (root) act(() => root!.unmount());
  root = undefined;
  container = undefined;
}

/** Renders into the file's root (created on first use); returns its container element. */
export function render(node: ReactNode): HTMLElement {
  container ??= document.createElement('div');
  root ??= createRoot(container);
  act(() => root!.render(node));
  return container;
}

/** Waits (up to ~1 s) until `check()` holds, flushing React between tries. */
export async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await act(async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
    });
  }
  throw new Error('condition not reached');
}

