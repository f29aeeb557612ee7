// How long the extension host's event loop stalls while the real mlflow client logs 100 runs:
// with the server inside the extension host (how it ran before the server process: serveStore in
// this process, the window attached to it) and with the server in its own process. Reported, not
// asserted against a clock: the figures depend on the machine.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFile } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as vscode from 'vscode';
import type { RunlensApi } from '../../../src/extension/api';
import { serveStore } from '../../../src/server/serve';
import type { Logger } from '../../../src/domain/logger';
import { report, runlens, runPython, waitFor, workspaceDir, writeScript } from './helpers';

const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

const INGEST = `
import mlflow
mlflow.set_experiment("ingest-100")
for i in range(100):
    with mlflow.start_run(run_name=f"r{i}"):
        mlflow.log_params({f"p{j}": j for j in range(10)})
        for step in range(20):
            mlflow.log_metrics({"loss": 1.0 / (step + 1), "acc": step / 20, "lr": 0.1}, step=step)
        mlflow.set_tags({"i": str(i)})
print("ingested")
`;

// A burst from another process: 1M metric points in 1,000 log-batch requests (4 at a time), then
// the chart's downsampled read of that 1M-point series, 10 times.
const BURST = `
const url = process.argv[2];
const post = async (route, body) => {
  const r = await fetch(url + route, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  if (!r.ok) throw new Error(route + ' ' + r.status + ' ' + (await r.text()));
  return r.json();
};
(async () => {
  const exp = await post('/api/2.0/mlflow/experiments/create', { name: 'burst-' + Date.now() });
  const runId = (await post('/api/2.0/mlflow/runs/create', { experiment_id: exp.experiment_id })).run.info.run_id;
  let next = 0;
  const worker = async () => {
    while (next < 1000) {
      const b = next++;
      const metrics = Array.from({ length: 1000 }, (_, i) => ({ key: 'loss', value: Math.random(), timestamp: 1e12 + b * 1000 + i, step: b * 1000 + i }));
      await post('/api/2.0/mlflow/runs/log-batch', { run_id: runId, metrics });
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  for (let i = 0; i < 10; i++) {
    const j = await (await fetch(url + '/runlens/api/metric-series?run_id=' + runId + '&metric_key=loss')).json();
    if (j.total_points !== 1e6) throw new Error('series has ' + j.total_points + ' points');
  }
  console.log('burst done');
})().catch((e) => { console.error(e); process.exit(1); });
`;

function runNode(file: string, url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [file, url], { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${path.basename(file)} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

interface Delay {
  p50: number;
  p99: number;
  max: number;
  mean: number;
  seconds: number;
}

async function measured(load: () => Promise<string>, expect: RegExp): Promise<Delay> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  const t0 = Date.now();
  h.enable();
  const out = await load();
  h.disable();
  assert.match(out, expect);
  const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
  return { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), mean: ms(h.mean), seconds: (Date.now() - t0) / 1000 };
}

async function useStore(api: RunlensApi, root: string | undefined, backend: 'attached' | 'embedded'): Promise<string> {
  await vscode.workspace.getConfiguration('runlens').update('storePath', root, vscode.ConfigurationTarget.Workspace);
  const want = root ?? path.join(workspaceDir(), 'mlruns');
  const s = await waitFor(`the window on ${want}`, () => {
    const st = api.service.state;
    return st.kind === 'ready' && st.root === want && st.backend === backend ? st : undefined;
  });
  return s.url;
}

const fmt = (d: Delay): string => `max ${d.max} ms, p99 ${d.p99} ms, p50 ${d.p50} ms, mean ${d.mean} ms (the load took ${d.seconds.toFixed(1)} s)`;

interface Figures {
  ingest: Delay;
  burst: Delay;
  idle: Delay;
}

async function measureAll(url: string, script: string, burst: string): Promise<Figures> {
  const idle = await measured(() => new Promise((r) => setTimeout(() => r('idle'), 3000)), /idle/);
  const ingest = await measured(() => runPython(script, url), /ingested/);
  const burstDelay = await measured(() => runNode(burst, url), /burst done/);
  return { idle, ingest, burst: burstDelay };
}

describe('extension host event loop during ingest (measured)', function () {
  this.timeout(600_000);

  it('stalls less with the server in its own process than inside the extension host', async () => {
    const api = await runlens();
    const script = writeScript('ingest_100.py', INGEST);
    const burst = writeScript('burst_1m.js', BURST);
    const inHostRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-inhost-'));
    const childRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-child-'));
    const inHost = await serveStore({ root: inHostRoot, port: 0, log: quiet });
    try {
      // Before: the store and server in this process; the window attaches to it as it did to its own.
      const url = await useStore(api, inHostRoot, 'attached');
      assert.equal(url, inHost.server.url);
      const before = await measureAll(url, script, burst);
      // After: the same views, the server in the process the window forks.
      const childUrl = await useStore(api, childRoot, 'embedded');
      const after = await measureAll(childUrl, script, burst);
      for (const [where, f] of [['in the extension host (before)', before], ['in its own process (after)', after]] as const) {
        report(`extension host event-loop delay, server ${where}: idle 3 s: ${fmt(f.idle)}`);
        report(`extension host event-loop delay, server ${where}: 100-run ingest by the real mlflow client (~2,500 requests): ${fmt(f.ingest)}`);
        report(`extension host event-loop delay, server ${where}: 1M metric points in 1,000 log-batch requests from a node client, then 10 reads of the 1M-point chart series: ${fmt(f.burst)}`);
      }
    } finally {
      await useStore(api, undefined, 'embedded');
      await inHost.stop();
    }
  });
});
