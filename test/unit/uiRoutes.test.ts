import * as assert from 'node:assert/strict';
import { call, startTestServer, type TestServer } from './helpers';

const A = '/api/2.0/mlflow';
const AJAX = '/ajax-api/2.0/mlflow';

describe('routes the MLflow UI calls', () => {
  let t: TestServer;
  let base: string;
  let runId: string;
  before(async () => {
    t = await startTestServer();
    base = t.server.url;
    const created = await call(base, 'POST', `${A}/runs/create`, { experiment_id: '0' });
    runId = ((created.body.run as { info: { run_id: string } }).info).run_id;
    await call(base, 'POST', `${A}/runs/log-metric`, { run_id: runId, key: 'loss', value: 'NaN', timestamp: 1, step: 0 });
  });
  after(async () => {
    await t.close();
  });

  it('uploads with upload-artifact and downloads with get-artifact, typed and named as MLflow does', async () => {
    const up = await call(base, 'POST', `${AJAX}/upload-artifact?run_uuid=${runId}&path=dir/t.json`, '{"a": 1}');
    assert.equal(up.status, 200);
    assert.equal(up.text, '');
    const down = await call(base, 'GET', `/get-artifact?run_id=${runId}&path=dir/t.json`);
    assert.equal(down.status, 200);
    assert.equal(down.text, '{"a": 1}');
    assert.equal(down.headers.get('content-type'), 'text/plain');
    assert.equal(down.headers.get('content-disposition'), 'attachment; filename=t.json');
    assert.equal(down.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(down.headers.get('cache-control'), 'no-cache');
    const escape = await call(base, 'GET', `/get-artifact?run_id=${runId}&path=..%2F..%2Fx`);
    assert.deepEqual([escape.status, escape.body.message], [400, 'Invalid path']);
    const dir = await call(base, 'GET', `/get-artifact?run_id=${runId}&path=dir`);
    assert.equal(dir.status, 400);
    assert.match(String(dir.body.message), /^Artifact path refers to a directory, not a file: '0\/.+\/artifacts\/dir'$/);
    assert.equal((await call(base, 'GET', `${AJAX}/get-artifact?run_id=${runId}&path=dir/t.json`)).status, 404);
    assert.equal((await call(base, 'POST', `${A}/upload-artifact?run_uuid=${runId}&path=x`, 'x')).status, 404);
  });

  it('answers search-datasets only under /ajax-api/2.0, with MLflow messages', async () => {
    const none = await call(base, 'POST', `${AJAX}/experiments/search-datasets`, { experiment_ids: [] });
    assert.deepEqual([none.status, none.body.message], [400, 'SearchDatasets request must specify at least one experiment_id.']);
    const empty = await call(base, 'POST', `${AJAX}/experiments/search-datasets`, { experiment_ids: ['0'] });
    assert.deepEqual([empty.status, empty.body], [200, {}]);
    assert.equal((await call(base, 'POST', `${A}/experiments/search-datasets`, { experiment_ids: ['0'] })).status, 404);
  });

  it('runs GraphQL queries: NaN in run data reads as null, errors are bare messages, bad documents get a 400', async () => {
    const query = 'query Q($id: String) { mlflowGetRun(input: {runId: $id}) { run { info { status runId } data { metrics { key value step } } } apiError { code } } }';
    const res = await call(base, 'POST', '/graphql', { query, variables: { id: runId } });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {
      data: { mlflowGetRun: { apiError: null, run: { data: { metrics: [{ key: 'loss', step: '0', value: null }] }, info: { runId, status: 'RUNNING' } } } },
      errors: null,
    });
    const bulk = await call(base, 'POST', '/graphql', { query: `{ mlflowGetMetricHistoryBulkInterval(input: {runIds: ["${runId}"], metricKey: "loss"}) { metrics { value } } }` });
    assert.deepEqual(bulk.body, { data: { mlflowGetMetricHistoryBulkInterval: { metrics: [{ value: null }] } }, errors: ['Float cannot represent non numeric value: nan'] });
    const missing = await call(base, 'POST', '/graphql', { query: '{ mlflowGetRun(input: {runId: "nope"}) { run { info { runId } } } }' });
    assert.deepEqual(missing.body, { data: { mlflowGetRun: null }, errors: ['Run with id=nope not found'] });
    const unknown = await call(base, 'POST', '/graphql', { query: '{ mlflowGetRun(input: {runId: "x"}) { bogus } }' });
    assert.deepEqual(unknown.body, { data: null, errors: ["Cannot query field 'bogus' on type 'MlflowGetRunResponse'."] });
    const syntax = await call(base, 'POST', '/graphql', { query: '{ mlflowGetRun(' });
    assert.deepEqual([syntax.status, syntax.body.message], [400, 'Syntax Error: Expected Name, found <EOF>.']);
    const batch = await call(base, 'POST', '/graphql', [{ query: '{ __typename }' }]);
    assert.equal(batch.status, 400);
    const get = await call(base, 'GET', `/graphql?query=${encodeURIComponent('{ __typename }')}`);
    assert.deepEqual(get.body, { data: { __typename: 'Query' }, errors: null });
  });
});
