#!/usr/bin/env node
// A/B of two servers side by side, requests alternated one by one, so a change in the machine's
// load lands on both: two Runlens builds (dist folders copied before and after a change), a plain
// and a governed server (mode gov/gov-batch), or Runlens against FastTrackML (second CLI 'fml').
// Prints p50/p90/mean per server and the server CPU per request.
// Modes gov/gov-batch: A plain, B governed (what governance costs); gov2/gov2-batch: both governed
// (two builds of the governed path).
// Usage: node bench/ab.mjs <cliA.js> <cliB.js|fml> [n=3000] [metric|batch|gov|gov-batch|gov2|gov2-batch]
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
const [cliA, cliB, nArg, kind] = process.argv.slice(2);
const FML = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '.venv', 'fasttrackml', 'bin', 'fml');
const N = Number(nArg ?? 3000);
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
function start(cli, extra=[]) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-'));
  if (cli === 'fml') {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const child = spawn(FML, ['server', '--listen-address', `127.0.0.1:${port}`, '--database-uri', `sqlite://${root}/f.db`, '--default-artifact-root', `${root}/art`], { stdio: 'ignore' });
    return new Promise(async (res) => { for (;;) { try { await new Promise((ok, no) => http.get(`http://127.0.0.1:${port}/health`, (r) => { r.resume(); r.statusCode === 200 ? ok() : no(); }).on('error', no)); break; } catch { await new Promise((r) => setTimeout(r, 200)); } } res({ child, url: new URL(`http://127.0.0.1:${port}`), root }); });
  }
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [cli, 'serve', '--port', '0', '--root', root, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; const m = /listening on (http:\/\/\S+)/.exec(out); if (m) res({ child, url: new URL(m[1]), root }); });
    child.on('exit', (c) => rej(new Error('exit ' + c)));
  });
}
function req(url, route, body) {
  return new Promise((res, rej) => {
    const data = Buffer.from(JSON.stringify(body));
    const r = http.request({ host: url.hostname, port: url.port, path: route, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': data.length } }, (resp) => { const c = []; resp.on('data', (d) => c.push(d)); resp.on('end', () => resp.statusCode < 300 ? res(JSON.parse(Buffer.concat(c).toString() || '{}')) : rej(new Error(Buffer.concat(c).toString()))); });
    r.on('error', rej); r.end(data);
  });
}
const A = '/api/2.0/mlflow';
const GOV = path.join(os.tmpdir(), `runlens-ab-governance-${process.pid}.yaml`);
const gov = kind?.startsWith('gov') ? ['--governance', GOV] : [];
if (kind?.startsWith('gov')) fs.writeFileSync(GOV, 'defaults: {team: bench}\nbudgets:\n  - {name: b, scope: {team: bench}, daily_usd: 1000, mode: warn}\n');
const srv = [await start(cliA, kind?.startsWith('gov2') ? gov : []), await start(cliB, cliB === 'fml' ? [] : gov)];
const runs = [];
for (const s of srv) {
  const exp = (await req(s.url, `${A}/experiments/create`, { name: 'ab' })).experiment_id;
  runs.push((await req(s.url, `${A}/runs/create`, { experiment_id: exp, start_time: Date.now() })).run.info.run_id);
}
const cpu = (pid) => { const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) * 10; };
const cpu0 = srv.map((s) => cpu(s.child.pid));
const t = [[], []];
const big = kind === 'batch' || kind === 'gov-batch' || kind === 'gov2-batch';
for (let i = 0; i < N; i++) {
  for (const j of i % 2 ? [0, 1] : [1, 0]) {
    const body = big ? { run_id: runs[j], metrics: Array.from({ length: 1000 }, (_, k) => ({ key: `m${k % 10}`, value: k, timestamp: Date.now(), step: i * 100 + Math.floor(k / 10) })) } : { run_id: runs[j], key: 'loss', value: i, timestamp: Date.now(), step: i };
    const s = performance.now();
    await req(srv[j].url, big ? `${A}/runs/log-batch` : `${A}/runs/log-metric`, body);
    t[j].push(performance.now() - s);
  }
}
for (const [j, xs] of t.entries()) { xs.sort((a, b) => a - b); console.log(j ? 'B' : 'A', 'p50', xs[xs.length >> 1].toFixed(3), 'p90', xs[Math.floor(xs.length * 0.9)].toFixed(3), 'mean', (xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(3)); }
const cpu1 = srv.map((s) => cpu(s.child.pid));
console.log('server CPU ms per request: A', ((cpu1[0] - cpu0[0]) / N).toFixed(3), 'B', ((cpu1[1] - cpu0[1]) / N).toFixed(3));
for (const s of srv) { s.child.kill('SIGTERM'); fs.rmSync(s.root, { recursive: true, force: true }); }
agent.destroy();
fs.rmSync(GOV, { force: true });
