import * as assert from 'node:assert/strict';
import { MlflowError } from '../../src/domain/errors';
import type { LocalStore } from '../../src/store/localStore';
import { openStore, tempRoot } from './helpers';

async function rejects(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof MlflowError, `expected MlflowError, got ${String(err)}`);
    assert.equal(err.errorCode, code);
    if (message) assert.match(err.message, message);
    return true;
  });
}

describe('local store semantics', () => {
  let store: LocalStore;
  beforeEach(async () => {
    store = await openStore(tempRoot());
  });
  afterEach(async () => {
    await store.close();
  });

  it('has the Default experiment 0 with an mlflow-artifacts location', async () => {
    const e = await store.getExperiment('0');
    assert.equal(e.name, 'Default');
    assert.equal(e.artifact_location, 'mlflow-artifacts:/0');
    assert.equal(e.lifecycle_stage, 'active');
  });

  it('creates experiments with increasing ids and refuses duplicate names', async () => {
    assert.equal(await store.createExperiment('a'), '1');
    assert.equal(await store.createExperiment('b', undefined, [{ key: 'team', value: 'x' }]), '2');
    assert.deepEqual((await store.getExperiment('2')).tags, [{ key: 'team', value: 'x' }]);
    await rejects(store.createExperiment('a'), 'RESOURCE_ALREADY_EXISTS', /Experiment\(name=a\) already exists/);
    await rejects(store.createExperiment(''), 'INVALID_PARAMETER_VALUE');
    await rejects(store.getExperiment('99'), 'RESOURCE_DOES_NOT_EXIST', /No Experiment with id=99 exists/);
  });

  it('soft-deletes and restores experiments together with their runs', async () => {
    const id = await store.createExperiment('e');
    const run = await store.createRun({ experimentId: id });
    await store.deleteExperiment(id);
    assert.equal((await store.getExperiment(id)).lifecycle_stage, 'deleted');
    assert.equal((await store.getRun(run.info.run_id)).info.lifecycle_stage, 'deleted');
    await rejects(store.createRun({ experimentId: id }), 'INVALID_PARAMETER_VALUE', /must be in the 'active' state/);
    assert.equal((await store.searchExperiments({})).items.some((e) => e.experiment_id === id), false);
    assert.equal((await store.searchExperiments({ viewType: 'DELETED_ONLY' })).items[0]!.experiment_id, id);
    await store.restoreExperiment(id);
    assert.equal((await store.getRun(run.info.run_id)).info.lifecycle_stage, 'active');
    await rejects(store.restoreExperiment(id), 'RESOURCE_DOES_NOT_EXIST');
  });

  it('renames experiments and manages experiment tags', async () => {
    const id = await store.createExperiment('old');
    await store.createExperiment('taken');
    await store.renameExperiment(id, 'new');
    assert.equal((await store.getExperimentByName('new'))?.experiment_id, id);
    assert.equal(await store.getExperimentByName('old'), undefined);
    await rejects(store.renameExperiment(id, 'taken'), 'RESOURCE_ALREADY_EXISTS');
    await store.setExperimentTag(id, 'k', 'v1');
    await store.setExperimentTag(id, 'k', 'v2');
    assert.deepEqual((await store.getExperiment(id)).tags, [{ key: 'k', value: 'v2' }]);
    await store.deleteExperimentTag(id, 'k');
    await rejects(store.deleteExperimentTag(id, 'k'), 'RESOURCE_DOES_NOT_EXIST', /No tag with name: k/);
  });

  it('creates runs with generated names, the runName tag and artifact uri', async () => {
    const run = await store.createRun({ experimentId: '0', userId: 'ada', startTime: 123 });
    assert.match(run.info.run_id, /^[0-9a-f]{32}$/);
    assert.match(run.info.run_name, /^[a-z]+-[a-z]+-\d{1,3}$/);
    assert.deepEqual(run.data.tags, [{ key: 'mlflow.runName', value: run.info.run_name }]);
    assert.equal(run.info.artifact_uri, `mlflow-artifacts:/0/${run.info.run_id}/artifacts`);
    assert.equal(run.info.status, 'RUNNING');
    assert.equal(run.info.start_time, 123);
    assert.equal(run.info.end_time, null);
    const named = await store.createRun({ tags: [{ key: 'mlflow.runName', value: 'from-tag' }] });
    assert.equal(named.info.run_name, 'from-tag');
    await rejects(
      store.createRun({ runName: 'a', tags: [{ key: 'mlflow.runName', value: 'b' }] }),
      'INVALID_PARAMETER_VALUE',
      /Both 'run_name' argument and 'mlflow.runName' tag are specified/,
    );
  });

  it('creates a run with an id its caller chose, once', async () => {
    const id = 'ab'.repeat(16);
    const run = await store.createRun({ experimentId: '0', runId: id });
    assert.equal(run.info.run_id, id);
    assert.match(run.info.artifact_uri, new RegExp(`/${id}/artifacts$`));
    for (const bad of [id, 'AB'.repeat(16), 'x', `${id}0`]) {
      await assert.rejects(store.createRun({ experimentId: '0', runId: bad }), (e: unknown) => e instanceof MlflowError && e.errorCode === 'INVALID_PARAMETER_VALUE' && /not a new run id/.test(e.message));
    }
  });

  it('updates status, end time and name; renaming through the tag too', async () => {
    const run = await store.createRun({ runName: 'first' });
    const info = await store.updateRun(run.info.run_id, { status: 'FINISHED', endTime: 999, runName: 'second' });
    assert.equal(info.status, 'FINISHED');
    assert.equal(info.end_time, 999);
    assert.equal(info.run_name, 'second');
    await store.setTag(run.info.run_id, { key: 'mlflow.runName', value: 'third' });
    const again = await store.getRun(run.info.run_id);
    assert.equal(again.info.run_name, 'third');
    assert.ok(again.data.tags.some((t) => t.key === 'mlflow.runName' && t.value === 'third'));
  });

  it('keeps params immutable but accepts the same value again', async () => {
    const { info } = await store.createRun({});
    await store.logParam(info.run_id, { key: 'lr', value: '0.1' });
    await store.logParam(info.run_id, { key: 'lr', value: '0.1' });
    await rejects(
      store.logParam(info.run_id, { key: 'lr', value: '0.2' }),
      'INVALID_PARAMETER_VALUE',
      /Changing param values is not allowed. Param with key='lr' was already logged with value='0.1' for run ID='[0-9a-f]+'. Attempted logging new value '0.2'./,
    );
    await rejects(
      store.logBatch(info.run_id, { params: [{ key: 'lr', value: '0.3' }] }),
      'INVALID_PARAMETER_VALUE',
      /Params were already logged=/,
    );
  });

  it('rejects a whole batch when any part is invalid (nothing half-written)', async () => {
    const { info } = await store.createRun({});
    await rejects(
      store.logBatch(info.run_id, {
        metrics: [{ key: 'ok', value: 1, timestamp: 1, step: 0 }],
        params: [
          { key: 'p', value: '1' },
          { key: 'p', value: '2' },
        ],
      }),
      'INVALID_PARAMETER_VALUE',
      /Duplicate parameter keys/,
    );
    await rejects(store.logBatch(info.run_id, { metrics: [{ key: 'bad/../key', value: 1, timestamp: 1, step: 0 }], tags: [{ key: 't', value: 'v' }] }), 'INVALID_PARAMETER_VALUE');
    const run = await store.getRun(info.run_id);
    assert.deepEqual(run.data.metrics, []);
    assert.deepEqual(run.data.params, []);
    assert.equal(run.data.tags.length, 1); // only mlflow.runName
  });

  it('enforces batch limits with MLflow messages', async () => {
    const { info } = await store.createRun({});
    const metrics = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `m${i}`, value: i, timestamp: 1, step: 0 }));
    const kvs = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: 'v' }));
    await store.logBatch(info.run_id, { metrics: metrics(1000) });
    await store.logBatch(info.run_id, { params: kvs(100), tags: kvs(100) });
    await rejects(store.logBatch(info.run_id, { metrics: metrics(1001) }), 'INVALID_PARAMETER_VALUE', /at most 1000 metrics. Got 1001 metrics/);
    await rejects(store.logBatch(info.run_id, { params: kvs(101) }), 'INVALID_PARAMETER_VALUE', /at most 100 params/);
    await rejects(store.logBatch(info.run_id, { tags: kvs(101) }), 'INVALID_PARAMETER_VALUE', /at most 100 tags/);
    await rejects(store.logBatch(info.run_id, { metrics: metrics(950), params: kvs(51) }), 'INVALID_PARAMETER_VALUE', /in total/);
    assert.equal((await store.getRun(info.run_id)).data.metrics.length, 1000);
  });

  it('validates keys and value lengths', async () => {
    const { info } = await store.createRun({});
    await rejects(store.logParam(info.run_id, { key: 'a'.repeat(251), value: 'x' }), 'INVALID_PARAMETER_VALUE', /exceeds the maximum length of 250/);
    await rejects(store.setTag(info.run_id, { key: 'bad*key', value: 'x' }), 'INVALID_PARAMETER_VALUE', /Names may only contain/);
    await rejects(store.setTag(info.run_id, { key: '/abs', value: 'x' }), 'INVALID_PARAMETER_VALUE');
    // Long values are truncated by default, as MLflow does (MLFLOW_TRUNCATE_LONG_VALUES).
    await store.logParam(info.run_id, { key: 'long', value: 'x'.repeat(7000) });
    assert.equal((await store.getRun(info.run_id)).data.params[0]!.value.length, 6000);
    const strict = await openStore(tempRoot(), { truncateLongValues: false });
    const r = await strict.createRun({});
    await rejects(strict.setTag(r.info.run_id, { key: 't', value: 'y'.repeat(8001) }), 'INVALID_PARAMETER_VALUE', /exceeds the maximum length of 8000/);
    await strict.close();
  });

  it('stores NaN, clamps ±Infinity to ±DBL_MAX and picks the latest metric by (step, timestamp, value)', async () => {
    const { info } = await store.createRun({});
    await store.logBatch(info.run_id, {
      metrics: [
        { key: 'nan', value: NaN, timestamp: 1, step: 0 },
        { key: 'inf', value: Infinity, timestamp: 1, step: 0 },
        { key: 'ninf', value: -Infinity, timestamp: 1, step: 0 },
        { key: 'm', value: 5, timestamp: 10, step: 2 },
        { key: 'm', value: 9, timestamp: 20, step: 1 },
        { key: 'm', value: 1, timestamp: 10, step: 2 },
      ],
    });
    const byKey = Object.fromEntries((await store.getRun(info.run_id)).data.metrics.map((m) => [m.key, m]));
    assert.ok(Number.isNaN(byKey.nan!.value));
    assert.equal(byKey.inf!.value, Number.MAX_VALUE, '+Infinity is kept as DBL_MAX, as in MLflow');
    assert.equal(byKey.ninf!.value, -Number.MAX_VALUE);
    assert.deepEqual(byKey.m, { key: 'm', value: 5, timestamp: 10, step: 2 });
    const history = await store.getMetricHistory(info.run_id, 'm');
    assert.deepEqual(
      history.items.map((m) => [m.timestamp, m.step, m.value]),
      [
        [10, 2, 1],
        [10, 2, 5],
        [20, 1, 9],
      ],
    );
    assert.ok(Number.isNaN((await store.getMetricHistory(info.run_id, 'nan')).items[0]!.value));
  });

  it('pages metric history', async () => {
    const { info } = await store.createRun({});
    await store.logBatch(info.run_id, { metrics: Array.from({ length: 25 }, (_, i) => ({ key: 'loss', value: i, timestamp: 1000 + i, step: i })) });
    const first = await store.getMetricHistory(info.run_id, 'loss', 10);
    assert.equal(first.items.length, 10);
    const second = await store.getMetricHistory(info.run_id, 'loss', 10, first.nextPageToken);
    const third = await store.getMetricHistory(info.run_id, 'loss', 10, second.nextPageToken);
    assert.deepEqual([...first.items, ...second.items, ...third.items].map((m) => m.step), Array.from({ length: 25 }, (_, i) => i));
    assert.equal(third.nextPageToken, undefined);
    assert.deepEqual((await store.getMetricHistory(info.run_id, 'missing')).items, []);
  });

  it('samples steps for the bulk-interval chart query, keeping first and last steps', async () => {
    const a = (await store.createRun({})).info.run_id;
    const b = (await store.createRun({})).info.run_id;
    await store.logBatch(a, { metrics: Array.from({ length: 1000 }, (_, i) => ({ key: 'loss', value: i, timestamp: i, step: i })) });
    await store.logBatch(b, { metrics: Array.from({ length: 10 }, (_, i) => ({ key: 'loss', value: i, timestamp: i, step: i * 3 + 1 })) });
    const points = await store.getMetricHistoryBulkInterval({ runIds: [a, b], metricKey: 'loss', maxResults: 50 });
    const aSteps = points.filter((p) => p.run_id === a).map((p) => p.step);
    assert.ok(aSteps.length <= 60 && aSteps.length >= 50, `got ${aSteps.length}`);
    assert.equal(aSteps[0], 0);
    assert.equal(aSteps[aSteps.length - 1], 999);
    assert.ok(points.some((p) => p.run_id === b && p.step === 28), 'keeps the last step of the short run');
    const ranged = await store.getMetricHistoryBulkInterval({ runIds: [a], metricKey: 'loss', maxResults: 2500, startStep: 10, endStep: 20 });
    assert.deepEqual(ranged.map((p) => p.step), Array.from({ length: 11 }, (_, i) => 10 + i));
  });

  it('overwrites tags, deletes tags, and refuses writes to deleted runs', async () => {
    const { info } = await store.createRun({});
    await store.setTag(info.run_id, { key: 't', value: '1' });
    await store.setTag(info.run_id, { key: 't', value: '2' });
    assert.equal((await store.getRun(info.run_id)).data.tags.find((t) => t.key === 't')?.value, '2');
    await store.deleteTag(info.run_id, 't');
    await rejects(store.deleteTag(info.run_id, 't'), 'RESOURCE_DOES_NOT_EXIST', /No tag with name: t in run with id/);
    await store.deleteRun(info.run_id);
    await rejects(store.logMetric(info.run_id, { key: 'm', value: 1, timestamp: 1, step: 0 }), 'INVALID_PARAMETER_VALUE', /must be in the 'active' state/);
    await store.restoreRun(info.run_id);
    await store.logMetric(info.run_id, { key: 'm', value: 1, timestamp: 1, step: 0 });
    await rejects(store.getRun('0123456789abcdef0123456789abcdef'), 'RESOURCE_DOES_NOT_EXIST', /Run with id=0123456789abcdef0123456789abcdef not found/);
  });

  it('logs dataset inputs once per dataset with their context tags', async () => {
    const { info } = await store.createRun({});
    const input = {
      tags: [{ key: 'mlflow.data.context', value: 'train' }],
      dataset: { name: 'iris', digest: 'abc123', source_type: 'code', source: '{}', schema: '{"a":1}' },
    };
    await store.logInputs(info.run_id, [input, input], ['m-1']);
    await store.logInputs(info.run_id, [input], []);
    const run = await store.getRun(info.run_id);
    assert.equal(run.inputs.dataset_inputs.length, 1);
    assert.deepEqual(run.inputs.dataset_inputs[0], input);
    assert.deepEqual(run.inputs.model_inputs, [{ model_id: 'm-1' }]);
    await rejects(store.logInputs(info.run_id, [{ tags: [], dataset: { name: 'x', digest: 'd'.repeat(37), source_type: 's', source: 's' } }], []), 'INVALID_PARAMETER_VALUE');
  });

  it('notifies listeners after acknowledged writes', async () => {
    const seen: string[] = [];
    const off = store.onDidChange((c) => seen.push(c.kind === 'run' ? `run:${c.created ? 'new' : 'upd'}` : 'exp'));
    const { info } = await store.createRun({});
    await store.setTag(info.run_id, { key: 'a', value: 'b' });
    await store.createExperiment('x');
    off();
    await store.setTag(info.run_id, { key: 'a', value: 'c' });
    assert.deepEqual(seen, ['run:new', 'run:upd', 'exp']);
  });
});
