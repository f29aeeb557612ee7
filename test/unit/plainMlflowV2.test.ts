/**
 * Issue 18 on a team server still on MLflow 2.x (2.22, the last 2.x release, .venv/v2): it has no
 * 3.0 trace routes; traces are searched at `GET /api/2.0/mlflow/traces`, read at
 * `traces/{request_id}/info`, and their spans are `traces.json` in the 2.x span dict shape. The
 * same data, written by the 2.x client, goes into that server and into `runlens serve`; the trace
 * views (and the change poller, which searches traces) must answer alike from both.
 */
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TrackingClient } from '../../src/client/trackingClient';
import type { ChangeEvent } from '../../src/client/wireTypes';
import { ChangePoller } from '../../src/ui/changePoller';
import type { TraceDetail } from '../../src/ui/protocol';
import { UiBackend } from '../../src/ui/uiBackend';
import { ROOT, startMlflowServer } from '../support/basicAuthMlflow';
import { runlensServe, type ServeProcess } from '../support/runlensServe';
import { assertFailedPipeline, byQuery, tree, untimed } from '../support/traceTree';
import { until } from './helpers';

const V2 = path.join(ROOT, '.venv', 'v2');

const SEED = `
import json, math, time
import mlflow
from mlflow import MlflowClient
from mlflow.entities import Metric

assert mlflow.__version__.startswith("2."), mlflow.__version__
c = MlflowClient()
exp_id = c.create_experiment("v2-views")
mlflow.set_experiment(experiment_id=exp_id)

@mlflow.trace(span_type="RETRIEVER")
def retrieve(q):
    return [q + "-doc1", q + "-doc2"]

@mlflow.trace(span_type="LLM", attributes={"model": "tiny-1", "temperature": 0.2})
def answer(q, docs):
    if q == "boom":
        raise ValueError("no answer for boom")
    return {"text": q.upper(), "n": len(docs)}

@mlflow.trace(name="pipeline", span_type="CHAIN")
def pipeline(q):
    mlflow.update_current_trace(tags={"q": q})
    return answer(q, retrieve(q))

with mlflow.start_run(run_name="traced") as r:
    traced = r.info.run_id
    for q in ["alpha", "beta"]:
        pipeline(q)
        time.sleep(0.02)
    for i in range(0, 5000, 1000):
        c.log_batch(traced, metrics=[Metric("loss", math.sin(s / 97) + (3.0 if s % 1999 == 0 else 0.0), 1_700_000_000_000 + s, s) for s in range(i, i + 1000)])
for q in ["gamma", "boom"]:
    try:
        pipeline(q)
    except ValueError:
        pass
    time.sleep(0.02)
print(json.dumps({"experiment": exp_id, "traced": traced}))
`;

interface Seeded {
  experiment: string;
  traced: string;
}

function seed(url: string, cwd: string): Promise<Seeded> {
  const file = path.join(cwd, 'seed.py');
  fs.writeFileSync(file, SEED);
  return new Promise((resolve, reject) =>
    execFile(path.join(V2, 'bin', 'python'), [file], { cwd, env: { ...process.env, MLFLOW_TRACKING_URI: url, MLFLOW_DISABLE_TELEMETRY: 'true', DO_NOT_TRACK: 'true' } }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout.trim().split('\n').pop()!) as Seeded),
    ),
  );
}

