// Formats the tiers bench results (bench/tiers.ts TiersResults) as a plain-text table with the issue-4 targets.

function ms(x) {
  if (!Number.isFinite(x)) return 'n/a';
  if (x < 1) return x.toFixed(3);
  if (x < 100) return x.toFixed(2);
  return x.toFixed(1);
}

function ratioOf(a, b) {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : Number.NaN;
}

function showRatio(r) {
  if (!Number.isFinite(r)) return 'n/a';
  return `${r < 0.1 ? r.toPrecision(2) : r < 10 ? r.toFixed(2) : r.toFixed(1)}×`;
}

function count(n) {
  return n.toLocaleString('en-US');
}

/** The targets, each as engine/side ratio against a bound. */
export function tiersTargets(results) {
  const { engine: e, idb: i, dexie: d, config: c } = results;
  const bulk = ratioOf(e.bulkMs, d.bulkMs);
  const single = ratioOf(e.single.p50, i.single.p50);
  const cold = ratioOf(e.coldOpen.p50, d.coldOpen.p50);
  return [
    { name: `bulk insert of ${count(c.bulkRows)} rows at least 5× faster than Dexie bulkPut (engine/dexie ≤ 0.20)`, ratio: bulk, ok: bulk <= 0.2 },
    { name: 'single-row insert p50 within 1.2× of a raw IndexedDB put + commit (engine/idb ≤ 1.20)', ratio: single, ok: single <= 1.2 },
    { name: 'cold open to first result under half of Dexie’s (engine/dexie < 0.50)', ratio: cold, ok: cold < 0.5 },
  ];
}

export function formatTiersTable(results) {
  const { config: c, engine: e, idb: i, dexie: d, flush, arrow } = results;
  const tiers = flush.available ? 'hot+cold' : 'hot only';
  const rows = [
    [`bulk insert ${count(c.bulkRows)} rows (${count(c.batchSize)}-row batches), total`, e.bulkMs, i.bulkMs, d.bulkMs],
    [`single-row insert + commit, p50 (n=${c.singleInserts})`, e.single.p50, i.single.p50, d.single.p50],
    ['single-row insert + commit, p95', e.single.p95, i.single.p95, d.single.p95],
    [`pk lookup on ${count(c.bulkRows)} rows, p50 (n=${c.lookups})`, e.lookup.p50, i.lookup.p50, d.lookup.p50],
    [`bulk insert ${count(c.largeRows)} rows, total`, e.largeBulkMs, i.largeBulkMs, d.largeBulkMs],
    [`pk lookup on ${count(c.largeRows)} rows (${tiers}), p50`, e.largeLookup.p50, i.largeLookup.p50, d.largeLookup.p50],
    [`pk lookup on ${count(c.largeRows)} rows (${tiers}), p95`, e.largeLookup.p95, i.largeLookup.p95, d.largeLookup.p95],
    [`filtered sorted LIMIT 50 (${tiers}), p50 (n=${c.queryIterations})`, e.query.p50, i.query.p50, d.query.p50],
    [`COUNT/SUM … GROUP BY category (${tiers}), p50 (n=${c.groupIterations})`, e.group.p50, i.group.p50, d.group.p50],
    [`cold open → first lookup result, p50 (n=${c.coldOpens})`, e.coldOpen.p50, i.coldOpen.p50, d.coldOpen.p50],
  ].map(([label, en, id, dx]) => [label, ms(en), ms(id), ms(dx), showRatio(ratioOf(en, id)), showRatio(ratioOf(en, dx))]);
  const header = ['figure', 'engine ms', 'idb ms', 'dexie ms', 'engine/idb', 'engine/dexie'];
  const widths = header.map((h, k) => Math.max(h.length, ...rows.map((r) => r[k].length)));
  const pad = (cells) => cells.map((cell, k) => (k === 0 ? cell.padEnd(widths[k]) : cell.padStart(widths[k]))).join('  ');
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const lines = [
    `kalamlite tiers bench — engine (client → worker → IndexedDB, timed in the page) beside raw IndexedDB and Dexie (timed in their worker), ${(results.totalMs / 1000).toFixed(1)} s`,
    flush.available
      ? `FLUSH TABLE after ${count(Math.floor(c.largeRows / 2))} rows took ${ms(flush.ms)} ms (${flush.detail}); queries read half the rows from the cold tier`
      : `FLUSH TABLE is not available (${flush.detail}): the ${count(c.largeRows)}-row figures are hot-tier only`,
    'cold opens: engine = new client (worker start + open + first query); idb and Dexie = open from the page + get',
    '',
    pad(header),
    rule,
    ...rows.map(pad),
    rule,
  ];
  if (arrow) {
    lines.push(`context: SELECT of all ${count(arrow.rows)} rows — query() ${ms(arrow.queryMs)} ms, queryArrow() ${ms(arrow.queryArrowMs)} ms (Arrow IPC, buffer transferred)`);
  }
  lines.push('', 'targets:');
  for (const t of tiersTargets(results)) lines.push(`  ${t.ok ? 'MET   ' : 'MISSED'} ${t.name}: ${showRatio(t.ratio)}`);
  const failed = results.checks.filter((check) => !check.ok);
  lines.push('', failed.length === 0 ? `tiers checks: all ${results.checks.length} passed` : `tiers checks: ${failed.length} FAILED`);
  for (const check of failed) lines.push(`  FAILED ${check.name}: ${check.detail}`);
  return lines.join('\n');
}
