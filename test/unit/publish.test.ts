import * as assert from 'node:assert/strict';
import { publish } from '../../src/backend/remote/publish/publish';
import { encodeSpans } from '../../src/backend/remote/publish/otlpEncode';
import { RemoteWriter } from '../../src/backend/remote/publish/remoteWriter';
import { RestClient } from '../../src/backend/remote/restClient';
import { StoreSource } from '../../src/backend/transfer/storeSource';
import type { SpanDict } from '../../src/domain/traceTypes';
import { decodeOtlpProtobuf } from '../../src/server/otlp/otlpDecode';
import { call, startTestServer, type TestServer } from './helpers';

describe('publish: OTLP encoding of span dicts', () => {
  it('round-trips through the OTLP decoder: ids, parent, times, typed attributes, events, status', () => {
    const span: SpanDict = {
      trace_id: Buffer.from('0123456789abcdef0123456789abcdef', 'hex').toString('base64'),
      span_id: Buffer.from('0011223344556677', 'hex').toString('base64'),
      parent_span_id: Buffer.from('8899aabbccddeeff', 'hex').toString('base64'),
      name: 'retrieve',
      start_time_unix_nano: '1700000000000000001',
      end_time_unix_nano: '1700000000500000002',
      attributes: { 'mlflow.spanInputs': '{"q": "hi", "k": [1, 2.5, true, null]}', 'mlflow.spanType': '"RETRIEVER"', n: '-3' },
      status: { code: 'ERROR', message: 'boom' },
      events: [{ name: 'exception', time_unix_nano: '1700000000100000000', attributes: { 'exception.message': '"bad"' } }],
    };
    const [got] = decodeOtlpProtobuf(encodeSpans([span]));
    assert.ok(got);
    assert.equal(got.traceIdHex, '0123456789abcdef0123456789abcdef');
    assert.equal(got.span.name, 'retrieve');
    assert.equal(String(got.span.start_time_unix_nano), '1700000000000000001');
    assert.equal(String(got.span.end_time_unix_nano), '1700000000500000002');
    assert.equal(Buffer.from(String(got.span.parent_span_id), 'base64').toString('hex'), '8899aabbccddeeff');
    assert.deepEqual(JSON.parse(String(got.span.attributes['mlflow.spanInputs'])), { q: 'hi', k: [1, 2.5, true, null] });
    assert.equal(JSON.parse(String(got.span.attributes['mlflow.spanType'])), 'RETRIEVER');
    assert.equal(JSON.parse(String(got.span.attributes.n)), -3);
    assert.match(got.span.status.code, /ERROR/);
    assert.equal(got.span.events[0]?.name, 'exception');
  });
});

describe('publish: a Runlens store to another MLflow-compatible server', function () {
  this.timeout(60_000);
  let local: TestServer;
  let remote: TestServer;
  let parent = '';
  let child = '';

  before(async () => {
    local = await startTestServer();
    remote = await startTestServer();
    const url = local.server.url;
    const exp = (await call(url, 'POST', '/api/2.0/mlflow/experiments/create', { name: 'pub' })).body.experiment_id as string;
    const mk = async (name: string, tags: { key: string; value: string }[] = []): Promise<string> =>
      ((await call(url, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: exp, run_name: name, start_time: 1, tags })).body.run as { info: { run_id: string } }).info.run_id;
    parent = await mk('parent');
    child = await mk('child', [{ key: 'mlflow.parentRunId', value: parent }]);
    const metrics = Array.from({ length: 1500 }, (_, s) => ({ key: 'loss', value: 1 / (s + 1), timestamp: 1000 + s, step: s }));
    // log-batch takes at most 1000 entities in all: the params go in a call of their own.
    for (const body of [{ metrics: metrics.slice(0, 1000) }, { metrics: metrics.slice(1000) }, { params: [{ key: 'lr', value: '0.1' }] }]) {
      const r = await call(url, 'POST', '/api/2.0/mlflow/runs/log-batch', { run_id: child, ...body });
      assert.equal(r.status, 200, r.text);
    }
    const art = await call(url, 'PUT', `/api/2.0/mlflow-artifacts/artifacts/${exp}/${child}/artifacts/out/a.txt`, 'hello', { 'Content-Type': 'application/octet-stream' });
    assert.ok(art.status < 300, art.text);
  });

  after(async () => {
    await local?.close();
    await remote?.close();
  });

  const publishOnce = () => publish(new StoreSource(local.store, 'local'), new RemoteWriter(new RestClient(remote.server.url, { maxRetries: 0 })), { storeId: '00000000-0000-4000-8000-000000000001', experiments: ['pub'] });

  it('creates the runs once, maps the parent, batches the history and uploads artifacts; a second publish changes nothing', async () => {
    const first = await publishOnce();
    assert.deepEqual(first.runs, { created: 2, updated: 0, unchanged: 0 });
    assert.equal(first.metricPoints, 1500);
    assert.equal(first.artifacts, 1);
    const exp = ((await call(remote.server.url, 'GET', '/api/2.0/mlflow/experiments/get-by-name?experiment_name=pub')).body.experiment as { experiment_id: string }).experiment_id;
    const runs = (await call(remote.server.url, 'POST', '/api/2.0/mlflow/runs/search', { experiment_ids: [exp] })).body.runs as { info: { run_id: string }; data: { tags: { key: string; value: string }[] } }[];
    assert.equal(runs.length, 2);
    const tag = (r: (typeof runs)[number], k: string): string | undefined => r.data.tags.find((t) => t.key === k)?.value;
    const rParent = runs.find((r) => tag(r, 'runlens.origin.runId') === parent)!;
    const rChild = runs.find((r) => tag(r, 'runlens.origin.runId') === child)!;
    assert.notEqual(rChild.info.run_id, child, 'the remote picks its own run ids');
    assert.equal(tag(rChild, 'mlflow.parentRunId'), rParent.info.run_id);
    const hist = await call(remote.server.url, 'GET', `/api/2.0/mlflow/metrics/get-history?run_id=${rChild.info.run_id}&metric_key=loss&max_results=25000`);
    assert.equal((hist.body.metrics as unknown[]).length, 1500);
    const second = await publishOnce();
    assert.deepEqual(second.runs, { created: 0, updated: 0, unchanged: 2 });
    assert.equal(second.metricPoints, 0);
    const again = (await call(remote.server.url, 'POST', '/api/2.0/mlflow/runs/search', { experiment_ids: [exp] })).body.runs as unknown[];
    assert.equal(again.length, 2);
  });
});
