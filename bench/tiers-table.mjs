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

/** The engine sides in print order. */
function engineSides(results) {
  return ['idb', 'opfs'].map((storage) => results.engines[storage]).filter((side) => side !== undefined);
}

/**
 * The issue's targets for each engine side, each as an engine/baseline ratio against a bound.
 * The cold-open target is judged on the cold start (a new worker: what a freshly loaded page meets);
 * the reopen's ratio (the engine's worker already running) is given beside it.
 */
export function tiersTargets(results) {
  const { idb: i, dexie: d, config: c } = results;
  return engineSides(results).flatMap(({ label, figures: e }) => {
    const bulk = ratioOf(e.bulkMs, d.bulkMs);
    const single = ratioOf(e.single.p50, i.single.p50);
    const cold = ratioOf(e.coldStart.p50, d.coldOpen.p50);
    const reopen = ratioOf(e.reopen.p50, d.coldOpen.p50);
    return [
      { side: label, name: `${label}: bulk insert of ${count(c.bulkRows)} rows at least 5× faster than Dexie bulkPut (engine/dexie ≤ 0.20)`, ratio: bulk, ok: bulk <= 0.2 },
      { side: label, name: `${label}: single-row insert p50 within 1.2× of a raw IndexedDB put + commit (engine/idb ≤ 1.20)`, ratio: single, ok: single <= 1.2 },
      {
        side: label,
        name: `${label}: cold open to first result under half of Dexie’s open + get, judged on the cold start (new worker) (engine/dexie < 0.50)`,
        ratio: cold,
        ok: cold < 0.5,
        reopenRatio: reopen,
      },
    ];
  });
}

export function formatTiersTable(results) {
  const { config: c, idb: i, dexie: d } = results;
  const engines = engineSides(results);
  const tiersOf = (side) => (side.flush.available ? 'hot+cold' : 'hot only');
  const tiers = engines.every((side) => side.flush.available) ? 'hot+cold' : engines.map((side) => `${side.label} ${tiersOf(side)}`).join(', ');
  // [label, pick from an engine side's figures, raw IndexedDB figure, Dexie figure]
  const figureRows = [
    [`bulk insert ${count(c.bulkRows)} rows (${count(c.batchSize)}-row batches), total`, (e) => e.bulkMs, i.bulkMs, d.bulkMs],
    [`single-row insert + commit, p50 (n=${c.singleInserts})`, (e) => e.single.p50, i.single.p50, d.single.p50],
    ['single-row insert + commit, p95', (e) => e.single.p95, i.single.p95, d.single.p95],
    [`pk lookup on ${count(c.bulkRows)} rows, p50 (n=${c.lookups})`, (e) => e.lookup.p50, i.lookup.p50, d.lookup.p50],
    [`bulk insert ${count(c.largeRows)} rows, total`, (e) => e.largeBulkMs, i.largeBulkMs, d.largeBulkMs],
    [`pk lookup on ${count(c.largeRows)} rows (${tiers}), p50`, (e) => e.largeLookup.p50, i.largeLookup.p50, d.largeLookup.p50],
    [`pk lookup on ${count(c.largeRows)} rows (${tiers}), p95`, (e) => e.largeLookup.p95, i.largeLookup.p95, d.largeLookup.p95],
    [`filtered sorted LIMIT 50 (${tiers}), p50 (n=${c.queryIterations})`, (e) => e.query.p50, i.query.p50, d.query.p50],
    [`COUNT/SUM … GROUP BY category (${tiers}), p50 (n=${c.groupIterations})`, (e) => e.group.p50, i.group.p50, d.group.p50],
    [`cold open: engine reopen (worker running) → first lookup, p50 (n=${c.coldOpens})`, (e) => e.reopen.p50, i.coldOpen.p50, d.coldOpen.p50],
    [`cold open: engine cold start (new worker) → first lookup, p50 (n=${c.coldOpens})`, (e) => e.coldStart.p50, i.coldOpen.p50, d.coldOpen.p50],
  ];
  const rows = figureRows.map(([label, pick, id, dx]) => {
    const values = engines.map((side) => pick(side.figures));
    return [label, ...values.map(ms), ms(id), ms(dx), ...values.flatMap((v) => [showRatio(ratioOf(v, id)), showRatio(ratioOf(v, dx))])];
  });
  const short = (side) => side.label.replace('engine/', 'e.');
  const header = [
    'figure (ms)',
    ...engines.map((side) => side.label),
    'raw idb',
    'dexie',
    ...engines.flatMap((side) => [`${short(side)}/raw`, `${short(side)}/dexie`]),
  ];
  const widths = header.map((h, k) => Math.max(h.length, ...rows.map((r) => r[k].length)));
  const pad = (cells) => cells.map((cell, k) => (k === 0 ? cell.padEnd(widths[k]) : cell.padStart(widths[k]))).join('  ');
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const lines = [
    `kalamlite tiers bench — engine/idb (client → SharedWorker → IndexedDB) and engine/opfs (client → leader tab's worker → OPFS), ` +
      `timed in the page, beside raw IndexedDB and Dexie (timed in their worker)${results.profile ? `, ${results.profile}` : ''}, ${(results.totalMs / 1000).toFixed(1)} s`,
    ...engines.map((side) =>
      side.flush.available
        ? `${side.label}: FLUSH TABLE after ${count(Math.floor(c.largeRows / 2))} rows took ${ms(side.flush.ms)} ms (${side.flush.detail}); queries read half the rows from the cold tier`
        : `${side.label}: FLUSH TABLE is not available (${side.flush.detail}): the ${count(c.largeRows)}-row figures are hot-tier only`,
    ),
    'cold opens: engine reopen = createClient + first lookup, the engine\'s worker still running after the previous client closed (engine reopens from storage);',
    '            engine cold start = the same in a new dedicated worker (worker start + bundle compile + open); raw idb and Dexie = open from the page + get (the same figure on both rows)',
    '',
    pad(header),
    rule,
    ...rows.map(pad),
    rule,
  ];
  for (const side of engines) {
    if (side.arrow) {
      lines.push(
        `context: ${side.label} SELECT of all ${count(side.arrow.rows)} rows — query() ${ms(side.arrow.queryMs)} ms, queryArrow() ${ms(side.arrow.queryArrowMs)} ms (Arrow IPC, buffer transferred)`,
      );
    }
  }
  lines.push('', 'targets:');
  for (const t of tiersTargets(results)) {
    const reopen = t.reopenRatio === undefined ? '' : ` (reopen: ${showRatio(t.reopenRatio)})`;
    lines.push(`  ${t.ok ? 'MET   ' : 'MISSED'} ${t.name}: ${showRatio(t.ratio)}${reopen}`);
  }
  const failed = results.checks.filter((check) => !check.ok);
  lines.push('', failed.length === 0 ? `tiers checks: all ${results.checks.length} passed` : `tiers checks: ${failed.length} FAILED`);
  for (const check of failed) lines.push(`  FAILED ${check.name}: ${check.detail}`);
  return lines.join('\n');
}
