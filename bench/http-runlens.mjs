#!/usr/bin/env node
// Runlens alone, driven by a lean Node HTTP client (keep-alive), so the figures are close to the
// server's own cost rather than the Python client's: ingest, per-write cost against store size,
// search over 100k runs, start-up. `npm run bench` appends this section to bench/RESULTS.md
// after the side-by-side with `mlflow server` (bench/sidebyside.py). `--governance-only` measures
// instead what `--governance` costs on the ingest workload (a plain and a governed server, alternated).
// Usage: node bench/http-runlens.mjs [--runs 100000] [--smoke] [--governance-only] [--append bench/RESULTS.md]
import { spawn } from 'node:child_process';
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
const SMOKE = args.includes('--smoke');
const SEARCH_RUNS = Number(flag('--runs', SMOKE ? 2000 : 100000));
const APPEND = flag('--append', undefined);
const A = '/api/2.0/mlflow';

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

function startServer(root, extra = []) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    // RUNLENS_BENCH_NODE_FLAGS: node flags for the servers (e.g. --cpu-prof --cpu-prof-dir=/tmp/prof).
    const nodeFlags = (process.env.RUNLENS_BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
    const child = spawn(process.execPath, [...nodeFlags, CLI, 'serve', '--port', '0', '--root', root, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: new URL(m[1]), startMs: Number(process.hrtime.bigint() - started) / 1e6, stderr: () => err });
    });
    child.on('exit', (code) => reject(new Error(`runlens serve exited ${code}: ${err}`)));
  });
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
  return { n: s.length, p50: q(0.5), p95: q(0.95), min: s[0], max: s[s.length - 1] };
}

const fmt = (ms) => (ms < 10 ? ms.toFixed(2) : ms.toFixed(1));

async function pool(n, concurrency, task) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await task(next++);
    }),
  );
}

async function createRun(url, exp, name) {
  const r = await request(url, 'POST', `${A}/runs/create`, { experiment_id: exp, run_name: name, start_time: Date.now() });
  return r.run.info.run_id;
}

async function ingest(url, rows, runs = SMOKE ? 3 : 20) {
  const exp = (await request(url, 'POST', `${A}/experiments/create`, { name: `bench-ingest-${Date.now()}` })).experiment_id;
  const batchMs = [];
  const t0 = process.hrtime.bigint();
  let points = 0;
  for (let r = 0; r < runs; r++) {
    const runId = await createRun(url, exp, `ingest-${r}`);
    await request(url, 'POST', `${A}/runs/log-batch`, {
      run_id: runId,
      params: Array.from({ length: 20 }, (_, i) => ({ key: `param_${i}`, value: `value-${r}-${i}` })),
      tags: Array.from({ length: 10 }, (_, i) => ({ key: `tag_${i}`, value: `t${i}` })),
    });
    // 10 metrics × 1000 steps, sent as 10 log-batch requests of 1000 points each.
    for (let chunk = 0; chunk < 10; chunk++) {
      const metrics = [];
      for (let k = 0; k < 10; k++) {
        for (let s = chunk * 100; s < chunk * 100 + 100; s++) metrics.push({ key: `metric_${k}`, value: Math.sin(s + k), timestamp: Date.now(), step: s });
      }
      const { ms } = await timed(() => request(url, 'POST', `${A}/runs/log-batch`, { run_id: runId, metrics }));
      batchMs.push(ms);
      points += metrics.length;
    }
    await request(url, 'POST', `${A}/runs/update`, { run_id: runId, status: 'FINISHED', end_time: Date.now() });
  }
  const totalMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const b = stats(batchMs);
  rows.push(['ingest', `${runs} runs × (20 params, 10 tags, 10 metrics × 1000 steps), sequential`, `${fmt(totalMs)} ms total, ${Math.round(points / (totalMs / 1000)).toLocaleString('en')} points/s`]);
  rows.push(['ingest', 'log-batch of 1000 metric points, round trip', `p50 ${fmt(b.p50)} ms, p95 ${fmt(b.p95)} ms (n=${b.n})`]);
  return { exp, totalMs, batchP50: b.p50 };
}

