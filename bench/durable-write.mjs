#!/usr/bin/env node
// Per-request cost of the durable paths, before/after figures for issue 20: p50/p99 of a durable
// log_metric (a fresh store and a 100k-run store), log_batch and get-run round trips, the 100k-run
// search per order_by shape, the server's max event-loop delay during a 100-run ingest (read from
// RUNLENS_LOOP_DELAY_FILE, see src/server/loopDelay.ts) and a 50 MB upload through the real
// mlflow client. Prints one JSON object.
// Usage: node bench/durable-write.mjs [--big-root DIR (kept; seeded once)] [--runs 100000] [--n 2000]
//        [--skip-big] [--skip-upload] [--python .venv/latest/bin/python]
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.join(here, '..', 'dist', 'cli.js');
const args = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const RUNS = Number(flag('--runs', 100000));
const N = Number(flag('--n', 2000));
const BIG_ROOT = flag('--big-root', undefined);
const PYTHON = flag('--python', path.join(here, '..', '.venv', 'latest', 'bin', 'python'));
const A = '/api/2.0/mlflow';
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

function startServer(root, loopFile) {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, RUNLENS_LOOP_DELAY_FILE: loopFile };
    const extra = process.env.BENCH_NODE_ARGS ? process.env.BENCH_NODE_ARGS.split(' ') : [];
    // BENCH_SERVER_CPUS=1: the server runs on those CPUs alone (taskset), so with the client kept
    // off them (`taskset -c 0 node bench/durable-write.mjs`) its loop delay is its own, not the
    // client's competition for a core.
    const cpus = process.env.BENCH_SERVER_CPUS;
    const argv = [...extra, CLI, 'serve', '--port', '0', '--root', root];
    const child = cpus ? spawn('taskset', ['-c', cpus, process.execPath, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env }) : spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: new URL(m[1]) });
    });
    child.on('exit', (code) => reject(new Error(`runlens serve exited ${code}: ${err}`)));
  });
}

async function stopServer(s) {
  s.child.kill('SIGTERM');
  await new Promise((r) => s.child.once('exit', r));
}

function request(url, method, route, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request(
      { host: url.hostname, port: url.port, path: route, method, agent, headers: data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {} },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          if (res.statusCode !== 200) reject(new Error(`${method} ${route} → ${res.statusCode} ${text.slice(0, 300)}`));
          else resolve(text ? JSON.parse(text) : {});
        });
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

async function timed(fn) {
  const t = process.hrtime.bigint();
  const result = await fn();
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, result };
}

function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  const r = (x) => Math.round(x * 1000) / 1000;
  return { n: s.length, p50: r(q(0.5)), p99: r(q(0.99)), max: r(s[s.length - 1]) };
}

async function pool(n, concurrency, task) {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) await task(next++);
  }));
}

async function createRun(url, exp, name) {
  return (await request(url, 'POST', `${A}/runs/create`, { experiment_id: exp, run_name: name, start_time: Date.now() })).run.info.run_id;
}

async function expId(url, name) {
  const got = await request(url, 'GET', `${A}/experiments/get-by-name?experiment_name=${name}`).catch(() => undefined);
  return got ? got.experiment.experiment_id : (await request(url, 'POST', `${A}/experiments/create`, { name })).experiment_id;
}

/** Sequential round trips of the hot routes against one run. */
async function hotRoutes(url, exp, label) {
  const runId = await createRun(url, exp, `loop-${label}`);
  const metric = [];
  for (let s = 0; s < N; s++) {
    metric.push((await timed(() => request(url, 'POST', `${A}/runs/log-metric`, { run_id: runId, key: 'loss', value: 1 / (s + 1), timestamp: Date.now(), step: s }))).ms);
  }
  const batch = [];
  for (let s = 0; s < N / 4; s++) {
    const metrics = Array.from({ length: 10 }, (_, k) => ({ key: `m${k}`, value: k + s, timestamp: Date.now(), step: s }));
    batch.push((await timed(() => request(url, 'POST', `${A}/runs/log-batch`, { run_id: runId, metrics }))).ms);
  }
  const get = [];
  for (let s = 0; s < N / 4; s++) get.push((await timed(() => request(url, 'GET', `${A}/runs/get?run_id=${runId}`))).ms);
  return { log_metric: stats(metric.slice(N / 10)), log_batch_10: stats(batch), get_run: stats(get) };
}

