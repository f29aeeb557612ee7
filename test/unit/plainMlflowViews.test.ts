/**
 * Issue 18: the views read a team server that is not Runlens. The same data, written by the real
 * mlflow client (.venv/pinned), goes into a plain `mlflow server` and into `runlens serve`; the
 * views' backend (UiBackend over TrackingClient) must answer the same from both — the plain server
 * through MLflow's own routes, since it has none of Runlens' (charts from the paged history,
 * downsampled alike; spans as the client's get_trace reads them; counts and sessions by paging
 * the trace search). With no change feed there, what open views show is polled.
 */
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TrackingClient } from '../../src/client/trackingClient';
import type { ChangeEvent } from '../../src/client/wireTypes';
import { ChangePoller, ViewWatches } from '../../src/ui/changePoller';
import type { SeriesResult, TraceDetail } from '../../src/ui/protocol';
import { UiBackend } from '../../src/ui/uiBackend';
import { ROOT, startMlflowServer } from '../support/basicAuthMlflow';
import { assertFailedPipeline, byQuery, tree, untimed } from '../support/traceTree';
import { runlensServe, type ServeProcess } from '../support/runlensServe';

const PYTHON = path.join(ROOT, '.venv', 'pinned', 'bin', 'python');
const POINTS = 100_000;

/** One experiment: a 100k-step run (log_batch in chunks of 1000, a spike every 9973 steps), a short run with a NaN, five traces of nested spans in three sessions, one failing. */
const SEED = `
import json, math, sys, time
import mlflow
from mlflow import MlflowClient
from mlflow.entities import Metric

c = MlflowClient()
exp_id = c.create_experiment("views-parity")
mlflow.set_experiment(experiment_id=exp_id)
base = 1_700_000_000_000
t0 = time.time()
with mlflow.start_run(run_name="long") as r:
    long_id = r.info.run_id
    for i in range(0, ${POINTS}, 1000):
        c.log_batch(long_id, metrics=[Metric("loss", math.sin(s / 997) + (5.0 if s % 9973 == 0 else 0.0) - s * 1e-5, base + s * 10, s) for s in range(i, i + 1000)])
seed_ms = (time.time() - t0) * 1000
with mlflow.start_run(run_name="short") as r:
    short_id = r.info.run_id
    for s, v in enumerate([0.9, 0.7, float("nan"), 0.4, 0.35]):
        mlflow.log_metric("loss", v, step=s, timestamp=base + s)

@mlflow.trace(span_type="RETRIEVER")
def retrieve(q):
    return [q + "-doc1", q + "-doc2"]

@mlflow.trace(span_type="LLM", attributes={"model": "tiny-1", "temperature": 0.2, "top_k": 3})
def answer(q, docs):
    if q == "boom":
        raise ValueError("no answer for boom")
    mlflow.get_current_active_span().set_attribute("mlflow.chat.tokenUsage", {"input_tokens": len(q), "output_tokens": 2, "total_tokens": len(q) + 2})
    return {"text": q.upper(), "n": len(docs)}

@mlflow.trace(name="pipeline", span_type="CHAIN")
def pipeline(q, session, user):
    mlflow.update_current_trace(metadata={"mlflow.trace.session": session, "mlflow.trace.user": user}, tags={"q": q})
    return answer(q, retrieve(q))

with mlflow.start_run(run_name="traced") as r:
    traced_id = r.info.run_id
    for q, s, u in [("alpha", "s-1", "ana"), ("beta", "s-1", "ana"), ("gamma", "s-2", "bo")]:
        pipeline(q, s, u)
        time.sleep(0.02)
for q, s, u in [("delta", "s-2", "bo"), ("boom", "s-3", "cy")]:
    try:
        pipeline(q, s, u)
    except ValueError:
        pass
    time.sleep(0.02)
print(json.dumps({"experiment": exp_id, "long": long_id, "short": short_id, "traced": traced_id, "seed_ms": seed_ms}))
`;

interface Seeded {
  experiment: string;
  long: string;
  short: string;
  traced: string;
  seed_ms: number;
}

function seed(url: string, cwd: string): Promise<Seeded> {
  const file = path.join(cwd, 'seed.py');
  fs.writeFileSync(file, SEED);
  return new Promise((resolve, reject) =>
    execFile(PYTHON, [file], { cwd, env: { ...process.env, MLFLOW_TRACKING_URI: url, MLFLOW_DISABLE_TELEMETRY: 'true', DO_NOT_TRACK: 'true' } }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout.trim().split('\n').pop()!) as Seeded),
    ),
  );
}

