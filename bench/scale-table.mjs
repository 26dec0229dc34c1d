// Formats the scale bench results (bench/scale-run.mjs) as one plain-text table — every figure at every size, the
// four sides side by side, each engine side's ratio to Dexie and to SQLite-WASM — then the issue-11 targets, marked
// MET / MISSED / n/a, and the engine's own figures (flush, system.stats) that explain where time and memory go.

const MB = 1024 * 1024;
const ENGINES = ['engine-idb', 'engine-opfs'];
const PEERS = ['dexie', 'sqlite'];
const ALL = [...ENGINES, ...PEERS];

function ms(x) {
  if (!Number.isFinite(x)) return 'n/a';
  if (x < 1) return x.toFixed(3);
  if (x < 100) return x.toFixed(2);
  return x.toFixed(1);
}

function mb(x) {
  return Number.isFinite(x) ? (x / MB).toFixed(1).replace(/^-0\.0$/, '0.0') : 'n/a';
}

function ratioOf(a, b) {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : Number.NaN;
}

function showRatio(r) {
  if (!Number.isFinite(r)) return '';
  return `${r < 0.1 ? r.toPrecision(2) : r < 10 ? r.toFixed(2) : r.toFixed(1)}×`;
}

function count(n) {
  return n.toLocaleString('en-US');
}

function shortSize(n) {
  return n >= 1_000_000 && n % 1_000_000 === 0 ? `${n / 1_000_000}M` : n >= 1_000 && n % 1_000 === 0 ? `${n / 1_000}k` : String(n);
}

function median(values) {
  const s = values.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.floor((s.length - 1) / 2)];
}

/**
 * A cell: { v } a number, { text } a note shown as is, { fail } a failure (shown as a short word and a footnote
 * with the whole message). Cells of a side that skipped the step say why in the footnote.
 */
function failure(message) {
  const word = /^timeout/.test(message) ? 'timeout' : /^skipped/.test(message) ? 'skipped' : /^n\/a/.test(message) ? 'n/a' : 'error';
  return { fail: message, word };
}

function opCell(r, op, pick) {
  if (!r) return { text: '' };
  const o = r.ops?.[op];
  if (!o) return r.skipped ? failure(`skipped: ${r.skipped}`) : { text: '—' };
  if (o.error) return failure(o.error);
  if (!o.q) return { text: '—' };
  return { v: pick(o.q), wrong: o.wrong > 0, n: o.q.n };
}

function coldFigures(r) {
  const ok = (r?.cold ?? []).filter((c) => !c.error);
  return {
    ms: ok.map((c) => c.ms),
    /** From the page's module running to the database being open, then to the first result. */
    open: ok.map((c) => c.openMs - c.scriptMs),
    first: ok.map((c) => c.ms - c.openMs),
    used: ok.map((c) => c.heap?.used ?? Number.NaN),
    backing: ok.map((c) => c.heap?.backing ?? Number.NaN),
    error: (r?.cold ?? []).find((c) => c.error)?.error,
  };
}

/** A cold start's heap figure; n/a where it was not read (an engine side through a SharedWorker). */
function heapCell(r, pick) {
  const cell = coldCell(r, (f) => median(pick(f)));
  return 'v' in cell && Number.isNaN(cell.v) ? failure("n/a: a SharedWorker's heap is out of the DevTools protocol's reach from the page") : cell;
}

function coldCell(r, pick) {
  if (!r) return { text: '' };
  const f = coldFigures(r);
  if (f.ms.length === 0) return r.skipped && !f.error ? failure(`skipped: ${r.skipped}`) : failure(f.error ?? 'skipped: no cold start');
  return { v: pick(f), partial: f.error };
}

