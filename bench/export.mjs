// `node bench/export.mjs [runs] [points]`: times `runlens export` of a store with RUNS runs of
// POINTS metric points each (default 100 × 1,000), logged over REST into a fresh store, one small
// artifact per run. Needs `npm run build`. Prints one line per phase.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli.js');
const runs = Number(process.argv[2] ?? 100);
const points = Number(process.argv[3] ?? 1000);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-export-bench-'));
const root = path.join(tmp, 'store');

const server = spawn('node', [cli, 'serve', '--port', '0', '--root', root], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((resolve, reject) => {
  server.stdout.on('data', (d) => {
    const m = /listening on (http:\/\/\S+)/.exec(String(d));
    if (m) resolve(m[1]);
  });
  server.on('exit', () => reject(new Error('server exited')));
});
const post = async (route, body) => {
  const res = await fetch(`${url}/api/2.0/mlflow/${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${route}: ${res.status} ${await res.text()}`);
  return res.json();
};
// A failed request must not leave the server running.
process.on('uncaughtException', (err) => {
  server.kill('SIGTERM');
  console.error(err);
  process.exit(1);
});
let t = performance.now();
const { experiment_id } = await post('experiments/create', { name: 'bench' });
for (let r = 0; r < runs; r++) {
  const { run } = await post('runs/create', { experiment_id, start_time: Date.now() });
  const id = run.info.run_id;
  await post('runs/log-batch', { run_id: id, params: [{ key: 'lr', value: '0.1' }, { key: 'r', value: String(r) }] });
  // MLflow caps a batch at 1,000 entries.
  for (let from = 0; from < points; from += 1000) {
    const metrics = [];
    for (let i = from; i < Math.min(points, from + 1000); i++) metrics.push({ key: 'loss', value: 1 / (i + 1), timestamp: 1_700_000_000_000 + i, step: i });
    await post('runs/log-batch', { run_id: id, metrics });
  }
  const put = await fetch(`${url}/api/2.0/mlflow-artifacts/artifacts/${experiment_id}/${id}/artifacts/notes.txt`, { method: 'PUT', body: `run ${r}\n` });
  if (!put.ok) throw new Error(`artifact: ${put.status}`);
}
console.log(`logged ${runs} runs x ${points} points in ${((performance.now() - t) / 1000).toFixed(1)} s`);
server.kill('SIGTERM');
await new Promise((resolve) => server.on('exit', resolve));

for (const withArtifacts of [false, true]) {
  const out = path.join(tmp, withArtifacts ? 'with-art' : 'plain', 'mlflow.db');
  const args = [cli, 'export', '--to', `sqlite:///${out}`, '--root', root, ...(withArtifacts ? ['--artifacts', path.join(tmp, 'with-art', 'mlartifacts')] : [])];
  t = performance.now();
  const done = spawnSync('node', args, { encoding: 'utf8' });
  const ms = performance.now() - t;
  if (done.status !== 0) throw new Error(done.stderr);
  console.log(`export${withArtifacts ? ' --artifacts' : ''}: ${(ms / 1000).toFixed(2)} s wall (node start included), ${(fs.statSync(out).size / 1e6).toFixed(1)} MB; ${done.stdout.trim()}`);
}
if (!process.env.KEEP) fs.rmSync(tmp, { recursive: true, force: true });
else console.log(`kept ${tmp}`);
