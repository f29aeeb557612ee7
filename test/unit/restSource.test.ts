import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { openRestSource, type RestSourceOptions } from '../../src/backend/remote/restSource';
import type { MlflowSource } from '../../src/backend/api/source';

type Reply = { status?: number; body?: unknown; text?: string; headers?: Record<string, string> };
type Handler = (req: { method: string; path: string; query: URLSearchParams; body: Record<string, unknown>; headers: http.IncomingHttpHeaders }) => Reply | Promise<Reply>;

/** A tiny stand-in for an MLflow server: one handler per "METHOD /path", everything else 404 (as Flask answers). */
class FakeServer {
  readonly seen: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  private server?: http.Server;
  constructor(readonly routes: Record<string, Handler>) {}

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', async () => {
        const url = new URL(req.url ?? '/', 'http://x');
        const key = `${req.method} ${url.pathname}`;
        this.seen.push(`${key}${url.search}`);
        this.inFlight++;
        this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
        const handler = this.routes[key] ?? (key === 'POST /api/2.0/mlflow/experiments/search' ? () => ({ body: {} }) : key === 'GET /version' ? () => ({ text: '3.1.0' }) : undefined);
        const reply = handler ? await handler({ method: req.method!, path: url.pathname, query: url.searchParams, body: raw ? (JSON.parse(raw) as Record<string, unknown>) : {}, headers: req.headers }) : { status: 404, text: '<!doctype html><title>404 Not Found</title>' };
        await new Promise((r) => setTimeout(r, 2));
        this.inFlight--;
        const text = reply.text ?? JSON.stringify(reply.body ?? {});
        res.writeHead(reply.status ?? 200, { 'Content-Type': reply.text !== undefined ? 'text/html' : 'application/json', ...reply.headers });
        res.end(text);
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((r) => this.server?.close(() => r()) ?? r());
  }
}

const FAST: RestSourceOptions = { backoffFactor: 0.001, backoffJitter: 0.001, maxRetries: 3 };

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

function run(id: string, metrics: string[] = []): unknown {
  return { info: { run_id: id, experiment_id: '1', status: 'FINISHED', start_time: 1, lifecycle_stage: 'active' }, data: { metrics: metrics.map((key) => ({ key, value: 1, timestamp: 1, step: 0 })) } };
}