async function singleMetricLoop(url, exp, label, rows) {
  const runId = await createRun(url, exp, `loop-${label}`);
  const n = SMOKE ? 200 : 2000;
  const samples = [];
  for (let s = 0; s < n; s++) {
    const { ms } = await timed(() => request(url, 'POST', `${A}/runs/log-metric`, { run_id: runId, key: 'loss', value: 1 / (s + 1), timestamp: Date.now(), step: s }));
    samples.push(ms);
  }
  const st = stats(samples);
  rows.push(['ingest', `training loop: single log-metric round trip (${label})`, `p50 ${fmt(st.p50)} ms, p95 ${fmt(st.p95)} ms (n=${st.n})`]);
  return st;
}

async function concurrentThroughput(url, exp, rows) {
  const runIds = await Promise.all(Array.from({ length: 8 }, (_, i) => createRun(url, exp, `conc-${i}`)));
  const n = SMOKE ? 400 : 8000;
  const { ms } = await timed(() =>
    pool(n, 8, (i) => request(url, 'POST', `${A}/runs/log-metric`, { run_id: runIds[i % 8], key: 'loss', value: i, timestamp: Date.now(), step: i })),
  );
  rows.push(['ingest', '8 concurrent clients, single log-metric each', `${Math.round(n / (ms / 1000)).toLocaleString('en')} acknowledged writes/s`]);
}

async function seedSearch(url, rows) {
  const exp = (await request(url, 'POST', `${A}/experiments/create`, { name: 'bench-search' })).experiment_id;
  const { ms } = await timed(() =>
    pool(SEARCH_RUNS, 16, async (i) => {
      const runId = await createRun(url, exp, `run-${i}`);
      await request(url, 'POST', `${A}/runs/log-batch`, {
        run_id: runId,
        metrics: [
          { key: 'acc', value: (i * 7919) % 10007 / 10007, timestamp: Date.now(), step: 0 },
          { key: 'loss', value: (i * 104729) % 10007 / 10007, timestamp: Date.now(), step: 0 },
        ],
        params: [
          { key: 'model', value: ['cnn', 'mlp', 'rnn', 'vit'][i % 4] },
          { key: 'lr', value: String([0.1, 0.01, 0.001][i % 3]) },
        ],
        tags: [{ key: 'team', value: i % 2 ? 'a' : 'b' }],
      });
    }),
  );
  rows.push(['seed', `${SEARCH_RUNS.toLocaleString('en')} runs (create + log-batch each, 16 concurrent clients)`, `${fmt(ms / 1000)} s, ${Math.round((2 * SEARCH_RUNS) / (ms / 1000)).toLocaleString('en')} requests/s`]);
  return exp;
}

async function searchScenarios(url, exp, rows) {
  const queries = [
    ['metric filter + order_by metric, 100 results', { filter: 'metrics.acc > 0.5', order_by: ['metrics.acc DESC'], max_results: 100 }],
    ['metric + param filter + order_by metric, 1000 results', { filter: "metrics.acc > 0.5 and params.model = 'cnn'", order_by: ['metrics.acc DESC'], max_results: 1000 }],
    ['param + tag filter, order_by start_time (default)', { filter: "params.lr = '0.01' and tags.team = 'a'", max_results: 100 }],
    ['order_by param, 100 results', { order_by: ['params.model ASC', 'metrics.loss DESC'], max_results: 100 }],
    ['run_name LIKE, 100 results', { filter: "attributes.run_name LIKE 'run-99%'", max_results: 100 }],
  ];
  const results = [];
  for (const [label, q] of queries) {
    const body = { experiment_ids: [exp], run_view_type: 'ACTIVE_ONLY', ...q };
    await request(url, 'POST', `${A}/runs/search`, body); // warm
    const samples = [];
    let count = 0;
    for (let i = 0; i < (SMOKE ? 3 : 15); i++) {
      const { ms, result } = await timed(() => request(url, 'POST', `${A}/runs/search`, body));
      samples.push(ms);
      count = result.runs?.length ?? 0;
    }
    const st = stats(samples);
    results.push(st);
    rows.push(['search', `${SEARCH_RUNS.toLocaleString('en')} runs: ${label} → ${count} runs`, `p50 ${fmt(st.p50)} ms, p95 ${fmt(st.p95)} ms`]);
  }
  return results;
}

