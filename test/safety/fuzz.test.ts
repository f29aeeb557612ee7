/**
 * A seeded fuzzer over the whole route table: for every route, mutated requests (wrong types,
 * missing fields, hostile path parameters, bad page tokens and filters, random bytes, wrong
 * methods) against an in-process server on a seeded temp store. No request may answer 5xx or
 * hang; afterwards the server still answers /health and a normal log-metric.
 *
 * Reproduce a failure with RUNLENS_FUZZ_SEED=<seed> (and RUNLENS_FUZZ_COUNT=<n> for a longer run).
 */
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import { buildRouter, startServer, type RunningServer } from '../../src/server/httpServer';
import type { RouteInfo } from '../../src/server/router';
import type { LocalStore } from '../../src/store/localStore';
import { MemoryLogger, openStore, tempRoot } from '../unit/helpers';

const SEED = Number(process.env.RUNLENS_FUZZ_SEED ?? 20261201);
const COUNT = Number(process.env.RUNLENS_FUZZ_COUNT ?? 3000);
const REQUEST_TIMEOUT_MS = 10_000;

/** mulberry32: small, fast and reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Ids {
  experimentId: string;
  runId: string;
  modelId: string;
  modelName: string;
  traceId: string;
  assessmentId: string;
  runArtifactPath: string;
  tracePath: string;
}

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

interface FuzzResult {
  status: number;
  text: string;
}

function send(base: URL, req: FuzzRequest): Promise<FuzzResult> {
  return new Promise((resolve, reject) => {
    const r = http.request(
      { host: base.hostname, port: base.port, method: req.method, path: req.path, headers: { ...req.headers, ...(req.body ? { 'Content-Length': String(req.body.length) } : {}) }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        if (/event-stream/.test(String(res.headers['content-type']))) {
          res.destroy();
          resolve({ status: res.statusCode ?? 0, text: '(event stream)' });
          return;
        }
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size < 4096) chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8').slice(0, 600) }));
        res.on('error', reject);
      },
    );
    r.setTimeout(REQUEST_TIMEOUT_MS, () => r.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    r.on('error', reject);
    r.end(req.body);
  });
}

async function json(base: URL, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await send(base, {
    method,
    path,
    headers: { 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: Buffer.from(JSON.stringify(body)) }),
  });
  assert.equal(res.status, 200, `${method} ${path}: ${res.text}`);
  return JSON.parse(res.text) as Record<string, unknown>;
}

/** One of everything, so ids in mutated requests resolve and handlers go past their lookups. */
async function seed(base: URL): Promise<Ids> {
  const A = '/api/2.0/mlflow';
  const exp = await json(base, 'POST', `${A}/experiments/create`, { name: 'fuzz', tags: [{ key: 't', value: 'v' }] });
  const experimentId = String(exp.experiment_id);
  const run = (await json(base, 'POST', `${A}/runs/create`, { experiment_id: experimentId, run_name: 'r' })).run as { info: { run_id: string; artifact_uri: string } };
  const runId = run.info.run_id;
  await json(base, 'POST', `${A}/runs/log-batch`, { run_id: runId, metrics: [{ key: 'm', value: 1, timestamp: 1, step: 0 }], params: [{ key: 'p', value: 'v' }], tags: [{ key: 't', value: 'v' }] });
  const model = (await json(base, 'POST', `${A}/logged-models`, { experiment_id: experimentId, name: 'lm', source_run_id: runId })).model as { info: { model_id: string } };
  await json(base, 'POST', `${A}/registered-models/create`, { name: 'rm' });
  await json(base, 'POST', `${A}/model-versions/create`, { name: 'rm', source: `models:/${model.info.model_id}`, run_id: runId, model_id: model.info.model_id });
  await json(base, 'POST', `${A}/registered-models/alias`, { name: 'rm', alias: 'champion', version: '1' });
  const traceId = `tr-${'ab'.repeat(16)}`;
  const started = (await json(base, 'POST', '/api/3.0/mlflow/traces', {
    trace: {
      trace_info: {
        trace_id: traceId,
        trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: experimentId } },
        request_time: '2026-01-01T00:00:00Z',
        execution_duration: '0.5s',
        state: 'OK',
        tags: { t: 'v' },
        trace_metadata: {},
      },
    },
  })).trace as { trace_info: { tags: Record<string, string> } };
  const tracePath = started.trace_info.tags['mlflow.artifactLocation']!.replace(/^mlflow-artifacts:\//, '');
  const span = { trace_id: 'q83vq83vq83vq83vq83vqw==', span_id: 'AAAAAAAAAAE=', parent_span_id: null, name: 'root', start_time_unix_nano: 1, end_time_unix_nano: 2, attributes: {}, status: { code: 'OK' }, events: [] };
  const up = await send(base, { method: 'PUT', path: `/api/2.0/mlflow-artifacts/artifacts/${tracePath}/traces.json`, headers: {}, body: Buffer.from(JSON.stringify({ spans: [span] })) });
  assert.equal(up.status, 200, up.text);
  const assessment = (await json(base, 'POST', `/api/3.0/mlflow/traces/${traceId}/assessments`, {
    assessment: { assessment_name: 'a', feedback: { value: true }, source: { source_type: 'HUMAN', source_id: 'me' } },
  })).assessment as { assessment_id: string };
  const runArtifactPath = run.info.artifact_uri.replace(/^mlflow-artifacts:\//, '');
  const put = await send(base, { method: 'PUT', path: `/api/2.0/mlflow-artifacts/artifacts/${runArtifactPath}/a.txt`, headers: {}, body: Buffer.from('hello') });
  assert.equal(put.status, 200, put.text);
  return { experimentId, runId, modelId: model.info.model_id, modelName: 'rm', traceId, assessmentId: assessment.assessment_id, runArtifactPath, tracePath };
}

/** Every field name the handlers read, with a value that is valid for the seeded store. */
function validFields(ids: Ids): Record<string, unknown> {
  return {
    run_id: ids.runId,
    run_uuid: ids.runId,
    experiment_id: ids.experimentId,
    experiment_ids: [ids.experimentId],
    experiment_name: 'fuzz',
    name: ids.modelName,
    new_name: 'renamed',
    key: 't',
    value: 'v',
    timestamp: 1,
    step: 0,
    metrics: [{ key: 'm', value: 1, timestamp: 1, step: 0 }],
    params: [{ key: 'p', value: 'v' }],
    tags: [{ key: 't', value: 'v' }],
    max_results: 10,
    page_token: Buffer.from(JSON.stringify({ offset: 0 })).toString('base64'),
    filter: "name = 'x'",
    order_by: ['start_time DESC'],
    run_view_type: 'ALL',
    view_type: 'ALL',
    status: 'FINISHED',
    end_time: 2,
    run_name: 'r',
    start_time: 1,
    user_id: 'u',
    artifact_location: 'mlflow-artifacts:/x',
    metric_key: 'm',
    run_ids: [ids.runId],
    start_step: 0,
    end_step: 10,
    x: 'STEP',
    buckets: 100,
    from: '0',
    to: '10',
    models: [{ model_id: ids.modelId, step: 0 }],
    datasets: [{ dataset: { name: 'd', digest: 'x', source_type: 'local', source: '/tmp' }, tags: [] }],
    model_id: ids.modelId,
    source_run_id: ids.runId,
    model_type: 'mt',
    description: 'd',
    stages: ['None'],
    alias: 'champion',
    version: '1',
    source: `models:/${ids.modelId}`,
    run_link: '',
    stage: 'Staging',
    archive_existing_versions: false,
    path: 'a.txt',
    num_parts: 2,
    upload_id: '00000000-0000-0000-0000-000000000000',
    parts: [{ part_number: 1, etag: 'x' }],
    trace_id: ids.traceId,
    trace_ids: [ids.traceId],
    request_ids: [ids.traceId],
    locations: [{ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: ids.experimentId } }],
    max_timestamp_millis: 1,
    max_traces: 1,
    assessment: { assessment_name: 'a', feedback: { value: 1 }, source: { source_type: 'HUMAN' } },
    update_mask: 'rationale',
    trace: { trace_info: { trace_id: `tr-${'cd'.repeat(16)}`, trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: ids.experimentId } }, state: 'OK' } },
    experiments: ids.experimentId,
    runs: ids.runId,
    run: ids.runId,
    trace_state: 'OK',
    field_name: 'creation_time',
  };
}