describe('trace views on an MLflow 2.x server answer as on Runlens (issue 18)', function () {
  this.timeout(240_000);
  let serve: ServeProcess | undefined;
  let server: { url: string; stop(): Promise<void> } | undefined;
  const scratch: string[] = [];
  let plainClient: TrackingClient;
  let plain: UiBackend;
  let runlens: UiBackend;
  let ids: Seeded;
  let runlensIds: Seeded;

  before(async function () {
    if (!fs.existsSync(path.join(V2, 'bin', 'mlflow'))) this.skip();
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-v2-store-'));
    scratch.push(root);
    serve = runlensServe(root);
    server = await startMlflowServer(path.join(V2, 'bin', 'mlflow'), 120_000, 'file');
    const dir = () => {
      const d = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-v2-seed-'));
      scratch.push(d);
      return d;
    };
    [ids, runlensIds] = await Promise.all([seed(server.url, dir()), seed(await serve.url, dir())]);
    plainClient = new TrackingClient(server.url);
    plain = new UiBackend(plainClient);
    runlens = new UiBackend(new TrackingClient(await serve.url));
  });

  after(async () => {
    serve?.stop();
    await Promise.all([serve?.exited, server?.stop()]);
    for (const d of scratch) fs.rmSync(d, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  });

  it('lists the traces and shows each with the same span tree, from the 2.0 routes and 2.x span dicts', async () => {
    const search = (ui: UiBackend, s: Seeded) => ui.handle({ kind: 'searchTraces', experimentIds: [s.experiment], filter: '', orderBy: [], maxResults: 100 });
    const [pa, ra] = await Promise.all([search(plain, ids), search(runlens, runlensIds)]);
    const p = byQuery(pa.rows);
    const r = byQuery(ra.rows);
    assert.deepEqual([...p.keys()].sort(), ['alpha', 'beta', 'boom', 'gamma']);
    assert.deepEqual([...r.keys()].sort(), [...p.keys()].sort());
    for (const q of p.keys()) {
      assert.equal(p.get(q)!.state, r.get(q)!.state, q);
      assert.equal(p.get(q)!.runId, q === 'alpha' || q === 'beta' ? ids.traced : r.get(q)!.runId, q);
      const [dp, dr] = (await Promise.all([plain.handle({ kind: 'traceDetail', traceId: p.get(q)!.traceId }), runlens.handle({ kind: 'traceDetail', traceId: r.get(q)!.traceId })])) as [TraceDetail, TraceDetail];
      assert.equal(dp.spansError, undefined, dp.spansError);
      assert.equal(dp.spans.length, 3, q);
      assert.deepEqual(untimed(tree(dp.spans)), untimed(tree(dr.spans)), q);
    }
    assertFailedPipeline((await plain.handle({ kind: 'traceDetail', traceId: p.get('boom')!.traceId })).spans);
  });

  it("counts traces (all, a run page's, by tag) and charts a 2.x run's history alike", async () => {
    const count = (ui: UiBackend, s: Seeded, filter: string) => ui.handle({ kind: 'traceCount', experimentIds: [s.experiment], filter });
    assert.equal(await count(plain, ids, ''), 4);
    assert.equal(await count(plain, ids, "tags.q = 'boom'"), 1);
    assert.equal(await count(plain, ids, `run_id = '${ids.traced}'`), await count(runlens, runlensIds, `run_id = '${runlensIds.traced}'`));
    assert.deepEqual(await plain.handle({ kind: 'traceSessions', experimentIds: [ids.experiment] }), []);
    // 2.x answers a whole history in one get-history page.
    const chart = (ui: UiBackend, s: Seeded) => ui.handle({ kind: 'series', runId: s.traced, key: 'loss', axis: 'step', buckets: 500 });
    const [cp, cr] = await Promise.all([chart(plain, ids), chart(runlens, runlensIds)]);
    assert.equal(cp.total, 5000);
    assert.deepEqual({ ...cp, runId: '' }, { ...cr, runId: '' });
  });

  it('reports run and trace changes there: the poller reads the 2.x trace search', async () => {
    const events: ChangeEvent[] = [];
    const poller = new ChangePoller(plainClient, (e) => events.push(e), 50, 400);
    try {
      poller.watch([ids.experiment], []);
      await until('the back-off', () => poller.intervalMs === 400);
      assert.deepEqual(events, []);
      await plainClient.request('POST', '/api/2.0/mlflow/runs/log-metric', { run_id: ids.traced, key: 'acc', value: 0.5, timestamp: Date.now(), step: 1 });
      await until('the metric', () => events.length > 0);
      assert.deepEqual(events, [{ kind: 'run', runId: ids.traced, experimentId: ids.experiment }]);
      const traceId = (await plainClient.searchTraces({ experimentIds: [ids.experiment], maxResults: 10 })).traces[0]!.trace_id;
      await plainClient.request('PATCH', `/api/2.0/mlflow/traces/${traceId}/tags`, { key: 'reviewed', value: 'yes' });
      await until('the trace', () => events.length > 1);
      assert.deepEqual(events[1], { kind: 'trace', traceId, experimentId: ids.experiment });
    } finally {
      poller.dispose();
    }
  });
});