// Governance on: every write checked against budgets and policies, charged, and audited
// (hash-chained, fdatasync'd) before it is acknowledged. Attribution defaults, a warn budget and a
// warn required-tags policy so each check has work to do; nothing is refused.
const GOVERNANCE_YAML = `defaults: {team: bench, project: overhead}
budgets:
  - {name: bench-daily, scope: {team: bench}, daily_usd: 1000, mode: warn}
policies:
  require_tags: {tags: [owner], mode: warn}
`;

/** CPU time a process's threads have run so far, in ms (Linux /proc/<pid>/task/<tid>/schedstat, ns). */
function cpuMs(pid) {
  try {
    let ns = 0;
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // the thread ended between the listing and the read
      }
    }
    return ns / 1e6;
  } catch {
    return NaN;
  }
}

/**
 * The ledger's cost on the ingest scenario: the same workload against a plain and a governed
 * server, alternated run by run so load drifts hit both. Each repetition starts a fresh pair of
 * servers (the order of start-up swapped every time): one process can be a few percent faster
 * than another for reasons of its own (where its memory landed, what got compiled when), and a
 * single pair for every repetition turned that luck into a bias of the whole figure. The median
 * over the pairs is the figure; the servers' own CPU per run (from /proc) is reported beside it.
 */
async function governanceOverhead(rows) {
  const cfg = path.join(os.tmpdir(), `runlens-bench-governance-${process.pid}.yaml`);
  fs.writeFileSync(cfg, GOVERNANCE_YAML);
  const reps = SMOKE ? 2 : 9;
  const runs = SMOKE ? 2 : 10;
  const totals = { plain: [], governed: [] };
  const cpu = { plain: [], governed: [] };
  const batch = { plain: [], governed: [] };
  const loop = { plain: [], governed: [] };
  let audit = 0;
  try {
    for (let r = 0; r < reps; r++) {
      const roots = { plain: fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-bench-plain-')), governed: fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-bench-gov-')) };
      const srv = {};
      for (const which of r % 2 ? ['governed', 'plain'] : ['plain', 'governed']) srv[which] = await startServer(roots[which], which === 'governed' ? ['--governance', cfg] : []);
      try {
        // One untimed run each first: a fresh process compiles its hot paths on its first requests.
        for (const which of ['plain', 'governed']) await ingest(srv[which].url, [], 1);
        const sum = { plain: 0, governed: 0 };
        const cpu0 = { plain: cpuMs(srv.plain.child.pid), governed: cpuMs(srv.governed.child.pid) };
        const exps = {};
        for (let i = 0; i < runs; i++) {
          for (const which of (r + i) % 2 === 0 ? ['plain', 'governed'] : ['governed', 'plain']) {
            const got = await ingest(srv[which].url, [], 1);
            sum[which] += got.totalMs;
            batch[which].push(got.batchP50);
            exps[which] = got.exp;
          }
        }
        for (const which of ['plain', 'governed']) {
          totals[which].push(sum[which]);
          cpu[which].push((cpuMs(srv[which].child.pid) - cpu0[which]) / runs);
        }
        const runIds = { plain: await createRun(srv.plain.url, exps.plain, 'loop'), governed: await createRun(srv.governed.url, exps.governed, 'loop') };
        for (let s = 0; s < (SMOKE ? 50 : 200); s++) {
          for (const which of s % 2 === 0 ? ['plain', 'governed'] : ['governed', 'plain']) {
            const { ms } = await timed(() => request(srv[which].url, 'POST', `${A}/runs/log-metric`, { run_id: runIds[which], key: 'loss', value: 1 / (s + 1), timestamp: Date.now(), step: s }));
            loop[which].push(ms);
          }
        }
        audit += fs.readFileSync(path.join(roots.governed, '.governance', 'audit.jsonl'), 'utf8').split('\n').filter((l) => l && !l.startsWith('\0')).length;
      } finally {
        for (const which of ['plain', 'governed']) {
          srv[which].child.kill('SIGTERM');
          await new Promise((res) => srv[which].child.once('exit', res));
          fs.rmSync(roots[which], { recursive: true, force: true });
        }
      }
    }
    const med = (xs) => stats(xs).p50;
    const pct = (a, b) => `${((a / b - 1) * 100).toFixed(1)}%`;
    const perPair = totals.plain.map((p, i) => totals.governed[i] / p - 1).sort((a, b) => a - b);
    const spread = `per pair ${(perPair[0] * 100).toFixed(1)}% to ${(perPair[perPair.length - 1] * 100).toFixed(1)}%`;
    const t = { plain: med(totals.plain), governed: med(totals.governed) };
    const c = { plain: med(cpu.plain), governed: med(cpu.governed) };
    const l = { plain: med(loop.plain), governed: med(loop.governed) };
    const b = { plain: med(batch.plain), governed: med(batch.governed) };
    rows.push(['governance', `ingest, ${runs} runs × (20 params, 10 tags, 10 metrics × 1000 steps), median of ${reps} server pairs: plain → governed`, `${fmt(t.plain)} → ${fmt(t.governed)} ms (**${pct(t.governed, t.plain)}** overhead, ${spread}; target < 5%)`]);
    rows.push(['governance', 'server CPU per ingested run (all its threads, /proc schedstat), median: plain → governed', `${fmt(c.plain)} → ${fmt(c.governed)} ms (${pct(c.governed, c.plain)})`]);
    rows.push(['governance', 'log-batch of 1000 points, p50: plain → governed', `${fmt(b.plain)} → ${fmt(b.governed)} ms (${pct(b.governed, b.plain)})`]);
    rows.push(['governance', `single log-metric round trip, p50 of ${loop.plain.length}: plain → governed`, `${fmt(l.plain)} → ${fmt(l.governed)} ms (${pct(l.governed, l.plain)})`]);
    rows.push(['governance', 'audit entries written by the governed servers', `${audit.toLocaleString('en')}`]);
  } finally {
    fs.rmSync(cfg, { force: true });
  }
}