async function readLoopWindow(server, loopFile) {
  const before = fs.existsSync(loopFile) ? fs.statSync(loopFile).mtimeMs : 0;
  server.child.kill('SIGUSR2'); // writes the window so far, then starts a new one
  for (let i = 0; i < 50; i++) {
    await new Promise((r) => setTimeout(r, 20));
    if (fs.existsSync(loopFile) && fs.statSync(loopFile).mtimeMs !== before) break;
  }
  return JSON.parse(fs.readFileSync(loopFile, 'utf8'));
}

/** 100 runs as a training script logs them, the loop-delay window around exactly this phase. */
async function ingest100(server, loopFile) {
  const url = server.url;
  const exp = await expId(url, 'bench-ingest100');
  await readLoopWindow(server, loopFile);
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < 100; r++) {
    const runId = await createRun(url, exp, `ingest-${r}`);
    await request(url, 'POST', `${A}/runs/log-batch`, {
      run_id: runId,
      params: Array.from({ length: 20 }, (_, i) => ({ key: `param_${i}`, value: `value-${r}-${i}` })),
      tags: Array.from({ length: 10 }, (_, i) => ({ key: `tag_${i}`, value: `t${i}` })),
    });
    for (let chunk = 0; chunk < 2; chunk++) {
      const metrics = [];
      for (let k = 0; k < 10; k++) for (let s = chunk * 50; s < chunk * 50 + 50; s++) metrics.push({ key: `metric_${k}`, value: Math.sin(s + k), timestamp: Date.now(), step: s });
      await request(url, 'POST', `${A}/runs/log-batch`, { run_id: runId, metrics });
    }
    for (let s = 0; s < 10; s++) await request(url, 'POST', `${A}/runs/log-metric`, { run_id: runId, key: 'loss', value: s, timestamp: Date.now(), step: s });
    await request(url, 'POST', `${A}/runs/update`, { run_id: runId, status: 'FINISHED', end_time: Date.now() });
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { ms: Math.round(ms), loop: await readLoopWindow(server, loopFile) };
}

async function seed(url, runs) {
  const exp = await expId(url, 'bench-search');
  await pool(runs, 16, async (i) => {
    const runId = await createRun(url, exp, `run-${i}`);
    await request(url, 'POST', `${A}/runs/log-batch`, {
      run_id: runId,
      metrics: [
        { key: 'acc', value: ((i * 7919) % 10007) / 10007, timestamp: Date.now(), step: 0 },
        { key: 'loss', value: ((i * 104729) % 10007) / 10007, timestamp: Date.now(), step: 0 },
      ],
      params: [
        { key: 'model', value: ['cnn', 'mlp', 'rnn', 'vit'][i % 4] },
        { key: 'lr', value: String([0.1, 0.01, 0.001][i % 3]) },
      ],
      tags: [{ key: 'team', value: i % 2 ? 'a' : 'b' }],
    });
  });
  return exp;
}

const SEARCHES = [
  ['metric filter, order_by metric DESC', { filter: 'metrics.acc > 0.5', order_by: ['metrics.acc DESC'], max_results: 100 }],
  ['metric+param filter, order_by metric, 1000', { filter: "metrics.acc > 0.5 and params.model = 'cnn'", order_by: ['metrics.acc DESC'], max_results: 1000 }],
  ['param+tag filter, default order', { filter: "params.lr = '0.01' and tags.team = 'a'", max_results: 100 }],
  ['order_by param ASC, metric DESC', { order_by: ['params.model ASC', 'metrics.loss DESC'], max_results: 100 }],
  ['order_by param DESC', { order_by: ['params.lr DESC'], max_results: 100 }],
  ['order_by tag ASC, start_time', { order_by: ['tags.team ASC', 'attributes.start_time DESC'], max_results: 100 }],
  ['order_by metric ASC, param', { order_by: ['metrics.loss ASC', 'params.model ASC'], max_results: 100 }],
  ['order_by run_name', { order_by: ['attributes.run_name ASC'], max_results: 100 }],
  ['run_name LIKE', { filter: "attributes.run_name LIKE 'run-99%'", max_results: 100 }],
];

