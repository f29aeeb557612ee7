/**
 * Hostile payloads and paths from the adversarial review, end to end over HTTP:
 * deep JSON and `.%2F` trace uploads, damaged payloads on disk, over-long path segments,
 * the state dir reached by letter case or symlink, and keep-alive after a failed upload.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { call, startTestServer, tempRoot, type JsonResponse, type TestServer } from '../unit/helpers';

const A3 = '/api/3.0/mlflow';
const ART = '/api/2.0/mlflow-artifacts/artifacts';

function deep(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = i % 2 ? { a: v } : [v];
  return v;
}

function span(spanId: string, name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { trace_id: 'q83vq83vq83vq83vq83vqw==', span_id: spanId, parent_span_id: null, name, start_time_unix_nano: 1_000, end_time_unix_nano: 2_000, attributes: {}, status: { code: 'OK' }, events: [], ...extra };
}

async function put(base: string, route: string, body: string): Promise<JsonResponse> {
  const res = await fetch(`${base}${route}`, { method: 'PUT', body });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON
  }
  return { status: res.status, body: parsed, text, headers: res.headers };
}

/** Every error body is MLflow's shape and never names where the store lives. */
function assertCleanError(res: JsonResponse, status: number, root: string): void {
  assert.equal(res.status, status, res.text);
  assert.equal(typeof res.body.error_code, 'string', res.text);
  assert.equal(typeof res.body.message, 'string', res.text);
  assert.ok(!res.text.includes(root) && !res.text.includes(fs.realpathSync(root)), `the message names the store root: ${res.text}`);
}

