import 'fake-indexeddb/auto';
import { openDatabase } from '@kalamlite/engine';
import { CREATE_NAMESPACE, CREATE_TABLE, insertParams, insertStatement, FILTERED_QUERY, LOOKUP } from './sql';
import { rowsFrom } from './rows';
import { GROUP_QUERY, COUNT_QUERY, FLUSH } from './tiers';

export async function main() {
  const db = await openDatabase({ name: 'dbg', storage: 'idb' });
  const s = db.session({ user: 'bench', role: 'dba' });
  await s.execute(CREATE_NAMESPACE);
  await s.execute(CREATE_TABLE);
  const t = Date.now();
  for (let o = 0; o < 2000; o += 1000) await s.execute(insertStatement(1000), insertParams(rowsFrom(1, 1 + o, 1000)));
  console.log('loaded', Date.now() - t);
  const f = Date.now();
  console.log(await s.execute(FLUSH), Date.now() - f);
  for (let o = 2000; o < 4000; o += 1000) await s.execute(insertStatement(1000), insertParams(rowsFrom(1, 1 + o, 1000)));
  console.log('loaded 2');
  console.log((await s.query('SELECT * FROM system.jobs')).rows);
  console.log((await s.query('SELECT * FROM system.manifest')).rows);
  console.log((await s.query(COUNT_QUERY)).rows);
  console.log((await s.query(LOOKUP, [5n])).rows);
  console.log((await s.query(FILTERED_QUERY, ['c0', 10])).rows.length);
  console.log((await s.query(GROUP_QUERY)).rows);
  console.log((await s.queryArrow('SELECT * FROM bench.items')).numRows);
  await db.close();
  const db2 = await openDatabase({ name: 'dbg', storage: 'idb' });
  console.log((await db2.session({ user: 'bench', role: 'dba' }).query(COUNT_QUERY)).rows);
}
