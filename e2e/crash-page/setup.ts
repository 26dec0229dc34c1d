import { fileURLToPath } from 'node:url';
import { build, preview, type PreviewServer } from 'vite';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Where the built crash harness page (e2e/crash-page) is served. */
    crashUrl: string;
  }
}

const configFile = fileURLToPath(new URL('./vite.config.ts', import.meta.url));

/** Global setup: builds the crash harness once and serves it for the crash-*.e2e tests. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await build({ configFile, logLevel: 'warn' });
  const server: PreviewServer = await preview({ configFile, logLevel: 'warn', preview: { host: '127.0.0.1', port: 0, open: false } });
  const address = server.httpServer.address();
  project.provide('crashUrl', `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`);
  return async () => {
    await server.close();
  };
}
