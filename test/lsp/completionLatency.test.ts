// Measurement (RUNLENS_LSP_BENCH=1 only; not part of CI): completion latency inside a filter
// string in a 10k-run experiment once the first request has warmed the key cache, and the
// language server's memory. Runs are created over REST (the real client would take minutes).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runlensServe, type ServeProcess } from '../support/runlensServe';
import { ANALYSIS, positionOf, startLsp, type LspSession } from './languageServer.test';

const RUNS = Number(process.env.RUNLENS_LSP_BENCH_RUNS ?? 10000);

async function post(base: string, route: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${base}/api/2.0/mlflow/${route}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${route}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}

(process.env.RUNLENS_LSP_BENCH === '1' ? describe : describe.skip)(`language server completion latency (${RUNS} runs)`, function () {
  this.timeout(900_000);
  let serve: ServeProcess;
  let lsp: LspSession;

  after(async () => {
    await lsp?.close();
    serve?.stop();
  });

  it('measures completion latency after warm-up and the server memory', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-lsp-bench-'));
    serve = runlensServe(path.join(root, 'store'));
    const base = await serve.url;
    const exp = (await post(base, 'experiments/create', { name: 'bench' })).experiment_id as string;
    const t0 = Date.now();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < RUNS) {
        const i = next++;
        const run = (await post(base, 'runs/create', { experiment_id: exp, run_name: `r${i}`, start_time: 1_700_000_000_000 + i })) as { run: { info: { run_id: string } } };
        const metrics = Array.from({ length: 10 }, (_, k) => ({ key: `metric_${k}`, value: Math.sin(i + k), timestamp: 1_700_000_000_000 + i, step: 0 }));
        const params = [...Array.from({ length: 20 }, (_, k) => ({ key: `param_${k}`, value: String((i * (k + 1)) % 17) })), { key: 'model', value: ['rf', 'xgb', 'lgbm'][i % 3]! }];
        await post(base, 'runs/log-batch', { run_id: run.run.info.run_id, metrics, params, tags: [{ key: 'team', value: `t${i % 5}` }] });
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    console.log(`      seeded ${RUNS} runs in ${Date.now() - t0} ms`);
    lsp = await startLsp(base);
    const uri = 'file:///tmp/bench_analysis.py';
    lsp.open(uri, ANALYSIS);
    const position = positionOf(ANALYSIS, 'metrics. ', 'metrics.'.length);
    const w0 = Date.now();
    const first = (await lsp.conn.sendRequest('textDocument/completion', { textDocument: { uri }, position })) as unknown[];
    const warm = Date.now() - w0;
    assert.equal(first.length, 10);
    const times: number[] = [];
    for (let i = 0; i < 50; i++) {
      const s = process.hrtime.bigint();
      await lsp.conn.sendRequest('textDocument/completion', { textDocument: { uri }, position });
      times.push(Number(process.hrtime.bigint() - s) / 1e6);
    }
    const vals = await lsp.conn.sendRequest('textDocument/completion', { textDocument: { uri }, position: positionOf(ANALYSIS, "params.model = 'rf'", 'params.model = '.length) });
    times.sort((a, b) => a - b);
    const rss = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${lsp.child.pid}/status`, 'utf8'))?.[1];
    const hwm = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${lsp.child.pid}/status`, 'utf8'))?.[1];
    const line = `lsp completion, ${RUNS} runs: first (cache warm-up) ${warm} ms; then p50 ${times[25]!.toFixed(2)} ms, p95 ${times[47]!.toFixed(2)} ms, max ${times[49]!.toFixed(2)} ms; server RSS ${Math.round(Number(rss) / 1024)} MB (peak ${Math.round(Number(hwm) / 1024)} MB); values list ${(vals as unknown[]).length}`;
    console.log(`      measured: ${line}`);
    fs.mkdirSync(path.join(__dirname, '../../../test-results'), { recursive: true });
    fs.appendFileSync(path.join(__dirname, '../../../test-results/lsp-measurements.txt'), `${new Date().toISOString()} ${line}\n`);
    // A measurement, not a timed test: the figures go to the report; only the answers are checked.
    assert.equal((vals as unknown[]).length, 3, line);
  });
});