describe('hostile trace payloads', () => {
  let t: TestServer;
  let base: string;
  let exp: string;
  let n = 0;

  before(async () => {
    t = await startTestServer();
    base = t.server.url;
    exp = String((await call(base, 'POST', '/api/2.0/mlflow/experiments/create', { name: 'payloads' })).body.experiment_id);
  });
  after(async () => {
    await t.close();
  });

  /** A new trace; returns its id and the artifact path of its folder. */
  async function newTrace(): Promise<{ id: string; dir: string }> {
    const id = `tr-${(++n).toString(16).padStart(32, '0')}`;
    const res = await call(base, 'POST', `${A3}/traces`, {
      trace: { trace_info: { trace_id: id, trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: exp } }, request_time: '2026-01-01T00:00:00Z', state: 'OK' } },
    });
    assert.equal(res.status, 200, res.text);
    const location = ((res.body.trace as { trace_info: { tags: Record<string, string> } }).trace_info.tags)['mlflow.artifactLocation']!;
    return { id, dir: location.replace(/^mlflow-artifacts:\//, '') };
  }

  async function search(): Promise<JsonResponse> {
    return call(base, 'POST', `${A3}/traces/search`, { locations: [{ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: exp } }] });
  }

  it('refuses a traces.json nested 3,000 deep with 400 and stores nothing', async () => {
    const { id, dir } = await newTrace();
    const res = await put(base, `${ART}/${dir}/traces.json`, JSON.stringify({ spans: [span('AAAAAAAAAAE=', 'root', { events: [{ name: 'e', attributes: { v: deep(3000) } }] })] }));
    assertCleanError(res, 400, t.root);
    assert.equal(res.body.error_code, 'INVALID_PARAMETER_VALUE');
    assert.match(String(res.body.message), /nested deeper than 100/);
    assert.equal(fs.existsSync(path.join(t.root, dir, 'traces.json')), false, 'nothing stored');
    assert.equal((await call(base, 'GET', `${A3}/traces/get?trace_id=${id}`)).status, 200);
  });

  for (const spelling of ['.%2Ftraces.json', './traces.json', '.%2F.%2Ftraces.json', '%2E%2Ftraces.json', 'TRACES.JSON']) {
    it(`validates an upload spelled '…/artifacts/${spelling}' like traces.json itself`, async () => {
      const { id, dir } = await newTrace();
      const bad = await put(base, `${ART}/${dir}/${spelling}`, JSON.stringify({ spans: [span('AAAAAAAAAAE=', 'root', { attributes: { x: deep(3000) } })] }));
      assertCleanError(bad, 400, t.root);
      assert.equal(fs.existsSync(path.join(t.root, dir, 'traces.json')), false, 'nothing stored');
      // A good body under the same spelling is indexed, as a plain traces.json upload would be.
      const good = await put(base, `${ART}/${dir}/${spelling}`, JSON.stringify({ spans: [span('AAAAAAAAAAE=', 'root')] }));
      assert.equal(good.status, 200, good.text);
      const got = await call(base, 'GET', `${A3}/traces/get?trace_id=${id}`);
      assert.equal(got.status, 200, got.text);
      assert.deepEqual(((got.body.trace as { spans: { name: string }[] }).spans).map((s) => s.name), ['root']);
      assert.equal((await search()).status, 200);
    });
  }

  it("refuses '..' in a trace upload path however it is spelled", async () => {
    const { dir } = await newTrace();
    // (fetch itself resolves a literal or %2E%2E '..' segment, so only the encoded-slash spelling reaches the server.)
    for (const p of ['..%2Fartifacts%2Ftraces.json', '..%2F..%2F..%2Ftraces.json']) {
      assertCleanError(await put(base, `${ART}/${dir}/${p}`, JSON.stringify({ spans: [] })), 400, t.root);
    }
  });

  it("refuses a trace's traces.json as a multipart upload (it would skip the validation)", async () => {
    const { dir } = await newTrace();
    for (const target of [dir, `${dir}/.`]) {
      const res = await call(base, 'POST', `/api/2.0/mlflow-artifacts/mpu/create/${target}`, { path: '/tmp/traces.json', num_parts: 1 });
      assertCleanError(res, 400, t.root);
      assert.match(String(res.body.message), /single PUT/);
    }
    const complete = await call(base, 'POST', `/api/2.0/mlflow-artifacts/mpu/complete/${dir}`, { path: 'traces.json', upload_id: '00000000-0000-0000-0000-000000000000', parts: [{ part_number: 1 }] });
    assertCleanError(complete, 400, t.root);
  });

  it('refuses an OTLP JSON export nested 3,000 deep with 400', async () => {
    const body = JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), name: 'x', startTimeUnixNano: '1', attributes: [{ key: 'k', value: deep(3000) }] }] }] }] });
    const res = await call(base, 'POST', '/v1/traces', body, { 'Content-Type': 'application/json', 'x-mlflow-experiment-id': exp });
    assertCleanError(res, 400, t.root);
    assert.match(String(res.body.message), /nested deeper than 100/);
  });

  it('refuses an OTLP span whose time no Date can hold, so searches keep answering', async () => {
    const body = JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: 'ef'.repeat(16), spanId: 'cd'.repeat(8), name: 'x', startTimeUnixNano: 1e300 }] }] }] });
    const res = await call(base, 'POST', '/v1/traces', body, { 'Content-Type': 'application/json', 'x-mlflow-experiment-id': exp });
    assertCleanError(res, 400, t.root);
    assert.equal((await search()).status, 200);
  });

  it('refuses a JSON request body nested 3,000 deep with 400', async () => {
    const res = await call(base, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: exp, tags: [{ key: 'k', value: 'v', extra: deep(3000) }] });
    assertCleanError(res, 400, t.root);
  });

  it('keeps other traces readable when one payload on disk is damaged, and shows that one without spans', async () => {
    const good = await newTrace();
    assert.equal((await put(base, `${ART}/${good.dir}/traces.json`, JSON.stringify({ spans: [span('AAAAAAAAAAE=', 'fine')] }))).status, 200);
    const damaged = await newTrace();
    assert.equal((await put(base, `${ART}/${damaged.dir}/traces.json`, JSON.stringify({ spans: [span('AAAAAAAAAAE=', 'soon broken')] }))).status, 200);
    const deepOne = await newTrace();
    const wrongShape = await newTrace();
    // Written behind the server's back: torn, nested too deep, and spans of the wrong shape.
    fs.writeFileSync(path.join(t.root, damaged.dir, 'traces.json'), '{"spans": [{"span_id": ');
    fs.mkdirSync(path.join(t.root, deepOne.dir), { recursive: true });
    fs.writeFileSync(path.join(t.root, deepOne.dir, 'traces.json'), JSON.stringify({ spans: [span('AAAAAAAAAAE=', 'deep', { attributes: deep(3000) })] }));
    fs.mkdirSync(path.join(t.root, wrongShape.dir), { recursive: true });
    fs.writeFileSync(path.join(t.root, wrongShape.dir, 'traces.json'), JSON.stringify({ spans: [span('AAAAAAAAAAE=', 'ok'), { span_id: 'AAAAAAAAAAI=', name: 'no start', attributes: null }] }));
    fs.writeFileSync(path.join(t.root, wrongShape.dir, 'spans.jsonl'), `${JSON.stringify(deep(3000))}\n{"not": "a span"}\n`);

    assert.equal((await search()).status, 200);
    const ids = [good.id, damaged.id, deepOne.id, wrongShape.id];
    const batch = await call(base, 'GET', `${A3}/traces/batchGet?${ids.map((i) => `trace_ids=${i}`).join('&')}`);
    assert.equal(batch.status, 200, batch.text);
    const names = (batch.body.traces as { trace_info: { trace_id: string }; spans: { name: string }[] }[]).map((tr) => [tr.trace_info.trace_id, tr.spans.map((s) => s.name)]);
    assert.deepEqual(names, [[good.id, ['fine']], [damaged.id, []], [deepOne.id, []], [wrongShape.id, ['ok']]]);
    for (const id of ids) assert.equal((await call(base, 'GET', `${A3}/traces/get?trace_id=${id}`)).status, 200);
    const view = await call(base, 'GET', `/runlens/api/trace?trace_id=${damaged.id}`);
    assert.equal(view.status, 200);
    assert.match(String(view.body.spans_error), /traces\.json is damaged/);
    assert.ok(!view.text.includes(t.root), 'the note names no server path');
    const shape = await call(base, 'GET', `/runlens/api/trace?trace_id=${wrongShape.id}`);
    assert.match(String(shape.body.spans_error), /start_time_unix_nano/);
    assert.match(String(shape.body.spans_error), /2 span\(s\) in spans\.jsonl/);
  });
});

