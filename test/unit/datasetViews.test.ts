import * as assert from 'node:assert/strict';
import { TrackingClient } from '../../src/client/trackingClient';
import { UiBackend } from '../../src/ui/uiBackend';
import { call, startTestServer, type TestServer } from './helpers';

describe('evaluation datasets in the views (UiBackend against a server)', () => {
  let t: TestServer;
  let backend: UiBackend;
  before(async () => {
    t = await startTestServer();
    backend = new UiBackend(new TrackingClient(t.server.url));
  });
  after(() => t.close());

  it('lists datasets with record counts and user tags, and pages a dataset’s records', async () => {
    const exp = (await call(t.server.url, 'POST', '/api/2.0/mlflow/experiments/create', { name: 'evals' })).body.experiment_id as string;
    const created = await call(t.server.url, 'POST', '/api/3.0/mlflow/datasets/create', {
      name: 'golden',
      experiment_ids: [exp, '0'],
      tags: JSON.stringify({ 'mlflow.user': 'ana', team: 'search' }),
    });
    const id = (created.body.dataset as { dataset_id: string }).dataset_id;
    const records = Array.from({ length: 230 }, (_, i) => ({ inputs: { q: `q${i}` }, expectations: { a: i }, source: { source_type: 'HUMAN', source_data: { source_id: 'ana' } } }));
    await call(t.server.url, 'POST', `/api/3.0/mlflow/datasets/${id}/records`, { records: JSON.stringify(records) });

    const rows = await backend.handle({ kind: 'evalDatasets', experimentIds: [exp] });
    assert.deepEqual(rows.map((r) => [r.name, r.records, r.tags, r.createdBy]), [['golden', 230, { team: 'search' }, 'ana']]);

    const first = await backend.handle({ kind: 'evalDataset', datasetId: id });
    assert.deepEqual(first.experiments.map((e) => e.name).sort(), ['Default', 'evals']);
    assert.deepEqual(first.schema, { inputs: { q: 'string' }, outputs: {}, expectations: { a: 'integer' }, version: '1.0' });
    assert.equal(first.records.length, 200);
    assert.equal(first.records[0]!.sourceType, 'HUMAN');
    assert.equal(first.records[0]!.sourceId, 'ana');
    assert.ok(first.nextPageToken);
    const rest = await backend.handle({ kind: 'evalDataset', datasetId: id, pageToken: first.nextPageToken! });
    assert.equal(rest.records.length, 30);
    assert.equal(rest.nextPageToken, undefined);
    const all = new Set([...first.records, ...rest.records].map((r) => JSON.stringify(r.inputs)));
    assert.equal(all.size, 230);
  });

  it('turns bad requests into errors a view can show', async () => {
    await assert.rejects(backend.handle({ kind: 'evalDatasets', experimentIds: [] }), /at least one experiment/);
    await assert.rejects(backend.handle({ kind: 'evalDataset', datasetId: 'd-nope' }), /not found/);
  });
});
