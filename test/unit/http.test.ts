import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import { StoreLock, StoreLockedError } from '../../src/store/storeLock';
import { serveStore } from '../../src/server/serve';
import { call, MemoryLogger, startTestServer, tempRoot, type TestServer } from './helpers';

const A = '/api/2.0/mlflow';

describe('HTTP API', () => {
  let t: TestServer;
  let base: string;
  before(async () => {
    t = await startTestServer();
    base = t.server.url;
  });
  after(async () => {
    await t.close();
  });

  it('answers /health, /version and server-info', async () => {
    const health = await call(base, 'GET', '/health');
    assert.equal(health.status, 200);
    assert.equal(health.text, 'OK');
    const version = await call(base, 'GET', '/version');
    assert.match(version.text, /^\d+\.\d+\.\d+$/);
    const info = await call(base, 'GET', '/api/3.0/mlflow/server-info');
    assert.equal(info.body.workspaces_enabled, false);
  });

  it('serves the same RPCs under /api and /ajax-api', async () => {
    for (const prefix of ['/api/2.0/mlflow', '/ajax-api/2.0/mlflow']) {
      const res = await call(base, 'GET', `${prefix}/experiments/get?experiment_id=0`);
      assert.equal(res.status, 200);
      assert.equal((res.body.experiment as { name: string }).name, 'Default');
    }
  });

  it('round-trips a run through create, log-batch and get, encoding NaN as a string and Infinity as DBL_MAX', async () => {
    const created = await call(base, 'POST', `${A}/runs/create`, { experiment_id: '0', start_time: 5, tags: [{ key: 'a', value: 'b' }] });
    assert.equal(created.status, 200);
    const runId = (created.body.run as { info: { run_id: string } }).info.run_id;
    const logged = await call(base, 'POST', `${A}/runs/log-batch`, {
      run_id: runId,
      metrics: [
        { key: 'n', value: 'NaN', timestamp: 1, step: 0 },
        { key: 'i', value: 'Infinity', timestamp: '2', step: '3' },
        { key: 'x', value: 1.5, timestamp: 3 },
      ],
      params: [{ key: 'p', value: 'v' }],
    });
    assert.equal(logged.status, 200);
    assert.deepEqual(logged.body, {});
    const got = await call(base, 'GET', `${A}/runs/get?run_id=${runId}`);
    const text = got.text;
    assert.match(text, /"value":"NaN"/);
    assert.match(text, /"value":1\.7976931348623157e\+308/, 'Infinity is kept as DBL_MAX, as MLflow does');
    const run = got.body.run as { info: Record<string, unknown>; data: { metrics: { key: string; step: number }[] } };
    assert.equal(run.info.run_uuid, runId);
    assert.equal(run.info.lifecycle_stage, 'active');
    assert.equal('end_time' in run.info, false, 'absent optional fields are omitted');
    assert.equal(run.data.metrics.find((m) => m.key === 'i')?.step, 3);
    assert.equal(run.data.metrics.find((m) => m.key === 'x')?.step, 0, 'step defaults to 0');
  });

  it('accepts run_uuid as an alias and GET repeated keys as lists', async () => {
    const created = await call(base, 'POST', `${A}/runs/create`, { experiment_id: '0' });
    const runId = (created.body.run as { info: { run_id: string } }).info.run_id;
    assert.equal((await call(base, 'POST', `${A}/runs/set-tag`, { run_uuid: runId, key: 'k', value: 'v' })).status, 200);
    const search = await call(base, 'GET', `${A}/runs/search?experiment_ids=0&experiment_ids=0&max_results=1&order_by=attributes.start_time%20DESC`);
    assert.equal(search.status, 200);
    assert.equal((search.body.runs as unknown[]).length, 1);
    assert.equal(typeof search.body.next_page_token, 'string');
  });

  it('returns MLflow error bodies with the mapped status', async () => {
    const missing = await call(base, 'GET', `${A}/runs/get?run_id=ffffffffffffffffffffffffffffffff`);
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.body, { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'Run with id=ffffffffffffffffffffffffffffffff not found' });
    await call(base, 'POST', `${A}/experiments/create`, { name: 'dup' });
    const dup = await call(base, 'POST', `${A}/experiments/create`, { name: 'dup' });
    assert.equal(dup.status, 400, 'RESOURCE_ALREADY_EXISTS is 400 in MLflow');
    assert.equal(dup.body.error_code, 'RESOURCE_ALREADY_EXISTS');
    const byName = await call(base, 'GET', `${A}/experiments/get-by-name?experiment_name=nope`);
    assert.equal(byName.status, 404);
    assert.equal(byName.body.error_code, 'RESOURCE_DOES_NOT_EXIST');
    const required = await call(base, 'POST', `${A}/experiments/create`, {});
    assert.equal(required.status, 400);
    assert.match(String(required.body.message), /Missing value for required parameter 'name'/);
    const badFilter = await call(base, 'POST', `${A}/runs/search`, { experiment_ids: ['0'], filter: 'metrics.a >> 1' });
    assert.equal(badFilter.status, 400);
    assert.equal(badFilter.body.error_code, 'INVALID_PARAMETER_VALUE');
    assert.match(String(badFilter.body.message), /position/);
  });

  it('rejects malformed JSON, non-object bodies and wrong content types with 400', async () => {
    const bad = await call(base, 'POST', `${A}/experiments/create`, '{"name": ');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error_code, 'MALFORMED_REQUEST');
    const arr = await call(base, 'POST', `${A}/experiments/create`, '[1,2]');
    assert.equal(arr.status, 400);
    const ct = await call(base, 'POST', `${A}/experiments/create`, 'name=x', { 'Content-Type': 'application/x-www-form-urlencoded' });
    assert.equal(ct.status, 400);
    assert.match(String(ct.body.message), /Content-Type must be 'application\/json'/);
    const doubled = await call(base, 'POST', `${A}/experiments/create`, JSON.stringify(JSON.stringify({ name: 'double-encoded' })));
    assert.equal(doubled.status, 200);
    const wrongType = await call(base, 'POST', `${A}/runs/log-metric`, { run_id: 'x', key: 'k', value: 'abc', timestamp: 1 });
    assert.equal(wrongType.status, 400);
    const badInt = await call(base, 'GET', `${A}/experiments/search?max_results=ten`);
    assert.equal(badInt.status, 400);
  });

  it('answers unknown endpoints with ENDPOINT_NOT_FOUND 404 and wrong methods with 405', async () => {
    const unknown = await call(base, 'GET', `${A}/no/such/thing`);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error_code, 'ENDPOINT_NOT_FOUND');
    const wrong = await call(base, 'DELETE', `${A}/runs/create`);
    assert.equal(wrong.status, 405);
    assert.equal(wrong.body.error_code, 'ENDPOINT_NOT_FOUND');
  });

  it('refuses bodies over the size limit with 413 and a clear message', async () => {
    const small = await (await import('../../src/server/httpServer')).startServer({ store: t.store, log: new MemoryLogger(), port: 0, maxBodyBytes: 1024 });
    try {
      const res = await call(small.url, 'POST', `${A}/experiments/create`, { name: 'x'.repeat(5000) });
      assert.equal(res.status, 413);
      assert.match(String(res.body.message), /exceeds the limit of 1024 bytes/);
    } finally {
      await small.close();
    }
  });

  it('rejects foreign Host headers (DNS rebinding) but not /health', async () => {
    const request = (path: string) =>
      new Promise<number>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: t.server.port, path, headers: { Host: 'evil.example:80' } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
    assert.equal(await request(`${A}/experiments/get?experiment_id=0`), 403);
    assert.equal(await request('/health'), 200);
  });

  it('pages metric history and serves the bulk interval query', async () => {
    const created = await call(base, 'POST', `${A}/runs/create`, { experiment_id: '0' });
    const runId = (created.body.run as { info: { run_id: string } }).info.run_id;
    const metrics = Array.from({ length: 30 }, (_, i) => ({ key: 'loss', value: i, timestamp: i, step: i }));
    await call(base, 'POST', `${A}/runs/log-batch`, { run_id: runId, metrics });
    const page = await call(base, 'GET', `${A}/metrics/get-history?run_id=${runId}&metric_key=loss&max_results=20`);
    assert.equal((page.body.metrics as unknown[]).length, 20);
    const rest = await call(base, 'GET', `${A}/metrics/get-history?run_id=${runId}&metric_key=loss&max_results=20&page_token=${page.body.next_page_token as string}`);
    assert.equal((rest.body.metrics as unknown[]).length, 10);
    assert.equal(rest.body.next_page_token, undefined);
    const bulk = await call(base, 'GET', `${A}/metrics/get-history-bulk-interval?run_ids=${runId}&metric_key=loss&max_results=5`);
    assert.equal(bulk.status, 200);
    assert.ok((bulk.body.metrics as { run_id: string }[]).every((m) => m.run_id === runId));
    const badRange = await call(base, 'GET', `${A}/metrics/get-history-bulk-interval?run_ids=${runId}&metric_key=loss&start_step=5&end_step=1`);
    assert.equal(badRange.status, 400);
  });
});