describe('hostile artifact paths', () => {
  let t: TestServer;
  let base: string;
  let outside: string;

  before(async () => {
    t = await startTestServer();
    base = t.server.url;
    outside = tempRoot('runlens-outside-');
    fs.writeFileSync(path.join(outside, 'secret.txt'), 'outside');
    fs.mkdirSync(path.join(t.root, '0', 'plain'), { recursive: true });
    fs.writeFileSync(path.join(t.root, '0', 'plain', 'a.txt'), 'a');
    // Planted in the store: links to the state dir and out of the store.
    fs.symlinkSync(path.join(t.root, '.runlens'), path.join(t.root, '0', 'state'));
    fs.symlinkSync(path.join(t.root, '.runlens'), path.join(t.root, 'state'));
    fs.symlinkSync(outside, path.join(t.root, '0', 'out'));
  });
  after(async () => {
    await t.close();
  });

  it('answers a 300-character segment with 400 INVALID_PARAMETER_VALUE and no server path, on every verb', async () => {
    const long = 'x'.repeat(300);
    const routes: [string, string][] = [
      ['GET', `${ART}/0/${long}/a.txt`],
      ['PUT', `${ART}/0/${long}`],
      ['DELETE', `${ART}/0/${long}`],
      ['GET', `${ART}?path=0/${long}`],
    ];
    for (const [method, route] of routes) {
      const res = method === 'PUT' ? await put(base, route, 'x') : await call(base, method, route);
      assertCleanError(res, 400, t.root);
      assert.equal(res.body.error_code, 'INVALID_PARAMETER_VALUE', `${method} ${route}`);
    }
    // A path through a file, and a path too long as a whole, are the client's fault too.
    const throughFile = await put(base, `${ART}/0/plain/a.txt/b.txt`, 'x');
    assertCleanError(throughFile, 400, t.root);
    assertCleanError(await call(base, 'GET', `${ART}/0/plain/a.txt/b.txt`), 404, t.root);
    assertCleanError(await call(base, 'GET', `${ART}/0/${Array.from({ length: 40 }, () => 'y'.repeat(200)).join('/')}`), 400, t.root);
  });

  it('refuses .RUNLENS and other spellings of the state dir', async () => {
    for (const p of ['.RUNLENS/store.sqlite', '.Runlens/journal', '.runlens./x', '.runlens%2Fx', './.runlens/x', encodeURIComponent('.runlen\u017f') + '/x']) {
      assertCleanError(await call(base, 'GET', `${ART}/${p}`), 400, t.root);
      assertCleanError(await put(base, `${ART}/${p}`, 'x'), 400, t.root);
      assertCleanError(await call(base, 'DELETE', `${ART}/${p}`), 400, t.root);
    }
    assertCleanError(await call(base, 'GET', `${ART}?path=.RUNLENS`), 400, t.root);
    assert.ok(fs.existsSync(path.join(t.root, '.runlens')), 'the state dir is still there');
  });

  it('refuses a symlink planted in the store that points at .runlens, for read, write, list and delete', async () => {
    const entries = fs.readdirSync(path.join(t.root, '.runlens'));
    assert.ok(entries.length > 0);
    for (const link of ['0/state', 'state']) {
      assertCleanError(await call(base, 'GET', `${ART}/${link}/${entries[0]}`), 400, t.root);
      assertCleanError(await put(base, `${ART}/${link}/planted.txt`, 'x'), 400, t.root);
      assertCleanError(await call(base, 'GET', `${ART}?path=${link}`), 400, t.root);
      assertCleanError(await call(base, 'DELETE', `${ART}/${link}`), 400, t.root);
      assertCleanError(await call(base, 'DELETE', `${ART}/${link}/${entries[0]}`), 400, t.root);
    }
    assert.equal(fs.existsSync(path.join(t.root, '.runlens', 'planted.txt')), false);
    assert.deepEqual(fs.readdirSync(path.join(t.root, '.runlens')).sort(), [...entries].sort(), 'nothing in the state dir changed');
    // Listing the folder that holds the link does not show it.
    const listed = await call(base, 'GET', `${ART}?path=0`);
    assert.equal(listed.status, 200);
    assert.deepEqual(((listed.body.files as { path: string }[] | undefined) ?? []).map((f) => f.path), ['plain']);
  });

  it('refuses a symlink planted in the store that points outside it', async () => {
    const read = await call(base, 'GET', `${ART}/0/out/secret.txt`);
    assertCleanError(read, 400, t.root);
    assert.ok(!read.text.includes(outside));
    assertCleanError(await put(base, `${ART}/0/out/new.txt`, 'x'), 400, t.root);
    assertCleanError(await call(base, 'GET', `${ART}?path=0/out`), 400, t.root);
    assertCleanError(await call(base, 'DELETE', `${ART}/0/out/secret.txt`), 400, t.root);
    assert.equal(fs.readFileSync(path.join(outside, 'secret.txt'), 'utf8'), 'outside');
    assert.equal(fs.existsSync(path.join(outside, 'new.txt')), false);
  });
});