/** The figures, in print order: [label, cell of a side result, unit ('ms' | 'MB' | 'range'), ratios?]. */
function figureDefs() {
  return [
    ['bulk insert of the N rows, total ms', (r) => (r.load?.error ? failure(r.load.error) : r.load ? { v: r.load.ms } : { text: '' }), 'ms', true],
    ['peak heap during the load, MB (sampled every 250 ms, garbage included)', (r) => (r.load?.peak?.samples ? { v: r.load.peak.used } : { text: 'n/a' }), 'MB', true],
    ['heap right after the load (after GC), MB', (r) => (r.load?.afterGc?.used ? { v: r.load.afterGc.used } : r.load?.afterGc?.error ? failure(r.load.afterGc.error) : { text: 'n/a' }), 'MB', true],
    [
      'after the load, ms: engine STORAGE FLUSH TABLE + job, then CREATE INDEX (category, score) + its jobs; peers build the same index',
      (r) => (r.afterLoad?.error ? failure(r.afterLoad.error) : r.afterLoad ? { v: r.afterLoad.ms } : r.skipped ? failure(`skipped: ${r.skipped}`) : { text: '—' }),
      'ms',
      false,
    ],
    ['cold start: navigation → first result, p50 ms (n=3)', (r) => coldCell(r, (f) => median(f.ms)), 'ms', true],
    ['cold start, min–max ms', (r) => coldCell(r, (f) => ({ lo: Math.min(...f.ms), hi: Math.max(...f.ms) })), 'range', false],
    ['  of which: open (page module running → database open), p50 ms', (r) => coldCell(r, (f) => median(f.open)), 'ms', true],
    ['  of which: the first pk lookup after the open, p50 ms', (r) => coldCell(r, (f) => median(f.first)), 'ms', true],
    ['heap after cold open + 1 query (after GC), MB, median', (r) => heapCell(r, (f) => f.used), 'MB', true],
    ['  + ArrayBuffer backing stores (V8\'s count, not wasm memory), MB', (r) => heapCell(r, (f) => f.backing), 'MB', false],
    [
      'heap after the timed operations (after GC), MB',
      (r) => (r.heapAfterOps?.used ? { v: r.heapAfterOps.used } : r.heapAfterOps?.error ? failure(r.heapAfterOps.error) : { text: 'n/a' }),
      'MB',
      true,
    ],
    ['pk lookup, p50 ms', (r) => opCell(r, 'lookup', (q) => q.p50), 'ms', true],
    ['pk lookup, p95 ms', (r) => opCell(r, 'lookup', (q) => q.p95), 'ms', true],
    ['pk range of 20 rows (id BETWEEN), p50 ms', (r) => opCell(r, 'range', (q) => q.p50), 'ms', true],
    ['pk range of 20 rows, p95 ms', (r) => opCell(r, 'range', (q) => q.p95), 'ms', true],
    ['COUNT(*), p50 ms', (r) => opCell(r, 'count', (q) => q.p50), 'ms', true],
    ['category = $1 ORDER BY score DESC LIMIT 50, p50 ms', (r) => opCell(r, 'filter', (q) => q.p50), 'ms', true],
    ['category = $1 ORDER BY score DESC LIMIT 50, p95 ms', (r) => opCell(r, 'filter', (q) => q.p95), 'ms', true],
    ['GROUP BY category (COUNT, AVG(score)), p50 ms', (r) => opCell(r, 'group', (q) => q.p50), 'ms', true],
    ['single-row insert + commit (idle), p50 ms', (r) => opCell(r, 'single', (q) => q.p50), 'ms', true],
    ['single-row insert + commit (idle), p99 ms', (r) => opCell(r, 'single', (q) => q.p99), 'ms', true],
    ['single-row insert while STORAGE COMPACT TABLE runs, p99 ms', (r) => compactCell(r), 'ms', false],
  ];
}

const NOT_SUPPORTED = 'n/a: STORAGE COMPACT TABLE not supported by this build';

function compactCell(r) {
  if (!r || !ENGINES.includes(r.side)) return { text: '—' };
  const c = r.compact;
  if (!c) return r.skipped ? failure(`skipped: ${r.skipped}`) : { text: '' };
  if (c.error) return failure(c.error);
  if (!c.supported) return failure(`${NOT_SUPPORTED} (${c.detail})`);
  if (c.skipped) return failure(`n/a: the compaction did not start: ${c.skipped}`);
  if (!c.latency) return failure(`n/a: the compaction (${ms(c.compactMs)} ms) ended before an insert was timed`);
  return { v: c.latency.p99 };
}

/** How many inserts the compaction row is over, for its footnote. */
function compactNote(r) {
  const c = r?.compact;
  if (!c?.supported || !c.latency) return undefined;
  return `${r.label} ${count(r.size)}: compaction job ${c.status} in ${ms(c.compactMs)} ms, ${c.latency.n} inserts timed while it ran (p50 ${ms(c.latency.p50)} ms)`;
}

function valueOf(cell) {
  return cell && 'v' in cell && typeof cell.v === 'number' ? cell.v : Number.NaN;
}

