import * as assert from 'node:assert/strict';
import { MlflowError } from '../../src/domain/errors';
import type { LocalStore } from '../../src/store/localStore';
import { openStore, tempRoot } from './helpers';

async function rejectsWith(p: Promise<unknown> | (() => unknown), code: string, pattern?: RegExp): Promise<void> {
  const run = typeof p === 'function' ? Promise.resolve().then(p) : p;
  await assert.rejects(run, (err: unknown) => err instanceof MlflowError && err.errorCode === code && (!pattern || pattern.test(err.message)));
}

describe('logged models and the model registry', () => {
  let root: string;
  let store: LocalStore;
  let runId: string;
  let modelId: string;

  before(async () => {
    root = tempRoot();
    store = await openStore(root);
    const exp = await store.createExperiment('models');
    runId = (await store.createRun({ experimentId: exp })).info.run_id;
    const model = await store.loggedModels.create({ experimentId: exp, name: 'model', sourceRunId: runId, params: [{ key: 'C', value: '1' }], tags: [] });
    modelId = model.info.model_id;
    assert.match(modelId, /^m-[0-9a-f]{32}$/);
    assert.equal(model.info.artifact_uri, `mlflow-artifacts:/${exp}/models/${modelId}/artifacts`);
    assert.equal(model.info.status, 'LOGGED_MODEL_PENDING');
    await store.loggedModels.finalize(modelId, 'LOGGED_MODEL_READY');
    await store.logBatch(runId, { metrics: [{ key: 'acc', value: 0.9, timestamp: 1, step: 0, model_id: modelId }] });
    await store.logOutputs(runId, [{ modelId, step: 0 }]);
  });
  after(() => store.close());

  it('keeps logged-model metrics, params and the run link', async () => {
    const m = (await store.loggedModels.get(modelId));
    assert.equal(m.info.status, 'LOGGED_MODEL_READY');
    assert.deepEqual(m.data.params, [{ key: 'C', value: '1' }]);
    assert.deepEqual(
      m.data.metrics.map((x) => [x.key, x.value, x.run_id]),
      [['acc', 0.9, runId]],
    );
    assert.deepEqual((await store.getRun(runId)).outputs.model_outputs, [{ model_id: modelId, step: 0 }]);
    const found = (await store.loggedModels.search({ experimentIds: [m.info.experiment_id], filter: "name = 'model' AND metrics.acc > 0.5" }));
    assert.deepEqual(
      found.items.map((x) => x.info.model_id),
      [modelId],
    );
    await rejectsWith(() => store.loggedModels.finalize(modelId, 'NOPE'), 'INVALID_PARAMETER_VALUE');
    await rejectsWith(async () => (await store.loggedModels.get('m-00000000000000000000000000000000')), 'RESOURCE_DOES_NOT_EXIST', /Logged model with ID/);
  });

  it('numbers versions per model, never reusing a deleted number', async () => {
    const reg = store.registry;
    await reg.createRegisteredModel('clf', [{ key: 'team', value: 'a' }]);
    await rejectsWith(reg.createRegisteredModel('clf', []), 'RESOURCE_ALREADY_EXISTS', /Registered Model \(name=clf\) already exists/);
    const v1 = await reg.createModelVersion({ name: 'clf', source: `models:/${modelId}`, modelId, tags: [] });
    assert.equal(v1.version, '1');
    assert.equal(v1.run_id, runId, 'a version from a logged model inherits its run');
    assert.equal(await reg.getDownloadUri('clf', '1'), (await store.loggedModels.get(modelId)).info.artifact_uri);
    const v2 = await reg.createModelVersion({ name: 'clf', source: `runs:/${runId}/model`, runId, tags: [] });
    assert.equal(v2.version, '2');
    await reg.deleteModelVersion('clf', '2');
    const v3 = await reg.createModelVersion({ name: 'clf', source: 's3://bucket/model', tags: [] });
    assert.equal(v3.version, '3');
    assert.deepEqual(
      (await store.loggedModels.get(modelId)).info.registrations,
      [{ name: 'clf', version: '1' }],
    );
  });

  it('moves versions through stages and resolves aliases', async () => {
    const reg = store.registry;
    await reg.transitionStage('clf', '1', 'production', false);
    await reg.transitionStage('clf', '3', 'Production', true);
    assert.equal((await reg.getModelVersion('clf', '1')).current_stage, 'Archived');
    await rejectsWith(() => reg.transitionStage('clf', '1', 'Archived', true), 'INVALID_PARAMETER_VALUE', /not an Active stage/);
    await rejectsWith(() => reg.transitionStage('clf', '1', 'Shipping', false), 'INVALID_PARAMETER_VALUE', /Invalid Model Version stage/);
    await reg.setAlias('clf', 'champion', '3');
    assert.equal((await reg.getVersionByAlias('clf', 'champion')).version, '3');
    await rejectsWith(() => reg.setAlias('clf', 'v2', '3'), 'INVALID_PARAMETER_VALUE');
    await rejectsWith(() => reg.getVersionByAlias('clf', 'nope'), 'INVALID_PARAMETER_VALUE', /alias nope not found/);
  });

  it('refuses version sources that could reach outside the store', async () => {
    const reg = store.registry;
    await rejectsWith(() => reg.createModelVersion({ name: 'clf', source: 'runs:/x/../../etc', runId: 'x', tags: [] }), 'INVALID_PARAMETER_VALUE', /without relative path references/);
    await rejectsWith(() => reg.createModelVersion({ name: 'clf', source: '/etc/passwd', tags: [] }), 'INVALID_PARAMETER_VALUE', /local path/);
  });

  it('survives a restart from the journal alone, then from a snapshot', async () => {
    await store.registry.renameRegisteredModel('clf', 'classifier');
    for (const checkpoint of [false, true]) {
      await store.close({ checkpoint });
      store = await openStore(root);
      const m = (await store.registry.getRegisteredModel('classifier'));
      assert.deepEqual(m.aliases, [{ alias: 'champion', version: '3' }]);
      assert.deepEqual(m.tags, [{ key: 'team', value: 'a' }]);
      assert.deepEqual(
        m.latest_versions.filter((v) => v.current_stage !== 'None').map((v) => [v.version, v.current_stage]),
        [
          ['1', 'Archived'],
          ['3', 'Production'],
        ],
      );
      const next = await store.registry.createModelVersion({ name: 'classifier', source: 's3://b/m', tags: [] });
      assert.equal(next.version, checkpoint ? '5' : '4');
      assert.equal((await store.loggedModels.get(modelId)).data.metrics.length, 1);
    }
  });
});
