import 'fake-indexeddb/auto';
import { openDatabase } from '@kalamlite/engine';
import { createLocalClient } from '@kalamlite/worker';
import { createWorkerApi } from '../packages/worker/src/worker-api';
import { CREATE_NAMESPACE, CREATE_TABLE, insertParams, insertStatement, LOOKUP } from './sql';
import { rowsFrom } from './rows';

const race = <T,>(p: Promise<T>, what: string) => Promise.race([p, new Promise((_, rej) => setTimeout(() => rej(new Error('TIMEOUT ' + what)), 5000))]);
export async function main() {
  const db = await openDatabase({ name: 'dbg3', storage: 'idb' });
  const s = createLocalClient(db).session({ user: 'bench', role: 'dba' });
  await s.execute(CREATE_NAMESPACE);
  await s.execute(CREATE_TABLE);
  for (let o = 0; o < 2000; o += 1000) await s.execute(insertStatement(1000), insertParams(rowsFrom(1, 1 + o, 1000)));
  for (let i = 0; i < 53; i++) await s.execute(insertStatement(1), insertParams(rowsFrom(1, 2001 + i, 1)));
  console.log('closing db');
  await race(db.close(), 'db.close');
  console.log('closed');
  const api = createWorkerApi();
  await api.open({ name: 'dbg4', storage: 'idb' }, () => undefined);
  const key = { user: 'bench', role: 'dba' as const };
  await api.execute(key, CREATE_NAMESPACE);
  await api.execute(key, CREATE_TABLE);
  await api.execute(key, insertStatement(1), insertParams(rowsFrom(1, 1, 1)));
  console.log('api closing');
  await race(api.close(), 'api.close');
  console.log('api closed');
}