describe('REST source (MLflow server over HTTP)', () => {
  let fake: FakeServer;
  let source: MlflowSource | undefined;
  afterEach(async () => {
    await source?.close();
    source = undefined;
    await fake.close();
  });

  async function open(routes: Record<string, Handler>, opts: RestSourceOptions = FAST): Promise<MlflowSource> {
    fake = new FakeServer(routes);
    source = await openRestSource(await fake.start(), opts);
    return source;
  }

  it('pages experiments and runs with the server\'s own tokens, asking for ALL', async () => {
    const s = await open({
      'POST /api/2.0/mlflow/experiments/search': ({ body }) => {
        assert.equal(body.view_type, 'ALL');
        if (body.max_results === 1) return { body: {} }; // the probe
        const page = Number(body.page_token ?? 0);
        return { body: { experiments: [{ experiment_id: String(page), name: `e${page}`, tags: page === 1 ? [{ key: 't', value: 'v' }] : undefined }], ...(page < 2 ? { next_page_token: String(page + 1) } : {}) } };
      },
      'POST /api/2.0/mlflow/runs/search': ({ body }) => {
        assert.deepEqual(body.experiment_ids, ['1']);
        assert.equal(body.run_view_type, 'ALL');
        return body.page_token ? { body: { runs: [run('r2')] } } : { body: { runs: [run('r1')], next_page_token: 'p2' } };
      },
    });
    const exps = await collect(s.experiments());
    assert.deepEqual(exps.map((e) => e.name), ['e0', 'e1', 'e2']);
    assert.deepEqual(exps[1]!.tags, [{ key: 't', value: 'v' }]);
    assert.deepEqual(exps[0]!.tags, [], 'protobuf JSON leaves out empty lists');
    assert.deepEqual((await collect(s.runs('1'))).map((r) => r.info.run_id), ['r1', 'r2']);
  });

  it('reads full metric histories page by page, with the client\'s max_results, NaN as NaN', async () => {
    const s = await open({
      'POST /api/2.0/mlflow/runs/search': () => ({ body: { runs: [run('r1', ['loss', 'acc'])] } }),
      'GET /api/2.0/mlflow/metrics/get-history': ({ query }) => {
        assert.equal(query.get('max_results'), '25000');
        if (query.get('metric_key') === 'acc') return { body: { metrics: [{ key: 'acc', value: 'NaN', timestamp: '5', step: '0' }] } };
        const page = Number(query.get('page_token') ?? 0);
        return { body: { metrics: [{ key: 'loss', value: page, timestamp: 1, step: page }], ...(page < 2 ? { next_page_token: String(page + 1) } : {}) } };
      },
    });
    const points = [];
    // As the importer reads: each run's history while the runs are listed (their metric keys come with them).
    for await (const r of s.runs('1')) points.push(...(await collect(s.metricHistory(r.info.run_id))).flat());
    assert.ok(!fake.seen.some((r) => r.includes('runs/get')));
    assert.deepEqual(points.filter((m) => m.key === 'loss').map((m) => m.step), [0, 1, 2]);
    const acc = points.find((m) => m.key === 'acc')!;
    assert.ok(Number.isNaN(acc.value));
    assert.equal(acc.timestamp, 5, 'quoted int64s are numbers');
  });

  it('stops on an empty history page that hands back a token (MLflow 3.6 without max_results), and on a repeated token', async () => {
    const s = await open({
      'GET /api/2.0/mlflow/runs/get': ({ query }) => ({ body: { run: run(query.get('run_id')!, ['loss']) } }),
      'GET /api/2.0/mlflow/metrics/get-history': ({ query }) =>
        query.get('run_id') === 'empty' ? { body: { next_page_token: 'offset-0' } } : { body: { metrics: [{ key: 'loss', value: 1, timestamp: 1, step: 0 }], next_page_token: 'same' } },
      'POST /api/2.0/mlflow/experiments/search': ({ body }) => (body.max_results === 1 ? { body: {} } : { body: { experiments: [{ experiment_id: '1', name: 'a' }], next_page_token: 'again' } }),
    });
    assert.deepEqual(await collect(s.metricHistory('empty')), []);
    await assert.rejects(collect(s.metricHistory('loops')), /same page token twice/);
    await assert.rejects(collect(s.experiments()), /experiments: the server returned the same page token twice/);
  });

  it('retries 429 and 503 with back-off (honouring Retry-After), then gives up with the server\'s message', async () => {
    let calls = 0;
    const s = await open({
      'GET /api/2.0/mlflow/registered-models/search': () => {
        calls++;
        if (calls === 1) return { status: 429, body: { error_code: 'REQUEST_LIMIT_EXCEEDED', message: 'slow down' }, headers: { 'Retry-After': '0' } };
        if (calls === 2) return { status: 503, text: 'busy' };
        return { body: { registered_models: [{ name: 'm', aliases: [{ alias: 'prod', version: '1' }] }] } };
      },
      'GET /api/2.0/mlflow/model-versions/search': ({ query }) => {
        assert.equal(query.get('filter'), "name='m'");
        return { body: { model_versions: [{ name: 'm', version: '1', current_stage: 'Production' }] } };
      },
      'POST /api/2.0/mlflow/runs/search': () => ({ status: 503, body: { error_code: 'TEMPORARILY_UNAVAILABLE', message: 'db down' } }),
    });
    const models = await collect(s.registeredModels());
    assert.equal(calls, 4, 'two retries, then the prompts pass (its answer repeats m: yielded once)');
    assert.equal(models.length, 1);
    const filters = fake.seen.filter((r) => r.startsWith('GET /api/2.0/mlflow/registered-models/search')).map((r) => new URL(r.slice(4), 'http://x').searchParams.get('filter'));
    assert.deepEqual(filters, [null, null, null, "tags.`mlflow.prompt.is_prompt` = 'true'"]);
    assert.deepEqual(models[0]!.model.aliases, [{ alias: 'prod', version: '1' }]);
    assert.equal(models[0]!.versions[0]!.current_stage, 'Production');
    await assert.rejects(collect(s.runs('1')), /db down/);
    assert.equal(fake.seen.filter((r) => r.startsWith('POST /api/2.0/mlflow/runs/search')).length, 4, 'the first try and 3 retries');
  });

  it('says which credentials to set on 401 and 403, and sends basic or bearer auth as the client does', async () => {
    fake = new FakeServer({ 'POST /api/2.0/mlflow/experiments/search': ({ headers }) => (headers.authorization ? { status: 403, body: { error_code: 'PERMISSION_DENIED', message: 'no READ' } } : { status: 401, text: 'Unauthorized' }) });
    const url = await fake.start();
    await assert.rejects(openRestSource(url, FAST), /requires authentication .*Set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD .*or MLFLOW_TRACKING_TOKEN/);
    await assert.rejects(openRestSource(url, { ...FAST, username: 'ann', password: 'pw' }), /refused .* for user 'ann' \(403: no READ\)/);
    await fake.close();

    const auth: string[] = [];
    fake = new FakeServer({ 'POST /api/2.0/mlflow/experiments/search': ({ headers }) => (auth.push(headers.authorization ?? ''), { body: {} }) });
    const url2 = await fake.start();
    await (await openRestSource(url2, { username: 'ann', password: 'pw' })).close();
    await (await openRestSource(url2, { token: 'tok', username: 'ann', password: 'pw' })).close();
    assert.deepEqual(auth, [`Basic ${Buffer.from('ann:pw').toString('base64')}`, 'Bearer tok']);
  });

  it('tells an unreachable server from one that is not MLflow', async () => {
    fake = new FakeServer({});
    const url = await fake.start();
    await fake.close();
    await assert.rejects(openRestSource(url, FAST), new RegExp(`Cannot reach the MLflow server at ${url} \\(ECONNREFUSED\\)`));
    fake = new FakeServer({ 'POST /api/2.0/mlflow/experiments/search': () => ({ text: '<html>a blog</html>' }) });
    await assert.rejects(openRestSource(await fake.start(), FAST), /does not look like an MLflow tracking server: \/api\/2.0\/mlflow\/experiments\/search answered 200 with text\/html/);
    await fake.close();
    fake = new FakeServer({ 'POST /api/2.0/mlflow/experiments/search': () => ({ status: 404, text: 'nope' }) });
    await assert.rejects(openRestSource(await fake.start(), FAST), /does not look like an MLflow tracking server: POST .* answered 404/);
    await assert.rejects(openRestSource('ftp://host/x'), /not an http\(s\) URL/);
  });

  it('fetches histories ahead only once the importer asks for one, so a re-import that skips every run reads none', async () => {
    const ids = ['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7'];
    const s = await open({
      'POST /api/2.0/mlflow/runs/search': () => ({ body: { runs: ids.map((id) => run(id, ['loss'])) } }),
      'GET /api/2.0/mlflow/metrics/get-history': ({ query }) => ({ body: { metrics: [{ key: 'loss', value: Number(query.get('run_id')!.slice(1)), timestamp: 1, step: 0 }] } }),
    });
    const histories = (): string[] => fake.seen.filter((r) => r.includes('get-history')).map((r) => new URL(r.split(' ')[1]!, 'http://x').searchParams.get('run_id')!);
    await collect(s.runs('1'));
    assert.deepEqual(histories(), []);
    for await (const r of s.runs('1')) {
      if (r.info.run_id !== 'r1') continue;
      assert.deepEqual((await collect(s.metricHistory('r1'))).flat().map((m) => m.value), [1]);
    }
    assert.deepEqual(histories().sort(), ['r1', 'r2', 'r3', 'r4', 'r5'], 'r1 and the 4 runs after it');
  });

  it('keeps at most maxInFlight requests open', async () => {
    const keys = Array.from({ length: 20 }, (_, i) => `m${i}`);
    const s = await open(
      {
        'POST /api/2.0/mlflow/runs/search': () => ({ body: { runs: [run('r1', keys), run('r2', keys), run('r3', keys)] } }),
        'GET /api/2.0/mlflow/metrics/get-history': ({ query }) => ({ body: { metrics: [{ key: query.get('metric_key'), value: 1, timestamp: 1, step: 0 }] } }),
      },
      { ...FAST, maxInFlight: 3 },
    );
    let points = 0;
    for await (const r of s.runs('1')) for (const chunk of await collect(s.metricHistory(r.info.run_id))) points += chunk.length;
    assert.equal(points, 60);
    assert.ok(fake.maxInFlight <= 3 && fake.maxInFlight >= 2, `in flight: ${fake.maxInFlight}`);
  });

  it('on a 2.x server: no logged models, v2 trace search, spans from get-trace-artifact', async () => {
    const s = await open({
      'POST /api/3.0/mlflow/traces/search': () => ({ status: 404, body: { error_code: 'ENDPOINT_NOT_FOUND', message: 'no v3' } }),
      'GET /api/2.0/mlflow/traces': ({ query }) => {
        assert.deepEqual(query.getAll('experiment_ids'), ['1']);
        return {
          body: {
            traces: [
              {
                request_id: 'tr-1',
                experiment_id: '1',
                timestamp_ms: 1_700_000_000_000,
                execution_time_ms: 250,
                status: 'OK',
                request_metadata: [{ key: 'mlflow.traceInputs', value: '{"q": 1}' }, { key: 'mlflow.sourceRun', value: 'r1' }],
                tags: [{ key: 'mlflow.traceName', value: 'rag' }],
              },
            ],
          },
        };
      },
      'GET /ajax-api/2.0/mlflow/get-trace-artifact': ({ query }) => ({ body: { spans: [{ name: 'rag', context: { span_id: 'a', trace_id: query.get('request_id') } }] } }),
    });
    assert.deepEqual(await collect(s.loggedModels('1')), []);
    const [t] = await collect(s.traces('1'));
    assert.equal(t!.info.trace_id, 'tr-1');
    assert.equal(t!.info.request_time, new Date(1_700_000_000_000).toISOString());
    assert.equal(t!.info.execution_duration, '0.25s');
    assert.equal(t!.info.request_preview, '{"q": 1}');
    assert.deepEqual(t!.info.trace_metadata, { 'mlflow.sourceRun': 'r1' });
    assert.equal(t!.spans.length, 1);
    assert.deepEqual(await collect(s.traces('1')), [t], 'remembers the server has only v2');
    assert.equal(fake.seen.filter((r) => r.startsWith('POST /api/3.0')).length, 1);
  });

  it('on a 3.x server: full trace info with assessments, and a trace without spans is kept and reported', async () => {
    const info = (id: string, assessments: unknown[] = []): unknown => ({ trace_id: id, trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: '1' } }, request_time: '2026-01-01T00:00:00Z', state: 'OK', assessments });
    const s = await open({
      'POST /api/3.0/mlflow/traces/search': ({ body }) => (body.page_token ? { body: { traces: [info('tr-b')] } } : { body: { traces: [info('tr-a')], next_page_token: 'n' } }),
      'GET /api/3.0/mlflow/traces/tr-a': () => ({ body: { trace: { trace_info: info('tr-a', [{ assessment_id: 'x', assessment_name: 'ok', source: { source_type: 'HUMAN' }, create_time: 't', feedback: { value: true } }]) } } }),
      'GET /api/3.0/mlflow/traces/tr-b': () => ({ body: { trace: { trace_info: info('tr-b') } } }),
      'GET /ajax-api/2.0/mlflow/get-trace-artifact': ({ query }) =>
        query.get('request_id') === 'tr-a' ? { body: { spans: [{ span_id: 's', name: 'root' }] } } : { status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'no data' } },
    });
    const traces = await collect(s.traces('1'));
    assert.deepEqual(traces.map((t) => [t.info.trace_id, t.spans.length, t.info.assessments.length]), [['tr-a', 1, 1], ['tr-b', 0, 0]]);
    assert.equal(traces[0]!.info.assessments[0]!.valid, true);
    assert.deepEqual([...s.skipped!()], [['trace spans the server does not have (imported the trace without them)', 1]]);
  });

  it('where get-trace-artifact is not served, reads traces.json through the artifact proxy as the client does', async () => {
    const s = await open({
      'POST /api/3.0/mlflow/traces/search': () => ({
        body: { traces: [{ trace_id: 'tr-1', request_time: '2026-01-01T00:00:00Z', state: 'OK', tags: { 'mlflow.artifactLocation': 'mlflow-artifacts:/1/traces/tr-1/artifacts' } }] },
      }),
      'GET /api/3.0/mlflow/traces/tr-1': () => ({ body: {} }),
      'GET /api/2.0/mlflow-artifacts/artifacts/1/traces/tr-1/artifacts/traces.json': () => ({ body: { spans: [{ span_id: 's', name: 'root' }] } }),
    });
    const [t] = await collect(s.traces('1'));
    assert.deepEqual(t!.spans.map((x) => x.name), ['root']);
    assert.equal(t!.info.tags['mlflow.artifactLocation'], 'mlflow-artifacts:/1/traces/tr-1/artifacts', 'the searched info stands when the get answers nothing');
  });

  it('lists artifacts recursively and downloads them through /get-artifact', async () => {
    const s = await open({
      'GET /api/2.0/mlflow/artifacts/list': ({ query }) => {
        const p = query.get('path');
        if (!p) return { body: { files: [{ path: 'a.txt', is_dir: false }, { path: 'plots', is_dir: true }] } };
        if (p === 'plots') return { body: { files: [{ path: 'plots/deep', is_dir: true }] } };
        return { body: { files: [{ path: 'plots/deep/x.csv', is_dir: false }] } };
      },
      'GET /get-artifact': ({ query }) => ({ text: `${query.get('run_uuid')}:${query.get('path')}` }),
    });
    const loc = s.runArtifacts(run('r1') as Parameters<MlflowSource['runArtifacts']>[0]);
    assert.equal(loc.dir, undefined);
    const files = await collect(loc.remote!.files());
    assert.deepEqual(files.sort(), ['a.txt', 'plots/deep/x.csv']);
    const chunks: Buffer[] = [];
    for await (const c of await loc.remote!.open('plots/deep/x.csv')) chunks.push(c as Buffer);
    assert.equal(Buffer.concat(chunks).toString(), 'r1:plots/deep/x.csv');
  });
});