/** The plain servers: MLflow 3.6 (no GetTrace route: spans through batchGet; get-history needs max_results) and the newest release (GetTrace). */
const PLAIN_SERVERS = [
  { label: 'mlflow server 3.6 (.venv/pgserver)', bin: path.join(ROOT, '.venv', 'pgserver', 'bin', 'mlflow') },
  { label: 'newest mlflow server (.venv/latest)', bin: path.join(ROOT, '.venv', 'latest', 'bin', 'mlflow') },
];

interface Plain {
  server: { url: string; stop(): Promise<void> };
  client: TrackingClient;
  ui: UiBackend;
  ids: Seeded;
}

describe('views on a plain mlflow server answer as on Runlens (issue 18)', function () {
  this.timeout(240_000);
  let serve: ServeProcess | undefined;
  const scratch: string[] = [];
  const plains = new Map<string, Plain>();
  let servers: { url: string; stop(): Promise<void> }[] = [];
  let runlensClient: TrackingClient;
  let runlens: UiBackend;
  let runlensIds: Seeded;

  before(async () => {
    const t0 = Date.now();
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-parity-store-'));
    scratch.push(root);
    serve = runlensServe(root);
    servers = await Promise.all(PLAIN_SERVERS.map((s) => startMlflowServer(s.bin)));
    const runlensUrl = await serve.url;
    const started = Date.now();
    const dir = () => {
      const d = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-parity-seed-'));
      scratch.push(d);
      return d;
    };
    const seeded = await Promise.all([seed(runlensUrl, dir()), ...servers.map((s) => seed(s.url, dir()))]);
    runlensIds = seeded[0]!;
    PLAIN_SERVERS.forEach((s, i) => {
      const client = new TrackingClient(servers[i]!.url);
      plains.set(s.label, { server: servers[i]!, client, ui: new UiBackend(client), ids: seeded[i + 1]! });
    });
    const times = [`runlens ${runlensIds.seed_ms.toFixed(0)} ms`, ...PLAIN_SERVERS.map((s) => `${s.label} ${plains.get(s.label)!.ids.seed_ms.toFixed(0)} ms`)].join(', ');
    console.log(`      servers up in ${started - t0} ms; all seeded in ${Date.now() - started} ms (${POINTS} points, at once: ${times})`);
    runlensClient = new TrackingClient(runlensUrl);
    runlens = new UiBackend(runlensClient);
  });

  after(async () => {
    serve?.stop();
    await Promise.all(servers.map((s) => s.stop()));
    for (const d of scratch) fs.rmSync(d, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 }); // the store closes as serve exits
  });

  for (const { label } of PLAIN_SERVERS) {
    describe(label, () => {
      let plain: UiBackend;
      let plainClient: TrackingClient;
      let plainIds: Seeded;
      let mlflow: { url: string };
      before(() => {
        const p = plains.get(label)!;
        plain = p.ui;
        plainClient = p.client;
        plainIds = p.ids;
        mlflow = p.server;
      });

      it("charts a 100,000-point metric downsampled as a Runlens server does, on either axis, from MLflow's paged history", async () => {
        for (const axis of ['step', 'timestamp'] as const) {
          // A fresh client reads the history; the shared one then redraws from its cache of ended runs.
          let t = Date.now();
          const fromPlain = await new UiBackend(new TrackingClient(mlflow.url)).handle({ kind: 'series', runId: plainIds.long, key: 'loss', axis, buckets: 1000 });
          const plainMs = Date.now() - t;
          await plain.handle({ kind: 'series', runId: plainIds.long, key: 'loss', axis, buckets: 1000 });
          t = Date.now();
          const redrawn = await plain.handle({ kind: 'series', runId: plainIds.long, key: 'loss', axis, buckets: 1000 });
          const redrawMs = Date.now() - t;
          t = Date.now();
          const fromRunlens = await runlens.handle({ kind: 'series', runId: runlensIds.long, key: 'loss', axis, buckets: 1000 });
          const runlensMs = Date.now() - t;
          console.log(
            `      ${axis}: plain server ${plainMs} ms (${Math.ceil(POINTS / 25_000)} history pages + downsampling), redrawn ${redrawMs} ms; runlens ${runlensMs} ms; ${fromPlain.points.length} points`,
          );
          assert.deepEqual(redrawn, fromPlain);
          assert.equal(fromPlain.total, POINTS);
          assert.equal(fromPlain.downsampled, true);
          assert.ok(fromPlain.points.length > 900 && fromPlain.points.length <= 1000, `${fromPlain.points.length} points`);
          // Each spike (5 above the curve, every 9973 steps) survives as its bucket's max.
          assert.equal(fromPlain.points.filter((p) => p.max - p.min > 3).length, Math.floor((POINTS - 1) / 9973) + 1);
          assert.deepEqual({ ...fromPlain, runId: '' }, { ...fromRunlens, runId: '' });
        }
        // Only the client that talks to the plain server took MLflow's routes.
        assert.equal(plainClient.lacksRunlensRoute('/runlens/api/metric-series'), true);
        assert.equal(runlensClient.lacksRunlensRoute('/runlens/api/metric-series'), false);
      });

      it('charts several runs at once (one with a NaN) alike, in the order asked', async () => {
        const many = (ui: UiBackend, ids: Seeded): Promise<SeriesResult[]> => ui.handle({ kind: 'seriesMany', runIds: [ids.short, ids.long], key: 'loss', axis: 'step', buckets: 500 });
        const [a, b] = await Promise.all([many(plain, plainIds), many(runlens, runlensIds)]);
        assert.deepEqual(
          a.map((s) => s.runId),
          [plainIds.short, plainIds.long],
        );
        assert.deepEqual(a[0]!.points.map((p) => p.value), [0.9, 0.7, NaN, 0.4, 0.35]);
        assert.equal(a[0]!.downsampled, false);
        assert.deepEqual(
          a.map((s) => ({ ...s, runId: '' })),
          b.map((s) => ({ ...s, runId: '' })),
        );
        // The single-run chart of the same run agrees with the many-run one.
        const single = await plain.handle({ kind: 'series', runId: plainIds.long, key: 'loss', axis: 'step', buckets: 500 });
        assert.deepEqual(single, a[1]);
      });

      it('shows each trace with the same span tree: names, parents, types, status, inputs, outputs, attributes, exception events', async () => {
        const search = (ui: UiBackend, ids: Seeded) => ui.handle({ kind: 'searchTraces', experimentIds: [ids.experiment], filter: '', orderBy: [], maxResults: 100 });
        const [pa, ra] = await Promise.all([search(plain, plainIds), search(runlens, runlensIds)]);
        const p = byQuery(pa.rows);
        const r = byQuery(ra.rows);
        assert.deepEqual([...p.keys()].sort(), ['alpha', 'beta', 'boom', 'delta', 'gamma']);
        assert.deepEqual([...r.keys()].sort(), [...p.keys()].sort());
        for (const q of p.keys()) {
          const [dp, dr] = (await Promise.all([plain.handle({ kind: 'traceDetail', traceId: p.get(q)!.traceId }), runlens.handle({ kind: 'traceDetail', traceId: r.get(q)!.traceId })])) as [TraceDetail, TraceDetail];
          assert.equal(dp.spansError, undefined, dp.spansError);
          assert.equal(dp.spans.length, 3, q);
          const tp = tree(dp.spans);
          const tr = tree(dr.spans);
          assert.deepEqual(untimed(tp), untimed(tr), q);
          assert.equal(dp.row.state, dr.row.state);
          assert.equal(dp.row.sessionId, dr.row.sessionId);
          assert.equal(dp.row.userId, dr.row.userId);
          // The span times are the plain server's own (µs inside the trace's duration).
          for (const s of dp.spans) assert.ok(s.endUs !== null && s.endUs >= s.startUs && s.startUs >= dp.row.requestTime * 1000 - 1000, `${q} ${s.name}`);
        }
        assertFailedPipeline((await plain.handle({ kind: 'traceDetail', traceId: p.get('boom')!.traceId })).spans);
        assert.equal(plainClient.lacksRunlensRoute('/runlens/api/trace'), true);
      });

      it('counts traces (all, and a run page\'s) and groups sessions alike', async () => {
        const count = (ui: UiBackend, ids: Seeded, filter: string) => ui.handle({ kind: 'traceCount', experimentIds: [ids.experiment], filter });
        assert.equal(await count(plain, plainIds, ''), 5);
        assert.equal(await count(runlens, runlensIds, ''), 5);
        assert.equal(await count(plain, plainIds, `run_id = '${plainIds.traced}'`), 3);
        assert.equal(await count(runlens, runlensIds, `run_id = '${runlensIds.traced}'`), 3);
        assert.equal(await count(plain, plainIds, "tags.q = 'boom'"), 1);
        // The explorer counts a plain server's traces up to a cap, and says when there are more.
        assert.deepEqual(await plainClient.traceCountAtMost(plainIds.experiment, 3), { count: 3, capped: true });
        assert.deepEqual(await plainClient.traceCountAtMost(plainIds.experiment, 5), { count: 5, capped: false });
        assert.deepEqual(await runlensClient.traceCountAtMost(runlensIds.experiment, 3), { count: 5, capped: false });
        const sessions = (ui: UiBackend, ids: Seeded) => ui.handle({ kind: 'traceSessions', experimentIds: [ids.experiment] });
        const [sp, sr] = await Promise.all([sessions(plain, plainIds), sessions(runlens, runlensIds)]);
        const stable = (rows: typeof sp) => rows.map((s) => ({ sessionId: s.sessionId, traces: s.traces, errors: s.errors, userId: s.userId, totalTokens: s.totalTokens }));
        assert.deepEqual(stable(sp), [
          { sessionId: 's-3', traces: 1, errors: 1, userId: 'cy', totalTokens: 0 },
          { sessionId: 's-2', traces: 2, errors: 0, userId: 'bo', totalTokens: 'gamma'.length + 2 + 'delta'.length + 2 },
          { sessionId: 's-1', traces: 2, errors: 0, userId: 'ana', totalTokens: 'alpha'.length + 2 + 'beta'.length + 2 },
        ]);
        assert.deepEqual(stable(sp), stable(sr));
        for (const s of sp) assert.ok(s.firstTime > 0 && s.lastTime > s.firstTime, JSON.stringify(s));
        assert.equal(plainClient.lacksRunlensRoute('/runlens/api/trace-sessions'), true);
      });

      it('reports what changes on the server as the change feed would, polling sooner after a change and backing off while none come', async () => {
        const events: ChangeEvent[] = [];
        const poller = new ChangePoller(plainClient, (e) => events.push(e), 50, 400);
        const until = async (what: string, ok: () => boolean): Promise<void> => {
          const deadline = Date.now() + 10_000;
          while (!ok()) {
            if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; events ${JSON.stringify(events)}`);
            await new Promise((r) => setTimeout(r, 20));
          }
        };
        try {
          poller.watch([plainIds.experiment], [plainIds.long]);
          // The first look only records; with nothing changing the polls back off to the cap.
          await until('the back-off', () => poller.intervalMs === 400);
          assert.deepEqual(events, []);
          await plainClient.request('POST', '/api/2.0/mlflow/runs/log-metric', { run_id: plainIds.short, key: 'loss', value: 0.3, timestamp: 1_700_000_000_010, step: 5 });
          await until('the metric', () => events.length > 0);
          assert.deepEqual(events, [{ kind: 'run', runId: plainIds.short, experimentId: plainIds.experiment }]);
          await until('the quicker polls', () => poller.intervalMs === 50);
          const created = await plainClient.request<{ run: { info: { run_id: string } } }>('POST', '/api/2.0/mlflow/runs/create', { experiment_id: plainIds.experiment, start_time: Date.now() });
          await until('the new run', () => events.length > 1);
          assert.deepEqual(events[1], { kind: 'run', runId: created.run.info.run_id, experimentId: plainIds.experiment, created: true });
          const traces = await plainClient.searchTraces({ experimentIds: [plainIds.experiment], maxResults: 10 });
          const traceId = traces.traces[0]!.trace_id;
          await plainClient.request('PATCH', `/api/3.0/mlflow/traces/${traceId}/tags`, { key: 'reviewed', value: 'yes' });
          await until('the trace', () => events.length > 2);
          assert.deepEqual(events[2], { kind: 'trace', traceId, experimentId: plainIds.experiment });
          assert.equal(events.length, 3);
        } finally {
          poller.dispose();
        }
      });

      it('polls a server while a view on it is open, for what the views asked about, and pushes to that server\'s views', async () => {
        const pushed: [string, ChangeEvent][] = [];
        const watches = new ViewWatches<string>((source, change) => pushed.push([source, change]), 50, 400);
        try {
          watches.note('run page', 'remote:team', plainClient, { kind: 'runDetail', runId: plainIds.long });
          watches.note('runs table', 'remote:team', plainClient, { kind: 'searchRuns', experimentIds: [plainIds.experiment], filter: '', orderBy: [], maxResults: 100 });
          watches.note('runs table', 'remote:team', plainClient, { kind: 'getPrefs', key: 'layout' }); // about nothing: no change
          const poller = watches.pollerOf('remote:team')!;
          assert.ok(poller);
          await new Promise((r) => setTimeout(r, 300)); // the first look records
          await plainClient.request('POST', '/api/2.0/mlflow/runs/set-tag', { run_id: plainIds.long, key: 'note', value: 'looked at' });
          const deadline = Date.now() + 10_000;
          while (pushed.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
          assert.deepEqual(pushed, [['remote:team', { kind: 'run', runId: plainIds.long, experimentId: plainIds.experiment }]]);
          watches.forget('runs table');
          assert.equal(watches.pollerOf('remote:team'), poller, 'the run page still watches');
          watches.forget('run page');
          assert.equal(watches.pollerOf('remote:team'), undefined);
          // A client signed in anew gets a poller of its own.
          watches.note('run page', 'remote:team', plainClient, { kind: 'runDetail', runId: plainIds.long });
          const first = watches.pollerOf('remote:team');
          watches.note('run page', 'remote:team', new TrackingClient(plainClient.baseUrl), { kind: 'runDetail', runId: plainIds.long });
          assert.notEqual(watches.pollerOf('remote:team'), first);
        } finally {
          watches.dispose();
        }
      });

      it("reads a live run's growing chart again from its last history page, not the whole history", async () => {
        const created = await plainClient.request<{ run: { info: { run_id: string } } }>('POST', '/api/2.0/mlflow/runs/create', { experiment_id: plainIds.experiment, start_time: Date.now() });
        const runId = created.run.info.run_id;
        // A spike every 7919 steps, each its own value.
        const valueAt = (s: number) => (s % 7919 === 0 ? 100 + s : Math.cos(s / 500));
        const log = async (from: number, n: number): Promise<void> => {
          for (let i = from; i < from + n; i += 1000) {
            const metrics = Array.from({ length: Math.min(1000, from + n - i) }, (_, k) => ({ key: 'acc', value: valueAt(i + k), timestamp: 1_700_000_000_000 + (i + k) * 10, step: i + k }));
            await plainClient.request('POST', '/api/2.0/mlflow/runs/log-batch', { run_id: runId, metrics });
          }
        };
        await log(0, 30_000);
        const client = new TrackingClient(mlflow.url);
        const pages: (string | null)[] = [];
        const requestItems = client.requestItems.bind(client);
        client.requestItems = ((route, query, onItem) => {
          if (route.endsWith('/metrics/get-history')) pages.push((query.page_token as string | undefined) ?? null);
          return requestItems(route, query, onItem);
        }) as typeof client.requestItems;
        const ui = new UiBackend(client);
        const chart = () => ui.handle({ kind: 'series', runId, key: 'acc', axis: 'step', buckets: 1000 });
        assert.equal((await chart()).total, 30_000);
        assert.equal(pages.length, 2);
        await log(30_000, 2000);
        pages.length = 0;
        const grown = await chart();
        assert.equal(pages.length, 1, 'only the last page');
        assert.notEqual(pages[0], null);
        assert.equal(grown.total, 32_000);
        assert.ok(grown.points.length <= 1000 && grown.points.length > 700, `${grown.points.length} points`);
        for (let s = 0; s < 32_000; s += 7919) assert.ok(grown.points.some((p) => p.max === valueAt(s)), `spike at ${s}`);
        assert.deepEqual([grown.points.at(-1)!.x, grown.points.at(-1)!.value], [31_999, valueAt(31_999)]);
        // A chart read afresh has the same extremes and count.
        const fresh = await new UiBackend(new TrackingClient(mlflow.url)).handle({ kind: 'series', runId, key: 'acc', axis: 'step', buckets: 1000 });
        const extremes = (r: SeriesResult) => [r.total, Math.min(...r.points.map((p) => p.min)), Math.max(...r.points.map((p) => p.max))];
        assert.deepEqual(extremes(grown), extremes(fresh));
      });
    });
  }
});
