import 'fake-indexeddb/auto';
import { openDatabase } from '@kalamlite/engine';
import { createLocalClient } from '@kalamlite/worker';
import { CREATE_NAMESPACE, CREATE_TABLE, insertParams, insertStatement, LOOKUP } from './sql';
import { rowsFrom } from './rows';

export async function main() {
  const db = await openDatabase({ name: 'dbg2', storage: 'idb' });
  const s = createLocalClient(db).session({ user: 'bench', role: 'dba' });
  await s.execute(CREATE_NAMESPACE);
  await s.execute(CREATE_TABLE);
  for (let o = 0; o < 2000; o += 1000) await s.execute(insertStatement(1000), insertParams(rowsFrom(1, 1 + o, 1000)));
  for (let i = 0; i < 53; i++) await s.execute(insertStatement(1), insertParams(rowsFrom(1, 2001 + i, 1)));
  console.log('singles');
  for (let i = 1; i < 2053; i += 97) {
    const t = Date.now();
    const r = await Promise.race([s.query(LOOKUP, [BigInt(i)]), new Promise((res) => setTimeout(() => res('TIMEOUT'), 3000))]);
    console.log(i, r === 'TIMEOUT' ? r : (r as any).rows.length, Date.now() - t);
    if (r === 'TIMEOUT') break;
  }
}