async function searches(url, exp) {
  const out = {};
  for (const [label, q] of SEARCHES) {
    const body = { experiment_ids: [exp], run_view_type: 'ACTIVE_ONLY', ...q };
    const first = await request(url, 'POST', `${A}/runs/search`, body);
    const samples = [];
    for (let i = 0; i < 15; i++) samples.push((await timed(() => request(url, 'POST', `${A}/runs/search`, body))).ms);
    // The second page too: keyset tokens must stay as cheap as the first page.
    let page2;
    if (first.next_page_token) page2 = stats([(await timed(() => request(url, 'POST', `${A}/runs/search`, { ...body, page_token: first.next_page_token }))).ms]).p50;
    out[label] = { ...stats(samples), results: first.runs?.length ?? 0, page2_ms: page2 };
  }
  return out;
}

function upload(url) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-upload-'));
  const file = path.join(dir, 'blob.bin');
  fs.writeFileSync(file, Buffer.alloc(50 * 1024 * 1024, 7));
  const small = path.join(dir, 'small');
  fs.mkdirSync(small);
  for (let i = 0; i < 50; i++) fs.writeFileSync(path.join(small, `f${i}.txt`), `file ${i}\n`.repeat(20));
  const script = `
import mlflow, time, json, sys
mlflow.set_tracking_uri(sys.argv[1])
mlflow.set_experiment("bench-upload")
big, small = [], []
with mlflow.start_run():
    for i in range(6):
        t = time.perf_counter(); mlflow.log_artifact(sys.argv[2], artifact_path=f"big{i}"); big.append((time.perf_counter() - t) * 1000)
    for i in range(3):
        t = time.perf_counter(); mlflow.log_artifacts(sys.argv[3], artifact_path=f"small{i}"); small.append((time.perf_counter() - t) * 1000)
print(json.dumps({"big": big[1:], "small": small}))
`;
  const r = spawnSync(PYTHON, ['-c', script, url.href.replace(/\/$/, ''), file, small], {
    encoding: 'utf8',
    cwd: dir,
    env: { ...process.env, MLFLOW_DISABLE_TELEMETRY: 'true', DO_NOT_TRACK: 'true' },
  });
  fs.rmSync(dir, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`upload script failed: ${r.stderr}`);
  const got = JSON.parse(r.stdout.trim().split('\n').pop());
  return { upload_50MB: stats(got.big), log_artifacts_50_small_files: stats(got.small) };
}

async function main() {
  if (!fs.existsSync(CLI)) throw new Error('build first: npm run build');
  const loopFile = path.join(os.tmpdir(), `runlens-loop-${process.pid}.json`);
  const result = { node: process.version, when: new Date().toISOString() };
  const fresh = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-durable-'));
  let server = await startServer(fresh, loopFile);
  try {
    const exp = await expId(server.url, 'bench-durable');
    result.fresh = await hotRoutes(server.url, exp, 'fresh');
    result.ingest_100_runs = await ingest100(server, loopFile);
    if (!args.includes('--skip-upload')) result.upload = upload(server.url);
  } finally {
    await stopServer(server);
    fs.rmSync(fresh, { recursive: true, force: true });
  }
  if (!args.includes('--skip-big')) {
    const big = BIG_ROOT ?? fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-big-'));
    const marker = path.join(big, `.bench-seeded-${RUNS}`);
    server = await startServer(big, loopFile);
    try {
      let exp;
      if (!fs.existsSync(marker)) {
        const { ms, result: e } = await timed(() => seed(server.url, RUNS));
        result.seed_ms = Math.round(ms);
        result.seed_loop = await readLoopWindow(server, loopFile);
        exp = e;
        fs.writeFileSync(marker, exp);
      } else exp = fs.readFileSync(marker, 'utf8');
      const scratch = await expId(server.url, 'bench-durable');
      result.big = await hotRoutes(server.url, scratch, 'big');
      result.search = await searches(server.url, exp);
    } finally {
      await stopServer(server);
      if (!BIG_ROOT) fs.rmSync(big, { recursive: true, force: true });
    }
  }
  fs.rmSync(loopFile, { force: true });
  agent.destroy();
  console.log(JSON.stringify(result, null, 1));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