/** Raw HTTP/1.1 over one socket: what a keep-alive client sees after a failed upload. */
function rawExchange(port: number, first: string, partialBody: string, second: string): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    let closed = false;
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closed });
    }, 5_000);
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      text += d;
      // Both answers in (the second request is always GET /health, which answers 'OK'): done.
      if ((text.match(/HTTP\/1\.1 \d{3}/g) ?? []).length >= 2 && /\r\n\r\nOK$/.test(text)) {
        clearTimeout(timer);
        socket.destroy();
        resolve({ text, closed });
      }
    });
    socket.on('close', () => {
      closed = true;
      clearTimeout(timer);
      resolve({ text, closed });
    });
    socket.on('error', (err) => {
      if ((err as NodeJS.ErrnoException).code === 'ECONNRESET' || (err as NodeJS.ErrnoException).code === 'EPIPE') return;
      reject(err);
    });
    socket.write(first + partialBody);
    setTimeout(() => socket.write(second), 200);
  });
}

describe('keep-alive after a failed upload', () => {
  let t: TestServer;

  before(async () => {
    t = await startTestServer();
    fs.mkdirSync(path.join(t.root, '0', 'adir'), { recursive: true });
  });
  after(async () => {
    await t.close();
  });

  const second = 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
  const upload = (target: string): string => `PUT ${ART}/${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\nConnection: keep-alive\r\n\r\n`;

  it('answers, then closes or answers again, when the target is a directory (400)', async () => {
    const { text, closed } = await rawExchange(t.server.port, upload('0/adir'), 'x'.repeat(1000), second);
    assert.match(text, /^HTTP\/1\.1 400/);
    assert.ok(closed || /HTTP\/1\.1 200[\s\S]*OK$/.test(text), `the connection hung: ${text}`);
  });

  it('answers, then closes, when the upload goes to no endpoint (404) or the wrong method (405)', async () => {
    for (const [first, status] of [
      [`PUT /api/2.0/mlflow-artifacts/nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n`, 404],
      [`PATCH /api/2.0/mlflow/runs/create HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n`, 405],
    ] as const) {
      const { text, closed } = await rawExchange(t.server.port, first, 'x'.repeat(1000), second);
      assert.match(text, new RegExp(`^HTTP/1\\.1 ${status}`));
      assert.ok(closed, `the connection hung: ${text}`);
    }
    // Without a body, a 404 keeps the connection for the next request.
    const { text } = await rawExchange(t.server.port, 'GET /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', '', second);
    assert.match(text, /^HTTP\/1\.1 404[\s\S]*HTTP\/1\.1 200/);
  });

  it('answers, then closes or answers again, when the write fails with a server error (500)', async () => {
    const artifacts = t.store.artifacts;
    const original = artifacts.write.bind(artifacts);
    artifacts.write = async () => {
      throw new Error('injected write failure');
    };
    try {
      const { text, closed } = await rawExchange(t.server.port, upload('0/f.bin'), 'x'.repeat(1000), second);
      assert.match(text, /^HTTP\/1\.1 500/);
      assert.match(text, /injected write failure/);
      assert.ok(closed || /HTTP\/1\.1 200[\s\S]*OK$/.test(text), `the connection hung: ${text}`);
    } finally {
      artifacts.write = original;
    }
  });

  it('answers, then closes or answers again, when the write fails half-way through the body', async () => {
    const artifacts = t.store.artifacts;
    const original = artifacts.write.bind(artifacts);
    artifacts.write = async (_p, body) => {
      for await (const chunk of body) {
        if ((chunk as Buffer).length > 0) throw new Error('injected failure mid-body');
      }
      return 0;
    };
    try {
      const { text, closed } = await rawExchange(t.server.port, upload('0/g.bin'), 'x'.repeat(1000), second);
      assert.ok(closed || /HTTP\/1\.1 200[\s\S]*OK$/.test(text), `the connection hung: ${text}`);
    } finally {
      artifacts.write = original;
    }
  });
});
