/**
 * Test helpers: a memory database with a USER table `app.todos (id, title)`,
 * a client over a real Comlink pair (the worker side runs in this thread
 * behind a Node MessageChannel), and a helper that expects a KalamError.
 * Call `closePorts` from afterEach. Used only by tests.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { expose } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter';
import { expect } from 'vitest';
import { isKalamError, openDatabase, type Database, type KalamError } from '@kalamlite/engine';
import { createClient } from '../client';
import { installKalamErrorTransfer } from '../transfer';
import type { ClientOptions, KalamClient } from '../types';
import { createWorkerApi } from '../worker-api';

export async function openTestDatabase(): Promise<Database> {
  const db = await openDatabase({ storage: 'memory' });
  await db
    .session({ user: 'admin', role: 'dba' })
    .execute('CREATE NAMESPACE IF NOT EXISTS app; CREATE USER TABLE app.todos (id TEXT PRIMARY KEY, title TEXT NOT NULL)');
  return db;
}

const ports: MessagePort[] = [];

export function closePorts(): void {
  for (const port of ports.splice(0)) port.close();
}

/** A client over a Comlink pair; `options` are added to (or replace) `{ name: 'test', storage: 'memory', worker }`. */
export async function createChannelClient(options: Partial<ClientOptions> = {}): Promise<KalamClient> {
  installKalamErrorTransfer();
  const { port1, port2 } = new MessageChannel();
  ports.push(port1, port2);
  expose(createWorkerApi(() => openTestDatabase()), nodeEndpoint(port1));
  return createClient({ name: 'test', storage: 'memory', worker: nodeEndpoint(port2), ...options });
}

export async function caught(promise: Promise<unknown>): Promise<KalamError> {
  try {
    await promise;
  } catch (e) {
    expect(isKalamError(e)).toBe(true);
    return e as KalamError;
  }
  throw new Error('expected a rejection');
}
