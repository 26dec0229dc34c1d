import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build, preview, type InlineConfig, type PreviewServer } from 'vite';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Where the built demo is served, e.g. http://127.0.0.1:41234/ */
    demoUrl: string;
  }
}

const configFile = fileURLToPath(new URL('../vite.config.ts', import.meta.url));
// A build of its own, so a running `npm run demo` is left alone.
const outDir = fileURLToPath(new URL('./dist', import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const config: InlineConfig = { configFile, logLevel: 'warn', build: { outDir, emptyOutDir: true } };
  await build(config);
  const port = await freePort();
  const server: PreviewServer = await preview({
    ...config,
    preview: { host: '127.0.0.1', port, strictPort: true, open: false },
  });
  project.provide('demoUrl', `http://127.0.0.1:${port}/`);
  return async () => {
    await server.close();
  };
}
