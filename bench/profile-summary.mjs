// Summarizes a CDP CPU profile (Profiler.stop's `profile`): self time by function.

function label(callFrame) {
  const name = callFrame.functionName || '(anonymous)';
  const file = callFrame.url ? callFrame.url.split('/').pop().replace(/-[\w-]{8}\.js$/, '.js') : '';
  return file ? `${name}  ${file}:${callFrame.lineNumber + 1}` : name;
}

/** The `top` functions by self time, as printable lines. */
export function summarizeProfile(profile, top = 25) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMs = new Map();
  let totalMs = 0;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    totalMs += ms;
    const key = label(byId.get(id).callFrame);
    selfMs.set(key, (selfMs.get(key) ?? 0) + ms);
  });
  const idle = (selfMs.get('(idle)') ?? 0) + (selfMs.get('(program)') ?? 0);
  const rows = [...selfMs].filter(([key]) => key !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, top);
  return [
    `CPU profile: ${(totalMs / 1000).toFixed(1)} s recorded, ${((idle / totalMs) * 100).toFixed(0)}% idle or (program) — the rest waits on IndexedDB`,
    'self ms   self %  function',
    ...rows.map(([key, ms]) => `${ms.toFixed(0).padStart(7)}  ${((ms / totalMs) * 100).toFixed(1).padStart(6)}%  ${key}`),
  ].join('\n');
}
