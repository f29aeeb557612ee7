import * as assert from 'node:assert/strict';
import { startServer } from '../../src/server/httpServer';
import type { ImportRunner } from '../../src/server/importJobs';
import { call, MemoryLogger, openStore, startTestServer, tempRoot } from './helpers';

async function until<T>(read: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = await read();
    if (done(v)) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('timed out');
}

describe('imports through the server that owns the store', () => {
  it('refuses with 403 where there is nothing to import into, and 400 without a source', async () => {
    const t = await startTestServer();
    try {
      const r = await call(t.server.url, 'POST', '/runlens/api/import', { source: '/tmp/mlflow.db' });
      assert.equal(r.status, 403);
      assert.equal(r.body.error_code, 'PERMISSION_DENIED');
      const missing = await call(t.server.url, 'POST', '/runlens/api/import', {});
      assert.equal(missing.status, 400);
      const unknown = await call(t.server.url, 'GET', '/runlens/api/import?job_id=nope');
      assert.equal(unknown.status, 404);
    } finally {
      await t.close();
    }
  });

  it('runs imports one at a time and reports progress, the summary, or the failure', async () => {
    const store = await openStore(tempRoot());
    const seen: string[] = [];
    const importer: ImportRunner = async (source, onProgress) => {
      seen.push(source);
      onProgress({ experiments: 1, runs: 2, metricPoints: 3, artifacts: 0, traces: 0 });
      if (source === 'bad') throw new Error('bad is neither an mlflow.db nor a legacy MLflow file store');
      return { summary: `imported 1 experiments, 2 runs, 3 metric points, 0 artifacts, 0 models, 0 traces`, skipped: ['skipped 1: run already in the store'] };
    };
    const server = await startServer({ store, log: new MemoryLogger(), port: 0, importer });
    try {
      const a = await call(server.url, 'POST', '/runlens/api/import', { source: 'good' });
      const b = await call(server.url, 'POST', '/runlens/api/import', { source: 'bad' });
      assert.equal(a.status, 200);
      const get = (id: unknown) => () => call(server.url, 'GET', `/runlens/api/import?job_id=${String(id)}`);
      const doneA = await until(get(a.body.job_id), (r) => r.body.state === 'done');
      assert.equal(doneA.body.summary, 'imported 1 experiments, 2 runs, 3 metric points, 0 artifacts, 0 models, 0 traces');
      assert.deepEqual(doneA.body.skipped, ['skipped 1: run already in the store']);
      assert.deepEqual(doneA.body.progress, { experiments: 1, runs: 2, metric_points: 3, artifacts: 0, traces: 0 });
      const doneB = await until(get(b.body.job_id), (r) => r.body.state === 'failed');
      assert.match(String(doneB.body.error), /neither an mlflow\.db/);
      assert.deepEqual(seen, ['good', 'bad'], 'in the order they were asked for');
    } finally {
      await server.close();
      await store.close();
    }
  });
});
