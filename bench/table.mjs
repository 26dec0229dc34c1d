// Formats bench results (the shape of bench/results.ts BenchResults) as a plain-text table.

function ms(x) {
  if (!Number.isFinite(x)) return 'n/a';
  if (x < 1) return x.toFixed(3);
  if (x < 100) return x.toFixed(2);
  return x.toFixed(1);
}

function ratio(engine, baseline) {
  if (!Number.isFinite(engine) || !Number.isFinite(baseline) || baseline <= 0) return 'n/a';
  const r = engine / baseline;
  return `${r < 0.1 ? r.toPrecision(2) : r < 10 ? r.toFixed(2) : r.toFixed(1)}×`;
}

function count(n) {
  return n.toLocaleString('en-US');
}

function pad(cells, widths) {
  return cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
}

/** The figures as rows: [label, engine ms, baseline ms]. */
function figureRows(results) {
  const { config: c, engine: e, baseline: b } = results;
  const batches = Math.ceil(c.bulkRows / c.batchSize);
  return [
    [`bulk insert ${count(c.bulkRows)} rows (${batches} × ${count(c.batchSize)}), total`, e.bulkInsertMs, b.bulkInsertMs],
    [`single-row insert + commit, p50 (n=${c.singleInserts})`, e.singleInsert.p50, b.singleInsert.p50],
    [`single-row insert + commit, p95`, e.singleInsert.p95, b.singleInsert.p95],
    [`primary-key lookup, p50 (n=${c.lookups})`, e.lookup.p50, b.lookup.p50],
    [`primary-key lookup, p95`, e.lookup.p95, b.lookup.p95],
    [`filtered sorted LIMIT 50 on ${count(c.queryRows)} rows, p50 (n=${c.queryIterations})`, e.query.p50, b.query.p50],
    [`filtered sorted LIMIT 50, p95`, e.query.p95, b.query.p95],
    [`(setup) load ${count(c.queryRows)} rows in ${count(c.batchSize)}-row batches, total`, e.queryLoadMs, b.queryLoadMs],
  ];
}

export function formatTable(results) {
  const header = ['figure', 'engine ms', 'baseline ms', 'engine/baseline'];
  const rows = figureRows(results).map(([label, engine, baseline]) => [label, ms(engine), ms(baseline), ratio(engine, baseline)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const { engine: e, baselineScanQuery: scan, roundTrip: rt, environment: env, config: c } = results;
  const bulkRate = (rowsCount, totalMs) => `${count(Math.round((rowsCount / totalMs) * 1000))} rows/s`;

  const lines = [
    `kalamlite bench — ${env.userAgent.match(/(Headless)?Chrome\/[\d.]+/)?.[0] ?? env.userAgent}, ` +
      `${env.hardwareConcurrency} cores, crossOriginIsolated=${env.crossOriginIsolated}${env.profile ? `, ${env.profile}` : ''}, ${(env.totalMs / 1000).toFixed(1)} s`,
    'engine: @kalamlite/worker client → engine in a module worker → IndexedDB, timed in the page (includes the Comlink round trip)',
    'baseline: idb in a dedicated worker, timed inside that worker (no round trip); query baseline = [category, score] index cursor',
    '',
    pad(header, widths),
    rule,
    ...rows.map((r) => pad(r, widths)),
    rule,
    `bulk insert throughput: engine ${bulkRate(c.bulkRows, e.bulkInsertMs)}, baseline ${bulkRate(c.bulkRows, results.baseline.bulkInsertMs)}`,
    `context: Comlink no-op round trip page ↔ worker p50 ${ms(rt.p50)} ms, p95 ${ms(rt.p95)} ms`,
    `context: query baseline without an index (getAll + JS filter + sort + slice, n=${scan.n}) p50 ${ms(scan.p50)} ms ` +
      `(engine/scan ${ratio(e.query.p50, scan.p50)})`,
    'ratios > 1 mean the engine is slower than raw IndexedDB; compare ratios from one run, not absolute ms across runs.',
  ];
  if (results.live) {
    const l = results.live;
    lines.push(
      '',
      `live queries: ${l.subscribers} subscribers (${c.liveUsers} users × ${c.liveQueriesPerUser} queries, WHERE user_id = $1 ORDER BY ts DESC LIMIT 20) ` +
        `on ${count(c.liveRows)} rows, ${c.liveWrites} single-row writes; write call → last affected callback in the page`,
    );
    // One row per side: engine over IndexedDB, engine over OPFS (unless config.liveOpfs is off), Dexie; ratios against Dexie.
    const liveHeader = ['write → affected subscribers', 'p50 ms', 'p95 ms', 'p50/dexie', 'p95/dexie'];
    const sides = [
      ['engine/idb', l.engine],
      ...(l.opfs ? [['engine/opfs', l.opfs.engine]] : []),
      [`dexie ${l.dexieVersion}`, l.dexie],
    ];
    const liveRows = sides.map(([label, s]) => [label, ms(s.p50), ms(s.p95), ratio(s.p50, l.dexie.p50), ratio(s.p95, l.dexie.p95)]);
    const liveWidths = liveHeader.map((h, i) => Math.max(h.length, ...liveRows.map((r) => r[i].length)));
    lines.push(pad(liveHeader, liveWidths), liveWidths.map((w) => '-'.repeat(w)).join('  '), ...liveRows.map((r) => pad(r, liveWidths)));
    const opfsUnaffected = l.opfs ? `, engine/opfs ${l.opfs.unaffected}` : '';
    lines.push(
      `unaffected subscribers invoked (target 0): engine/idb ${l.engineUnaffected}${opfsUnaffected}, dexie ${l.dexieUnaffected}`,
      `engine messages to the page: ${l.engineBatches ?? 'n/a'} batches, ${l.enginePatches ?? 'n/a'} patch events, ${l.engineSnapshots ?? 'n/a'} whole results` +
        (l.opfs ? ` (engine/opfs: ${l.opfs.batches ?? 'n/a'}, ${l.opfs.patches ?? 'n/a'}, ${l.opfs.snapshots ?? 'n/a'})` : ''),
    );
  }
  const failed = results.checks.filter((check) => !check.ok);
  lines.push('', failed.length === 0 ? `checks: all ${results.checks.length} passed` : `checks: ${failed.length} FAILED`);
  for (const check of failed) lines.push(`  FAILED ${check.name}: ${check.detail}`);
  return lines.join('\n');
}
