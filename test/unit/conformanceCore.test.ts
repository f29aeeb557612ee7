import * as assert from 'node:assert/strict';
import { call, startTestServer, type TestServer } from './helpers';

const A = '/api/2.0/mlflow';

/** Each behaviour here was first checked against a real `mlflow server` (3.17.2). */
describe('MLflow conformance: HTTP semantics', () => {
  let t: TestServer;
  let base: string;
  before(async () => {
    t = await startTestServer();
    base = t.server.url;
  });
  after(async () => {
    await t.close();
  });

  describe('HEAD', () => {
    it('answers HEAD / with 200 text/html, as MLflow', async () => {
      const res = await call(base, 'HEAD', '/');
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
      assert.equal(res.text, '');
    });

    it('answers HEAD on every GET route with the GET status and headers, without a body', async () => {
      for (const route of ['/health', '/version', `${A}/experiments/get?experiment_id=0`, `/ajax-api/2.0/mlflow/experiments/get?experiment_id=0`]) {
        const get = await call(base, 'GET', route);
        const head = await call(base, 'HEAD', route);
        assert.equal(head.status, get.status, route);
        assert.equal(head.text, '', route);
        assert.equal(head.headers.get('content-type'), get.headers.get('content-type'), route);
        assert.equal(head.headers.get('content-length'), String(Buffer.byteLength(get.text)), route);
      }
      const missing = await call(base, 'HEAD', `${A}/experiments/get?experiment_id=12345`);
      assert.equal(missing.status, 404);
      assert.equal(missing.text, '');
    });

    it('answers HEAD on an artifact download without sending the file', async () => {
      const put = await fetch(`${base}/api/2.0/mlflow-artifacts/artifacts/0/r/artifacts/a.txt`, { method: 'PUT', body: 'hello' });
      assert.equal(put.status, 200);
      const head = await call(base, 'HEAD', '/api/2.0/mlflow-artifacts/artifacts/0/r/artifacts/a.txt');
      assert.equal(head.status, 200);
      assert.equal(head.text, '');
      assert.equal(head.headers.get('content-length'), '5');
    });

    it('keeps 405 for POST-only routes and 404 for unknown paths', async () => {
      assert.equal((await call(base, 'HEAD', `${A}/runs/create`)).status, 405);
      assert.equal((await call(base, 'HEAD', '/no/such/path')).status, 404);
    });
  });
});