class Gen {
  constructor(private readonly rand: () => number) {}
  int(n: number): number {
    return Math.floor(this.rand() * n);
  }
  chance(p: number): boolean {
    return this.rand() < p;
  }
  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)]!;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
  deep(depth: number, asArray: boolean): unknown {
    let v: unknown = 1;
    for (let i = 0; i < depth; i++) v = asArray ? [v] : { a: v };
    return v;
  }
  /** A value of some wrong (or hostile) kind. */
  value(): unknown {
    switch (this.int(22)) {
      case 0: return null;
      case 1: return this.int(1000) - 500;
      case 2: return 1e308 * 10; // Infinity → null in JSON
      case 3: return 9007199254740993;
      case 4: return '99999999999999999999999999';
      case 5: return 'NaN';
      case 6: return '-inf';
      case 7: return '';
      case 8: return 'x'.repeat(this.pick([256, 300, 5000, 70_000]));
      case 9: return '\u{1F600}\u0000\uFFFF\uD800 é';
      case 10: return [];
      case 11: return [this.value(), this.value()];
      case 12: return {};
      case 13: return { key: this.value(), value: this.value() };
      case 14: return this.deep(this.pick([50, 500, 3000]), this.chance(0.5));
      case 15: return true;
      case 16: return -1;
      case 17: return 1.5;
      case 18: return "name = 'x' AND (((";
      case 19: return this.pick(['attributes.start_time DESC', 'metrics.`m` ASC', 'params.p', 'tag.x = 1', 'trace.status = \'OK\'', "span.name LIKE '%", '`', 'a b c d']);
      case 20: return this.pick(['../../etc/passwd', '.runlens/store.sqlite', '.RUNLENS/x', '%2e%2e/x', 'a\u0000b']);
      default: return this.pick(['True', 'false', '0', '-0', '1e3', '0x10', ' 1 ', '[]', '{}']);
    }
  }
  /** A copy of `value` with one node somewhere inside it replaced, removed or joined by a stranger. */
  mutateDeep(value: unknown): unknown {
    const copy = JSON.parse(JSON.stringify(value ?? null)) as unknown;
    const holders: (Record<string, unknown> | unknown[])[] = [];
    const walk = (v: unknown): void => {
      if (typeof v !== 'object' || v === null) return;
      holders.push(v as Record<string, unknown> | unknown[]);
      for (const child of Array.isArray(v) ? v : Object.values(v)) walk(child);
    };
    walk(copy);
    if (holders.length === 0) return this.value();
    const at = this.pick(holders);
    const keys = Array.isArray(at) ? at.map((_, i) => String(i)) : Object.keys(at);
    const key = keys.length === 0 || this.chance(0.15) ? this.pick(['x', '0', 'value', 'key', 'constructor']) : this.pick(keys);
    if (this.chance(0.15) && !Array.isArray(at)) delete at[key];
    else (at as Record<string, unknown>)[key] = this.value();
    return copy;
  }
  pageToken(): string {
    return this.pick([
      'not base64 !!',
      Buffer.from('{"offset": -1}').toString('base64'),
      Buffer.from('{"offset": 1e300}').toString('base64'),
      Buffer.from('{"offset": "1"}').toString('base64'),
      Buffer.from('null').toString('base64'),
      Buffer.from('[1]').toString('base64'),
      Buffer.from(JSON.stringify({ offset: 10 ** 12 })).toString('base64'),
      Buffer.from(JSON.stringify({ offset: 2 ** 53 })).toString('base64'),
      Buffer.from('[' .repeat(5000)).toString('base64'),
      'x'.repeat(5000),
    ]);
  }
  filter(): string {
    return this.pick([
      "name = 'x'",
      'metrics.m > 1',
      "tags.`t` = 'v' AND params.p != 'q'",
      'attributes.status IN (',
      "attributes.run_id IN ('a', 'b')",
      'metrics.m > NaN',
      'metrics.m > 1e999',
      "trace.timestamp_ms > 'x'",
      "span.name = 'root'",
      "run.x = '",
      'a'.repeat(10_000),
      '(((((((((((((((((((((((((((((((',
      "name LIKE '%%%%%'",
      "name ILIKE 5",
      "tags.'x' = 1",
      'creation_time > 99999999999999999999999',
      'attributes.start_time = -',
      "\u0000 = ''",
      "request_metadata.x = 'y'",
      "feedback.x = 'y'",
    ]);
  }
  segment(valid: string): string {
    switch (this.int(12)) {
      case 0: return '..';
      case 1: return '%2E%2E';
      case 2: return '.%2F..';
      case 3: return 'a%2Fb';
      case 4: return '%00';
      case 5: return 'x'.repeat(300);
      case 6: return encodeURIComponent('\u{1F600}é');
      case 7: return '%ZZ';
      case 8: return '.RUNLENS';
      case 9: return '%5C..%5Cx';
      case 10: return `${valid}x`;
      default: return valid;
    }
  }
}

