#!/usr/bin/env node
// Summarises a V8 CPU profile (`node --cpu-prof`, e.g. a Runlens server started by the bench with
// RUNLENS_BENCH_CPU_PROF=<dir>): idle share, then the functions with the most self time, as
// markdown rows for bench/RESULTS.md.
// Usage: node bench/profile-summary.mjs <file.cpuprofile> [top=15] [--callers <function>]
import * as fs from 'node:fs';

const [file, topArg] = process.argv.slice(2).filter((a, i, all) => a !== '--callers' && all[i - 1] !== '--callers');
if (!file) {
  console.error('usage: node bench/profile-summary.mjs <file.cpuprofile> [top]');
  process.exit(2);
}
const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map();
// timeDeltas[i] is the time before sample i; charge it to the sampled node.
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const byFunction = new Map();
let total = 0;
for (const [id, us] of selfUs) {
  const { callFrame } = byId.get(id);
  const where = callFrame.url ? `${callFrame.url.replace(/^.*\/(dist|node:)/, '$1')}:${callFrame.lineNumber + 1}` : '';
  const key = `${callFrame.functionName || '(anonymous)'} ${where}`.trim();
  byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  total += us;
}
const idle = byFunction.get('(idle)') ?? 0;
const busy = total - idle;
const pct = (us, of) => `${((100 * us) / of).toFixed(1)}%`;
console.log(`profile ${file}: ${(total / 1e6).toFixed(2)} s sampled, idle ${pct(idle, total)}, busy ${(busy / 1e6).toFixed(2)} s`);
console.log('| function (self time) | ms | share of busy |');
console.log('|---|---|---|');
[...byFunction.entries()]
  .filter(([k]) => k !== '(idle)')
  .sort((a, b) => b[1] - a[1])
  .slice(0, Number(topArg ?? 15))
  .forEach(([k, us]) => console.log(`| \`${k}\` | ${(us / 1000).toFixed(0)} | ${pct(us, busy)} |`));

// --callers <name>: the call paths (6 frames up) that the self time of <name> comes from.
const ci = process.argv.indexOf('--callers');
if (ci > 0) {
  const name = process.argv[ci + 1];
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const paths = new Map();
  for (const [id, us] of selfUs) {
    if (byId.get(id).callFrame.functionName !== name) continue;
    const frames = [];
    for (let p = parent.get(id); p !== undefined && frames.length < 6; p = parent.get(p)) {
      const f = byId.get(p).callFrame;
      frames.push(`${f.functionName || '(anonymous)'}:${f.lineNumber + 1}`);
    }
    const key = frames.join(' ← ');
    paths.set(key, (paths.get(key) ?? 0) + us);
  }
  console.log(`\ncallers of ${name}:`);
  [...paths.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8).forEach(([k, us]) => console.log(`- ${(us / 1000).toFixed(0)} ms: ${name} ← ${k}`));
}
