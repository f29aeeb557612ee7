// Cross-site request refusal (src/server/crossSite.ts): what a web page can and can't make the
// local server do. Each refusal is checked for its status and body and for leaving the store as it was.
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import { normalizeOrigin, OriginPolicy } from '../../src/server/crossSite';
import { startServer, type RunningServer } from '../../src/server/httpServer';
import { call, MemoryLogger, startTestServer, type TestServer } from './helpers';

const A = '/api/2.0/mlflow';

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
  text: string;
}

/** A request with exactly these headers (fetch would add or forbid some, e.g. Origin). */
function raw(server: RunningServer, method: string, route: string, headers: Record<string, string>, body?: string | Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.port, method, path: route, headers: { ...headers, ...(body !== undefined ? { 'Content-Length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: Record<string, unknown> = {};
        try {
          parsed = JSON.parse(text) as Record<string, unknown>;
        } catch {
          // not JSON
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed, text });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('cross-site requests', () => {
  let t: TestServer;
  let server: RunningServer;
  let own: string;
  let experimentId: string;

  async function newRun(): Promise<string> {
    const created = await call(server.url, 'POST', `${A}/runs/create`, { experiment_id: experimentId });
    assert.equal(created.status, 200);
    return (created.body.run as { info: { run_id: string } }).info.run_id;
  }

  async function lifecycle(runId: string): Promise<string> {
    return (await t.store.getRun(runId)).info.lifecycle_stage;
  }

  async function assertUnchanged(runId: string): Promise<void> {
    assert.equal(await lifecycle(runId), 'active', 'the run is still active');
    const exp = await call(server.url, 'GET', `${A}/experiments/get?experiment_id=${experimentId}`);
    assert.equal((exp.body.experiment as { lifecycle_stage: string }).lifecycle_stage, 'active', 'the experiment is still active');
  }

  function assertRefused(res: RawResponse, status: number, code: string): void {
    assert.equal(res.status, status, res.text);
    assert.equal(res.headers['content-type'], 'application/json');
    assert.equal(res.body.error_code, code);
    assert.equal(typeof res.body.message, 'string');
    assert.deepEqual(Object.keys(res.body).sort(), ['error_code', 'message']);
  }

  before(async () => {
    t = await startTestServer();
    server = t.server;
    own = `http://127.0.0.1:${server.port}`;
    const exp = await call(server.url, 'POST', `${A}/experiments/create`, { name: 'xsite' });
    experimentId = String(exp.body.experiment_id);
  });
  after(async () => {
    await t.close();
  });

  describe('content type', () => {
    it('refuses an empty-body POST with its fields in the query string (400) and changes nothing', async () => {
      const runId = await newRun();
      const bare = await raw(server, 'POST', `${A}/runs/delete?run_id=${runId}`, {});
      assertRefused(bare, 400, 'INVALID_PARAMETER_VALUE');
      assert.match(String(bare.body.message), /Content-Type header is missing/);
      const textPlain = await raw(server, 'POST', `${A}/runs/delete?run_id=${runId}`, { 'Content-Type': 'text/plain' }, '');
      assertRefused(textPlain, 400, 'INVALID_PARAMETER_VALUE');
      const expDelete = await raw(server, 'POST', `${A}/experiments/delete?experiment_id=${experimentId}`, {});
      assertRefused(expDelete, 400, 'INVALID_PARAMETER_VALUE');
      await assertUnchanged(runId);
    });

    it('takes POST fields from the JSON body only, never the query string', async () => {
      const runId = await newRun();
      const res = await raw(server, 'POST', `${A}/runs/delete?run_id=${runId}`, { 'Content-Type': 'application/json' }, '{}');
      assertRefused(res, 400, 'INVALID_PARAMETER_VALUE');
      assert.match(String(res.body.message), /Missing value for required parameter 'run_id'/);
      await assertUnchanged(runId);
    });

    it('refuses a text/plain body (what <form enctype=text/plain> and no-cors fetch send) with 400', async () => {
      const runId = await newRun();
      for (const type of ['text/plain', 'text/plain;charset=UTF-8']) {
        const res = await raw(server, 'POST', `${A}/runs/delete`, { 'Content-Type': type }, JSON.stringify({ run_id: runId }));
        assertRefused(res, 400, 'INVALID_PARAMETER_VALUE');
        assert.match(String(res.body.message), /Content-Type must be 'application\/json'/);
      }
      await assertUnchanged(runId);
    });

    it('refuses form-urlencoded and multipart bodies with 400', async () => {
      const runId = await newRun();
      const form = await raw(server, 'POST', `${A}/runs/delete`, { 'Content-Type': 'application/x-www-form-urlencoded' }, `run_id=${runId}`);
      assertRefused(form, 400, 'INVALID_PARAMETER_VALUE');
      const boundary = 'xx';
      const multipart = `--${boundary}\r\nContent-Disposition: form-data; name="run_id"\r\n\r\n${runId}\r\n--${boundary}--\r\n`;
      const mp = await raw(server, 'POST', `${A}/runs/delete`, { 'Content-Type': `multipart/form-data; boundary=${boundary}` }, multipart);
      assertRefused(mp, 400, 'INVALID_PARAMETER_VALUE');
      await assertUnchanged(runId);
    });

    it('refuses PATCH without JSON, and a DELETE body that is not JSON', async () => {
      const patch = await raw(server, 'PATCH', `${A}/registered-models/update`, { 'Content-Type': 'text/plain' }, '{"name":"m"}');
      assertRefused(patch, 400, 'INVALID_PARAMETER_VALUE');
      const del = await raw(server, 'DELETE', `${A}/registered-models/delete`, { 'Content-Type': 'text/plain' }, '{"name":"m"}');
      assertRefused(del, 400, 'INVALID_PARAMETER_VALUE');
      const untyped = await raw(server, 'DELETE', `${A}/registered-models/delete`, {}, '{"name":"m"}');
      assertRefused(untyped, 400, 'INVALID_PARAMETER_VALUE');
    });

    it('keeps DELETE as the mlflow client sends it: a JSON body, or no body and no Content-Type', async () => {
      assert.equal((await call(server.url, 'POST', `${A}/registered-models/create`, { name: 'gone' })).status, 200);
      const del = await raw(server, 'DELETE', `${A}/registered-models/delete`, { 'Content-Type': 'application/json' }, '{"name":"gone"}');
      assert.equal(del.status, 200, del.text);
      // http_artifact_repo.delete_artifacts: DELETE with no body and no Content-Type.
      const put = await raw(server, 'PUT', '/api/2.0/mlflow-artifacts/artifacts/xsite/notes.txt', { 'Content-Type': 'text/plain' }, 'hello');
      assert.equal(put.status, 200, put.text);
      const listed = await call(server.url, 'GET', '/api/2.0/mlflow-artifacts/artifacts?path=xsite');
      assert.equal((listed.body.files as unknown[]).length, 1);
      const gone = await raw(server, 'DELETE', '/api/2.0/mlflow-artifacts/artifacts/xsite/notes.txt', {});
      assert.equal(gone.status, 200, gone.text);
      assert.deepEqual((await call(server.url, 'GET', '/api/2.0/mlflow-artifacts/artifacts?path=xsite')).body, {});
    });

    it('accepts artifact uploads whatever their type (a cross-site PUT needs a preflight, never granted)', async () => {
      // _guess_mime_type: text/plain for .txt/.json/.yaml/MLmodel, else mimetypes or octet-stream.
      for (const [name, type] of [
        ['a.txt', 'text/plain'],
        ['MLmodel', 'text/plain'],
        ['b.png', 'image/png'],
        ['c.bin', 'application/octet-stream'],
      ] as const) {
        const res = await raw(server, 'PUT', `/api/2.0/mlflow-artifacts/artifacts/up/${name}`, { 'Content-Type': type }, 'data');
        assert.equal(res.status, 200, `${name}: ${res.text}`);
      }
      const untyped = await raw(server, 'PUT', '/api/2.0/mlflow-artifacts/artifacts/up/d', {}, 'data');
      assert.equal(untyped.status, 200, untyped.text);
      // Python's urllib and curl --data-binary label uploads form-urlencoded by default.
      const urllib = await raw(server, 'PUT', '/api/2.0/mlflow-artifacts/artifacts/up/e', { 'Content-Type': 'application/x-www-form-urlencoded' }, 'data');
      assert.equal(urllib.status, 200, urllib.text);
      const files = ((await call(server.url, 'GET', '/api/2.0/mlflow-artifacts/artifacts?path=up')).body.files as { path: string }[]).map((f) => f.path);
      assert.deepEqual(files.sort(), ['MLmodel', 'a.txt', 'b.png', 'c.bin', 'd', 'e']);
      // From a foreign page the same PUT is refused for its Origin (and could not pass the preflight).
      const foreign = await raw(server, 'PUT', '/api/2.0/mlflow-artifacts/artifacts/up/f', { 'Content-Type': 'text/plain', Origin: 'https://evil.example' }, 'data');
      assertRefused(foreign, 403, 'PERMISSION_DENIED');
    });

    it('refuses OTLP spans sent as a form type', async () => {
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
        const res = await raw(server, 'POST', '/v1/traces', { 'Content-Type': type, 'x-mlflow-experiment-id': experimentId }, '{"resourceSpans":[]}');
        assertRefused(res, 400, 'INVALID_PARAMETER_VALUE');
      }
    });
  });

  describe('origin', () => {
    it('refuses a foreign Origin with 403 in MLflow error format and changes nothing', async () => {
      const runId = await newRun();
      const body = JSON.stringify({ run_id: runId });
      for (const origin of ['https://evil.example', `http://127.0.0.1:${server.port + 1}`, `http://localhost:${server.port + 1}`, `http://127.0.0.1.evil.example:${server.port}`]) {
        const res = await raw(server, 'POST', `${A}/runs/delete`, { 'Content-Type': 'application/json', Origin: origin }, body);
        assertRefused(res, 403, 'PERMISSION_DENIED');
        assert.match(String(res.body.message), /Cross-origin request blocked/);
      }
      const expDelete = await raw(server, 'POST', `${A}/experiments/delete`, { 'Content-Type': 'application/json', Origin: 'https://evil.example' }, JSON.stringify({ experiment_id: experimentId }));
      assertRefused(expDelete, 403, 'PERMISSION_DENIED');
      await assertUnchanged(runId);
    });

    it("refuses Origin: null (file:// and sandboxed pages) with 403", async () => {
      const runId = await newRun();
      const res = await raw(server, 'POST', `${A}/runs/delete`, { 'Content-Type': 'application/json', Origin: 'null' }, JSON.stringify({ run_id: runId }));
      assertRefused(res, 403, 'PERMISSION_DENIED');
      await assertUnchanged(runId);
    });

    it('refuses foreign-origin GETs too: reads, the change feed and downloads', async () => {
      for (const route of [`${A}/experiments/get?experiment_id=${experimentId}`, '/runlens/api/changes', '/api/2.0/mlflow-artifacts/artifacts/up/a.txt', '/health']) {
        const res = await raw(server, 'GET', route, { Origin: 'https://evil.example' });
        assertRefused(res, 403, 'PERMISSION_DENIED');
      }
    });

    it("accepts the server's own origin (what the browser views send) and does the deed", async () => {
      const runId = await newRun();
      // https://<Host> too: the page came through a TLS proxy at this same address.
      for (const origin of [own, `http://localhost:${server.port}`, `https://127.0.0.1:${server.port}`]) {
        const host = new URL(origin).host;
        const got = await raw(server, 'GET', `${A}/runs/get?run_id=${runId}`, { Origin: origin, Host: host, 'Sec-Fetch-Site': 'same-origin', 'Sec-Fetch-Mode': 'cors' });
        assert.equal(got.status, 200, got.text);
        assert.equal(got.headers['access-control-allow-origin'], undefined, 'same-origin needs no CORS headers');
      }
      const res = await raw(server, 'POST', `${A}/runs/delete`, { 'Content-Type': 'application/json', Origin: own, 'Sec-Fetch-Site': 'same-origin', 'Sec-Fetch-Mode': 'cors' }, JSON.stringify({ run_id: runId }));
      assert.equal(res.status, 200, res.text);
      assert.equal(await lifecycle(runId), 'deleted');
    });

    it('accepts requests without Origin (the mlflow client, Node fetch) and does the deed', async () => {
      const runId = await newRun();
      const res = await call(server.url, 'POST', `${A}/runs/delete`, { run_id: runId });
      assert.equal(res.status, 200, res.text);
      assert.equal(await lifecycle(runId), 'deleted', 'positive control: the same JSON delete the attacks try does work without a foreign origin');
    });

    it('refuses a state change marked Sec-Fetch-Site cross-site or same-site when Origin is absent', async () => {
      const runId = await newRun();
      for (const site of ['cross-site', 'same-site']) {
        const res = await raw(server, 'POST', `${A}/runs/delete`, { 'Content-Type': 'application/json', 'Sec-Fetch-Site': site, 'Sec-Fetch-Mode': 'cors' }, JSON.stringify({ run_id: runId }));
        assertRefused(res, 403, 'PERMISSION_DENIED');
      }
      await assertUnchanged(runId);
      // Same-origin and user-initiated (Sec-Fetch-Site: none) requests pass.
      for (const site of ['same-origin', 'none']) {
        const res = await raw(server, 'GET', `${A}/runs/get?run_id=${runId}`, { 'Sec-Fetch-Site': site, 'Sec-Fetch-Mode': 'cors' });
        assert.equal(res.status, 200, res.text);
      }
    });

    it('refuses cross-site subresource GETs (img, script, no-cors fetch) but lets links from elsewhere open pages', async () => {
      const sub = await raw(server, 'GET', '/api/2.0/mlflow-artifacts/artifacts/up/a.txt', { 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'no-cors', 'Sec-Fetch-Dest': 'script' });
      assertRefused(sub, 403, 'PERMISSION_DENIED');
      const nav = await raw(server, 'GET', `/runlens/ui/runs?experiments=${experimentId}`, { 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'navigate', 'Sec-Fetch-Dest': 'document' });
      assert.equal(nav.status, 200);
    });

    it('answers no CORS preflight for a foreign origin, so a page there can never send JSON, PUT or DELETE', async () => {
      const res = await raw(server, 'OPTIONS', `${A}/runs/delete`, { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' });
      assert.equal(res.status, 403);
      assert.equal(res.headers['access-control-allow-origin'], undefined);
    });

    describe('with allowedOrigins', () => {
      let allowing: RunningServer;
      before(async () => {
        allowing = await startServer({ store: t.store, log: new MemoryLogger(), port: 0, allowedOrigins: ['http://localhost:3000', 'vscode-webview://abc123/'] });
      });
      after(async () => {
        await allowing.close();
      });

      it('accepts an allowed origin, with CORS headers and an answered preflight', async () => {
        const runId = await newRun();
        const pre = await raw(allowing, 'OPTIONS', `${A}/runs/delete`, { Origin: 'http://localhost:3000', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' });
        assert.equal(pre.status, 204);
        assert.equal(pre.headers['access-control-allow-origin'], 'http://localhost:3000');
        assert.match(String(pre.headers['access-control-allow-methods']), /POST/);
        assert.equal(pre.headers['access-control-allow-headers'], 'content-type');
        const res = await raw(allowing, 'POST', `${A}/runs/delete`, { 'Content-Type': 'application/json', Origin: 'http://localhost:3000', 'Sec-Fetch-Site': 'same-site' }, JSON.stringify({ run_id: runId }));
        assert.equal(res.status, 200, res.text);
        assert.equal(res.headers['access-control-allow-origin'], 'http://localhost:3000');
        assert.equal(await lifecycle(runId), 'deleted');
        const webview = await raw(allowing, 'GET', `${A}/runs/get?run_id=${runId}`, { Origin: 'vscode-webview://abc123', 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'cors' });
        assert.equal(webview.status, 200, webview.text);
      });

      it('still refuses other origins and still requires JSON from allowed ones', async () => {
        const runId = await newRun();
        const other = await raw(allowing, 'POST', `${A}/runs/delete`, { 'Content-Type': 'application/json', Origin: 'http://localhost:3001' }, JSON.stringify({ run_id: runId }));
        assertRefused(other, 403, 'PERMISSION_DENIED');
        const plain = await raw(allowing, 'POST', `${A}/runs/delete`, { 'Content-Type': 'text/plain', Origin: 'http://localhost:3000' }, JSON.stringify({ run_id: runId }));
        assertRefused(plain, 400, 'INVALID_PARAMETER_VALUE');
        await assertUnchanged(runId);
      });
    });

    it('normalizes origins and refuses to allow null or non-origins', () => {
      assert.equal(normalizeOrigin('HTTP://LocalHost:80/'), 'http://localhost');
      assert.equal(normalizeOrigin('https://example.com:443'), 'https://example.com');
      assert.equal(normalizeOrigin('vscode-webview://ABC'), 'vscode-webview://abc');
      for (const bad of ['null', '*', 'localhost:3000', 'http://x/path', 'http://user@x', '']) assert.equal(normalizeOrigin(bad), undefined, bad);
      assert.throws(() => new OriginPolicy(['null']), /Invalid allowed origin 'null'/);
    });
  });

  describe('framing', () => {
    it('sends X-Frame-Options: DENY and frame-ancestors on the UI pages', async () => {
      for (const page of ['runs', 'charts', 'run', 'compare', 'traces', 'trace']) {
        const res = await raw(server, 'GET', `/runlens/ui/${page}`, {});
        assert.equal(res.status, 200, page);
        assert.equal(res.headers['x-frame-options'], 'DENY', page);
        assert.match(String(res.headers['content-security-policy']), /(^|; )frame-ancestors 'none'(;|$)/, page);
      }
      const front = await raw(server, 'GET', '/', {});
      assert.equal(front.status, 302);
      assert.equal(front.headers['x-frame-options'], 'DENY');
      const api = await raw(server, 'GET', `${A}/experiments/get?experiment_id=${experimentId}`, {});
      assert.equal(api.headers['x-frame-options'], 'DENY');
    });
  });
});