/** The issue's targets, per engine side: { side, name, ok: true | false | undefined (n/a), value, why }. */
export function scaleTargets(results) {
  const at = (size, side) => results.bySize?.[size]?.[side];
  const has = (size) => results.sizes.includes(size);
  const notRun = (size) => `n/a: ${count(size)} rows not run`;
  const out = [];
  const defs = Object.fromEntries(figureDefs().map(([label, pick]) => [label, pick]));
  const cellOf = (label, size, side) => {
    const r = at(size, side);
    return r ? defs[label](r) : undefined;
  };
  const v = (label, size, side) => valueOf(cellOf(label, size, side));
  const why = (label, size, side) => {
    const cell = cellOf(label, size, side);
    if (!cell) return has(size) ? 'no result' : notRun(size);
    return cell.fail ?? cell.text ?? '';
  };
  const judge = (ok, value, whyNot) => (Number.isFinite(value) ? { ok, value } : { ok: undefined, value, why: whyNot });
  const M = 1_000_000;
  const S = 10_000;
  const L = 100_000;
  const HEAP = 'heap after cold open + 1 query (after GC), MB, median';
  const COLD = 'cold start: navigation → first result, p50 ms (n=3)';
  const LOOKUP = 'pk lookup, p50 ms';
  const RANGE = 'pk range of 20 rows (id BETWEEN), p50 ms';
  const GROUP = 'GROUP BY category (COUNT, AVG(score)), p50 ms';
  const BULK = 'bulk insert of the N rows, total ms';
  const PEAK = 'peak heap during the load, MB (sampled every 250 ms, garbage included)';
  const SINGLE = 'single-row insert + commit (idle), p50 ms';
  const COMPACT = 'single-row insert while STORAGE COMPACT TABLE runs, p99 ms';
  for (const side of ENGINES) {
    const label = results.labels?.[side] ?? side;
    const t = (name, j, shown) => out.push({ side: label, name: `${label}: ${name}`, ...j, shown });
    {
      const heap = v(HEAP, M, side);
      t('worker heap after cold open + 1 query at 1,000,000 rows ≤ 30 MB', judge(heap <= 30 * MB, heap, why(HEAP, M, side)), `${mb(heap)} MB`);
      const small = v(HEAP, S, side);
      const grow = heap - small;
      t(
        '… and ≤ 10 MB more than at 10,000 rows',
        judge(grow <= 10 * MB, grow, Number.isFinite(heap) ? why(HEAP, S, side) : why(HEAP, M, side)),
        `${mb(heap)} − ${mb(small)} = ${mb(grow)} MB`,
      );
    }
    {
      const e = v(COLD, L, side);
      const d = v(COLD, L, 'dexie');
      const r = ratioOf(e, d);
      t('cold start → first result at 100,000 rows ≤ Dexie’s (engine/dexie ≤ 1)', judge(r <= 1, r, Number.isFinite(e) ? why(COLD, L, 'dexie') : why(COLD, L, side)), `${ms(e)} vs ${ms(d)} ms = ${showRatio(r) || 'n/a'}`);
    }
    {
      const e = v(COLD, M, side);
      const own = v(COLD, S, side);
      const r = ratioOf(e, own);
      t('cold start at 1,000,000 rows ≤ 1.5× our own at 10,000', judge(r <= 1.5, r, Number.isFinite(e) ? why(COLD, S, side) : why(COLD, M, side)), `${ms(e)} vs ${ms(own)} ms = ${showRatio(r) || 'n/a'}`);
    }
    {
      const e = v(LOOKUP, M, side);
      const d = v(LOOKUP, M, 'dexie');
      const r = ratioOf(e, d);
      t('pk lookup p50 at 1,000,000 rows ≤ Dexie’s get (engine/dexie ≤ 1)', judge(r <= 1, r, Number.isFinite(e) ? why(LOOKUP, M, 'dexie') : why(LOOKUP, M, side)), `${ms(e)} vs ${ms(d)} ms = ${showRatio(r) || 'n/a'}`);
    }
    {
      const values = results.sizes.map((size) => v(RANGE, size, side));
      const worst = Math.max(...values);
      const missing = results.sizes.find((size) => !Number.isFinite(v(RANGE, size, side)));
      t(
        'pk range of 20 rows p50 ≤ 1 ms, at every size',
        missing === undefined ? { ok: worst <= 1, value: worst } : { ok: undefined, value: Number.NaN, why: `${count(missing)}: ${why(RANGE, missing, side)}` },
        results.sizes.map((size, k) => `${shortSize(size)} ${ms(values[k])}`).join(', ') + ' ms',
      );
    }
    {
      const e = v(GROUP, M, side);
      const s = v(GROUP, M, 'sqlite');
      const r = ratioOf(e, s);
      t('GROUP BY at 1,000,000 rows ≤ 0.5× SQLite-WASM’s (engine/sqlite ≤ 0.50)', judge(r <= 0.5, r, Number.isFinite(e) ? why(GROUP, M, 'sqlite') : why(GROUP, M, side)), `${ms(e)} vs ${ms(s)} ms = ${showRatio(r) || 'n/a'}`);
    }
    {
      const e = v(BULK, M, side);
      const d = v(BULK, M, 'dexie');
      const r = ratioOf(e, d);
      const peaks = results.sizes.map((size) => `${mb(v(PEAK, size, side))} MB at ${shortSize(size)}`).join(', ');
      t(
        'bulk insert of 1,000,000 rows ≤ 0.5× Dexie bulkPut (engine/dexie ≤ 0.50)',
        judge(r <= 0.5, r, Number.isFinite(e) ? why(BULK, M, 'dexie') : why(BULK, M, side)),
        `${ms(e)} vs ${ms(d)} ms = ${showRatio(r) || 'n/a'}; peak worker heap during the load ${peaks} (the issue asks for it bounded, with no number: not judged)`,
      );
    }
    {
      // Judged at the largest size run that has the figure.
      const sizes = [...results.sizes].sort((a, b) => b - a);
      const size = sizes.find((n) => Number.isFinite(v(COMPACT, n, side))) ?? sizes[0];
      const p99 = v(COMPACT, size, side);
      const idle = v(SINGLE, size, side);
      const r = ratioOf(p99, idle);
      const cellWhy = why(COMPACT, size, side);
      const reason = /^n\/a: STORAGE COMPACT TABLE not supported/.test(cellWhy) ? NOT_SUPPORTED : cellWhy || why(SINGLE, size, side);
      t(
        `single-row insert p99 while a compaction runs ≤ 5× the idle p50 (at ${count(size)} rows)`,
        judge(r <= 5, r, reason),
        Number.isFinite(r) ? `${ms(p99)} vs ${ms(idle)} ms = ${showRatio(r)}` : '',
      );
    }
  }
  return out;
}