/** Long runs of one character shown as `x{300}`, non-printable bytes escaped: a failure stays readable. */
function shorten(text: string, max: number): string {
  const squeezed = text.replace(/(.)\1{15,}/gs, (run, c: string) => `${c}{${run.length}}`);
  const printable = JSON.stringify(squeezed).slice(1, -1);
  return printable.length > max ? `${printable.slice(0, max)}…` : printable;
}

function describeRequest(r: FuzzRequest): string {
  const body = r.body ? ` body: ${shorten(r.body.toString('utf8'), 300)}` : '';
  return `${r.method} ${shorten(r.path, 400)} headers: ${JSON.stringify(r.headers)}${body}`;
}

describe('fuzzing every route (seeded)', function () {
  this.timeout(Math.max(120_000, COUNT * 40));
  let store: LocalStore;
  let server: RunningServer;
  let base: URL;
  let ids: Ids;
  let routes: RouteInfo[];

  before(async () => {
    store = await openStore(tempRoot('runlens-fuzz-'));
    server = await startServer({ store, log: new MemoryLogger(), port: 0 });
    base = new URL(server.url);
    ids = await seed(base);
    routes = buildRouter(store).list();
  });
  after(async () => {
    await server.close();
    await store.close();
  });

  function pathFor(g: Gen, route: RouteInfo, mutate: boolean): string {
    const params: Record<string, string> = {
      trace_id: ids.traceId,
      assessment_id: ids.assessmentId,
      modelId: ids.modelId,
      key: 't',
      uploadId: '00000000-0000-0000-0000-000000000000',
      part: '1',
      file: 'webview.css',
      page: 'runs',
    };
    const segs = route.path.split('/').filter(Boolean).map((s) => {
      if (s.startsWith(':')) return mutate && g.chance(0.5) ? g.segment(params[s.slice(1)] ?? 'x') : encodeURIComponent(params[s.slice(1)] ?? 'x');
      if (s.startsWith('*')) {
        const root = g.pick([ids.runArtifactPath, ids.tracePath, ids.experimentId]);
        const parts = [...root.split('/'), g.pick(['a.txt', 'traces.json', 'dir/f.bin', 'model/MLmodel'])];
        if (mutate) {
          const n = 1 + g.int(2);
          for (let i = 0; i < n; i++) parts.splice(g.int(parts.length + 1), g.chance(0.3) ? 1 : 0, g.segment('y'));
        }
        return parts.join('/');
      }
      return s;
    });
    const prefix = route.api ? g.pick(['/api/2.0', '/api/3.0', '/ajax-api/2.0']) : '';
    return `${prefix}/${segs.join('/')}`;
  }

  function fieldsFor(g: Gen): Record<string, unknown> {
    const valid = validFields(ids);
    const names = Object.keys(valid);
    const out: Record<string, unknown> = {};
    // Mostly-valid requests reach deeper; a few fields get a wrong value or go missing.
    for (const n of names) if (g.chance(0.6)) out[n] = valid[n];
    const mutations = 1 + g.int(4);
    for (let i = 0; i < mutations; i++) {
      const n = g.pick(names);
      const kind = g.int(10);
      if (kind === 0) delete out[n];
      else if (kind === 1 && n === 'page_token') out[n] = g.pageToken();
      else if (kind === 2 && n === 'filter') out[n] = g.filter();
      else if (kind === 3) out[n] = [g.value()];
      else if (kind <= 6 && typeof valid[n] === 'object' && valid[n] !== null) out[n] = g.mutateDeep(valid[n]);
      else out[n] = g.value();
    }
    if (g.chance(0.2)) out.page_token = g.pageToken();
    if (g.chance(0.2)) out.filter = g.filter();
    return out;
  }

  function queryOf(g: Gen, fields: Record<string, unknown>): string {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(fields)) {
      const list = Array.isArray(v) ? v : [v];
      for (const item of list) q.append(k, typeof item === 'string' ? item : item === undefined ? '' : JSON.stringify(item));
    }
    const text = q.toString();
    return text === '' ? '' : `?${g.chance(0.05) ? text.replace(/%/g, '%Z') : text}`;
  }

  const validSpan = { trace_id: 'q83vq83vq83vq83vq83vqw==', span_id: 'AAAAAAAAAAI=', parent_span_id: 'AAAAAAAAAAE=', name: 'child', start_time_unix_nano: 3, end_time_unix_nano: 4, attributes: { 'mlflow.spanType': '"LLM"', 'mlflow.spanInputs': '{"q": 1}' }, status: { code: 'OK', message: '' }, events: [{ name: 'e', time_unix_nano: 3, attributes: { k: 'v' } }] };
  const validOtlp = {
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 's' } }] },
      scopeSpans: [{ spans: [{ traceId: '0123456789abcdef0123456789abcdef', spanId: '0123456789abcdef', name: 'root', startTimeUnixNano: '1000', endTimeUnixNano: '2000', status: { code: 1 }, attributes: [{ key: 'k', value: { intValue: '1' } }, { key: 'session.id', value: { stringValue: 's1' } }], events: [{ name: 'e', timeUnixNano: '1500', attributes: [] }] }] }],
    }],
  };

  function build(g: Gen, route: RouteInfo): FuzzRequest {
    const mutatePath = g.chance(0.4);
    let method: string = route.method;
    if (g.chance(0.05)) method = g.pick(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD']);
    const path = pathFor(g, route, mutatePath);
    const fields = fieldsFor(g);
    if (route.rawBody) {
      const body = g.pick([
        () => g.bytes(g.int(2048)),
        () => Buffer.from(JSON.stringify({ spans: [g.value()] })),
        () => Buffer.from(JSON.stringify(g.mutateDeep({ spans: [validSpan] }))),
        () => Buffer.from(JSON.stringify(g.mutateDeep(validOtlp))),
        () => Buffer.from(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: g.value(), spanId: g.value(), name: g.value(), startTimeUnixNano: g.value(), attributes: [{ key: 'k', value: g.value() }] }] }] }] })),
        () => Buffer.from(JSON.stringify({ resourceSpans: g.deep(3000, g.chance(0.5)) })),
        () => Buffer.from(JSON.stringify(g.value())),
        () => Buffer.alloc(0),
      ])();
      const headers: Record<string, string> = {
        'Content-Type': g.pick(['application/json', 'application/x-protobuf', 'application/octet-stream', 'text/plain', '']),
      };
      // Header values must be latin-1 without control characters, or the client refuses to send them.
      if (g.chance(0.7)) headers['x-mlflow-experiment-id'] = g.chance(0.7) ? ids.experimentId : String(g.value()).replace(/[^\x20-\x7e]/g, '?').slice(0, 4000);
      if (g.chance(0.1)) headers['Content-Encoding'] = 'gzip';
      return { method, path: path + queryOf(g, g.chance(0.5) ? {} : fields), headers, body };
    }
    if (method === 'GET' || method === 'HEAD' || g.chance(0.1)) {
      return { method, path: path + queryOf(g, fields), headers: {} };
    }
    const shape = g.int(20);
    let body: Buffer;
    if (shape === 0) body = g.bytes(g.int(512));
    else if (shape === 1) body = Buffer.from(JSON.stringify(g.value()));
    else if (shape === 2) body = Buffer.from(JSON.stringify(JSON.stringify(fields)));
    else if (shape === 3) body = Buffer.from(JSON.stringify({ ...fields, nested: g.deep(3000, g.chance(0.5)) }));
    // Keys JSON.parse makes own properties but an object literal would not.
    else if (shape === 4) body = Buffer.from(`{"__proto__": {"run_id": 1, "experiment_id": []}, "constructor": {"prototype": null}, ${JSON.stringify(fields).slice(1)}`);
    else body = Buffer.from(JSON.stringify(fields));
    return { method, path, headers: { 'Content-Type': g.chance(0.95) ? 'application/json' : 'text/plain' }, body };
  }

  it(`sends ${COUNT} mutated requests (seed ${SEED}) and never gets a 5xx or no answer`, async () => {
    const g = new Gen(prng(SEED));
    const failures: string[] = [];
    const started = Date.now();
    for (let i = 0; i < COUNT; i++) {
      const route = routes[i % routes.length]!;
      const req = build(g, route);
      try {
        const res = await send(base, req);
        if (res.status >= 500) failures.push(`#${i} ${res.status} ${describeRequest(req)}\n    -> ${shorten(res.text, 400)}`);
      } catch (err) {
        failures.push(`#${i} ${(err as Error).message} ${describeRequest(req)}`);
      }
    }
    const seconds = (Date.now() - started) / 1000;
    if (failures.length) console.log(`seed ${SEED}: ${failures.length} failures\n${failures.slice(0, 40).join('\n')}`);
    // 60 s for the default 3,000 requests; a longer run (RUNLENS_FUZZ_COUNT) gets proportionally more.
    assert.ok(seconds < 60 * Math.max(1, COUNT / 3000), `fuzzing took ${seconds.toFixed(1)} s`);
    assert.equal(failures.length, 0, `seed ${SEED}: ${failures.length} requests answered 5xx or not at all (listed above)`);
  });

  it('still answers /health and a normal log-metric after the fuzz', async () => {
    const health = await send(base, { method: 'GET', path: '/health', headers: {} });
    assert.equal(health.status, 200);
    // The fuzz may have deleted or renamed the seeded experiment: a new one, as a client would make.
    const exp = await json(base, 'POST', '/api/2.0/mlflow/experiments/create', { name: `after-fuzz-${Date.now()}` });
    const run = (await json(base, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: exp.experiment_id })).run as { info: { run_id: string } };
    await json(base, 'POST', '/api/2.0/mlflow/runs/log-metric', { run_id: run.info.run_id, key: 'after', value: 2, timestamp: 5, step: 1 });
    const got = (await json(base, 'GET', `/api/2.0/mlflow/runs/get?run_id=${run.info.run_id}`)).run as { data: { metrics: { key: string; value: number }[] } };
    assert.deepEqual(got.data.metrics.map((m) => [m.key, m.value]), [['after', 2]]);
    // Whatever the fuzz uploaded, reads of the seeded trace and its experiment still answer.
    const search = await send(base, {
      method: 'POST',
      path: '/api/3.0/mlflow/traces/search',
      headers: { 'Content-Type': 'application/json' },
      body: Buffer.from(JSON.stringify({ locations: [{ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: ids.experimentId } }] })),
    });
    assert.ok(search.status < 500, search.text);
    for (const route of [`/api/3.0/mlflow/traces/get?trace_id=${ids.traceId}`, `/api/3.0/mlflow/traces/batchGet?trace_ids=${ids.traceId}`, `/runlens/api/trace?trace_id=${ids.traceId}`]) {
      const res = await send(base, { method: 'GET', path: route, headers: {} });
      assert.ok(res.status < 500, `${route}: ${res.text}`);
    }
  });
});