async function main() {
  if (args.includes('--governance-only')) {
    const rows = [];
    await governanceOverhead(rows);
    agent.destroy();
    return report(rows, '## Governance overhead (Node HTTP client)', 'The same ingest workload against a plain and a `--governance` server, alternated; every governed write is checked, charged and audited (fdatasync) before it is acknowledged.');
  }
  if (!fs.existsSync(CLI)) throw new Error('build first: npm run build');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-bench-'));
  const rows = [];
  let server = await startServer(root);
  try {
    const { exp } = await ingest(server.url, rows);
    const small = await singleMetricLoop(server.url, exp, 'empty store', rows);
    await concurrentThroughput(server.url, exp, rows);
    const searchExp = await seedSearch(server.url, rows);
    const big = await singleMetricLoop(server.url, exp, `store with ${SEARCH_RUNS.toLocaleString('en')} more runs`, rows);
    rows.push(['ingest', 'per-write cost vs store size (p50 large / p50 empty)', `${(big.p50 / small.p50).toFixed(2)}×`]);
    await searchScenarios(server.url, searchExp, rows);

    // Restart: checkpoint on clean stop, then time to /health with the seeded store.
    server.child.kill('SIGTERM');
    await new Promise((r) => server.child.once('exit', r));
    server = await startServer(root);
    const rss = fs.readFileSync(`/proc/${server.child.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)?.[1];
    rows.push(['start-up', `process start → listening, ${SEARCH_RUNS.toLocaleString('en')}-run store`, `${fmt(server.startMs)} ms, RSS ${rss ? Math.round(Number(rss) / 1024) : '?'} MB`]);
    await searchScenarios(server.url, searchExp, []); // the store still answers after restart
  } finally {
    server.child.kill('SIGTERM');
    await new Promise((r) => server.child.once('exit', r));
    fs.rmSync(root, { recursive: true, force: true });
    agent.destroy();
  }

  report(rows, '## Runlens alone, Node HTTP client', 'Keep-alive Node `http` client against `runlens serve` on 127.0.0.1: round trips include the client, loopback and the\nfsync group commit, but not the Python client, so they bound the server-side cost from above.');
}

function report(rows, heading, intro) {
  const table = ['| scenario | workload | result |', '|---|---|---|', ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
  console.log(table);
  if (APPEND) {
    fs.appendFileSync(APPEND, ['', heading, '', intro, '', table, ''].join('\n'));
    console.log(`\nappended to ${APPEND}`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