export function formatScaleTable(results) {
  const { sizes, environment: env } = results;
  const labels = results.labels;
  const notes = new Map(); // footnote text → number
  const footnote = (text) => {
    if (!notes.has(text)) notes.set(text, notes.size + 1);
    return notes.get(text);
  };
  const show = (cell, unit) => {
    if (!cell) return '';
    if (cell.fail) return `${cell.word} [${footnote(cell.fail)}]`;
    if ('text' in cell) return cell.text;
    // Few timed calls (a slow operation that spent its time budget): say how many.
    const mark = cell.wrong ? ' (wrong!)' : cell.partial ? ` [${footnote(`partial: ${cell.partial}`)}]` : cell.n !== undefined && cell.n < 5 ? ` (n=${cell.n})` : '';
    if (unit === 'range') return `${ms(cell.v.lo)}–${ms(cell.v.hi)}${mark}`;
    return `${unit === 'MB' ? mb(cell.v) : ms(cell.v)}${mark}`;
  };
  const header = [
    'figure',
    'rows',
    ...ALL.map((s) => labels[s]),
    ...ENGINES.flatMap((s) => [`${labels[s].replace('engine/', 'e.')}/dexie`, `${labels[s].replace('engine/', 'e.')}/sqlite`]),
  ];
  const rows = [];
  for (const [label, pick, unit, ratios] of figureDefs()) {
    sizes.forEach((size, k) => {
      const bySide = results.bySize[size] ?? {};
      const cells = ALL.map((s) => (bySide[s] ? pick(bySide[s]) : undefined));
      const values = cells.map(valueOf);
      const [ei, eo, d, q] = values;
      const ratio = (a, b) => (ratios ? showRatio(ratioOf(a, b)) : '');
      rows.push([k === 0 ? label : '', count(size), ...cells.map((c) => show(c, unit)), ratio(ei, d), ratio(ei, q), ratio(eo, d), ratio(eo, q)]);
    });
  }
  const widths = header.map((h, k) => Math.max(h.length, ...rows.map((r) => r[k].length)));
  const pad = (cells) => cells.map((cell, k) => (k === 0 ? cell.padEnd(widths[k]) : cell.padStart(widths[k]))).join('  ');
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const browser = env.userAgent.match(/(Headless)?Chrome\/[\d.]+/)?.[0] ?? env.userAgent;
  const lines = [
    `kalamlite scale bench (issue 11) — ${browser}, ${env.hardwareConcurrency} cores, crossOriginIsolated=${env.crossOriginIsolated}` +
      `${env.profile ? `, ${env.profile}` : ''}, ${(results.totalSeconds / 60).toFixed(1)} min`,
    'one USER table (id BIGINT PRIMARY KEY, category, score DOUBLE, title, created_at TIMESTAMP, user_id), one user; rows from bench/rows.ts',
    env.engineTransport === 'shared-worker'
      ? 'engine/idb: createClient({ storage, transport: \'shared-worker\' }) (--scale-transport), timed in the page (includes the round trip to the SharedWorker; its heap: n/a);'
      : 'engine/idb, engine/opfs: createClient({ storage, transport: \'worker\' }), timed in the page (includes the round trip to the worker);',
    '  load = 1,000-row multi-row INSERTs, then STORAGE FLUSH TABLE (waited for) so the data is in the cold tier before the cold starts and queries',
    'dexie: in the page; bulkPut of 1,000 rows; [category+score] index added after the load; COUNT = count(), GROUP BY = toArray() + JS',
    'sqlite-wasm: OPFS SAH pool VFS in its own dedicated worker, timed in the page through Comlink; load = ONE transaction of prepared inserts;',
    '  (category, score) index built after the load (so its GROUP BY can use the covering index); default pragmas',
    'cold start = a new page + new worker on the data on disk, navigation start → first pk lookup result; heap = that worker\'s V8 heap (Dexie: the page\'s)',
    '  after two forced GCs (DevTools protocol); the timed operations then run on the last cold-started page',
    '',
    pad(header),
    rule,
  ];
  let previousLabel;
  for (const row of rows) {
    if (row[0] !== '' && previousLabel !== undefined) lines.push('');
    if (row[0] !== '') previousLabel = row[0];
    lines.push(pad(row));
  }
  lines.push(rule, 'ratios: an engine figure over Dexie’s / SQLite-WASM’s at the same size (below 1: the engine is faster or smaller)');

  // Footnotes of the cells above, plus the compaction runs.
  for (const size of sizes) for (const s of ENGINES) {
    const note = compactNote(results.bySize[size]?.[s]);
    if (note) footnote(note);
  }
  if (notes.size > 0) {
    lines.push('');
    for (const [text, n] of notes) lines.push(`[${n}] ${text}`);
  }

  lines.push('', 'targets (issue 11):');
  for (const t of results.targets ?? scaleTargets(results)) {
    const status = t.ok === true ? 'MET   ' : t.ok === false ? 'MISSED' : 'n/a   ';
    lines.push(`  ${status} ${t.name}: ${t.ok === undefined ? t.why : t.shown}`);
  }

  lines.push('', 'engine details:');
  for (const size of sizes) {
    for (const s of ENGINES) {
      const r = results.bySize[size]?.[s];
      if (!r) continue;
      const parts = [];
      if (r.afterLoad && !r.afterLoad.error) parts.push(`after the load ${ms(r.afterLoad.ms)} ms (${r.afterLoad.detail})`);
      const st = (x) => (x && !x.error ? x : undefined);
      const a = st(r.stats?.afterColdOpen);
      const b = st(r.stats?.afterOps);
      const pickStats = (x, keys) => keys.filter((k) => x[k] !== undefined).map((k) => `${k}=${x[k]}`).join(' ');
      if (a) parts.push(`after cold open: ${pickStats(a, ['hot_bytes', 'hot_pages', 'segments', 'segment_cache_bytes', `table_rows.bench.items`])}`);
      if (b) parts.push(`after the queries: ${pickStats(b, ['segments', 'segment_loads', 'segment_cache_bytes', 'segment_cache_misses', 'segment_cache_evictions', 'segments_read'])}`);
      if (r.closeAfterLoad) parts.push(`close after the load: ${r.closeAfterLoad}`);
      parts.push(`side took ${Math.round(r.seconds ?? 0)} s`);
      lines.push(`  ${r.label} ${count(size)}: ${parts.join('; ')}`);
    }
  }
  const peers = sizes.flatMap((size) => PEERS.map((s) => results.bySize[size]?.[s]).filter(Boolean).map((r) => `${r.label} ${shortSize(size)} ${Math.round(r.seconds ?? 0)} s`));
  lines.push(`  (peers' wall time: ${peers.join(', ')})`);

  const failed = (results.checks ?? []).filter((check) => !check.ok);
  lines.push('', failed.length === 0 ? `scale checks: all ${(results.checks ?? []).length} passed` : `scale checks: ${failed.length} FAILED`);
  for (const check of failed) lines.push(`  FAILED ${check.name}: ${check.detail}`);
  return lines.join('\n');
}