describe('store ownership', () => {
  it('refuses a second server on the same root and names the owner', async () => {
    const root = tempRoot();
    const first = await serveStore({ root, port: 0, log: new MemoryLogger() });
    try {
      await assert.rejects(serveStore({ root, port: 0, log: new MemoryLogger() }), (err: unknown) => {
        assert.ok(err instanceof StoreLockedError);
        assert.match(err.message, new RegExp(`process ${process.pid} serving ${first.server.url.replace(/[.]/g, '\\.')}`));
        return true;
      });
    } finally {
      await first.stop();
    }
    const again = await serveStore({ root, port: 0, log: new MemoryLogger() });
    await again.stop();
  });

  it('takes over a stale lock whose process is gone', () => {
    const root = tempRoot();
    const lock = StoreLock.acquire(root);
    // Rewrite the lock as if a dead process held it.
    const file = require('node:path').join(root, '.runlens', 'lock.json') as string;
    require('node:fs').writeFileSync(file, JSON.stringify({ pid: 2 ** 22 + 12345, hostname: require('node:os').hostname(), startedAt: 'then' }));
    const next = StoreLock.acquire(root);
    next.release();
    lock.release();
  });
});

describe('http: shutdown', () => {
  it('closes at once with a change feed open and idle keep-alive sockets, instead of waiting for the clients', async () => {
    const t = await startTestServer();
    const agent = new http.Agent({ keepAlive: true }); // keeps idle sockets with no timeout of its own
    const get = (route: string): Promise<http.IncomingMessage> => new Promise((resolve, reject) => http.get(`${t.server.url}${route}`, { agent }, resolve).on('error', reject));
    const feed = await get('/runlens/api/changes');
    feed.resume();
    const ended = new Promise((resolve) => feed.on('end', resolve));
    const health = await get('/health');
    health.resume();
    await new Promise((resolve) => health.on('end', resolve));
    const t0 = Date.now();
    await t.server.close(); // keepAliveTimeout is 65 s: without closing sockets as they go idle, this hangs
    assert.ok(Date.now() - t0 < 2000, `closed in ${Date.now() - t0} ms`);
    await ended;
    await t.store.close();
    agent.destroy();
  });
});
