import * as assert from 'node:assert/strict';
import { withModelVersion } from '../../src/store/models/modelVersionsTag';
import { openStore, tempRoot } from './helpers';

// Format and growth checked against a real `mlflow server` (3.17.2): Python json.dumps, int versions.
describe('the mlflow.modelVersions tag of a logged model', () => {
  it('lists each version created from the model once, as Python json.dumps writes it', () => {
    const one = withModelVersion(undefined, 'reg', 1);
    assert.equal(one, '[{"name": "reg", "version": 1}]');
    assert.equal(withModelVersion(one, 'reg', 1), one, 'an entry already there is not added again');
    assert.equal(withModelVersion(one, 'régua', 2), '[{"name": "reg", "version": 1}, {"name": "r\\u00e9gua", "version": 2}]');
    assert.equal(withModelVersion('not json', 'reg', 3), '[{"name": "reg", "version": 3}]');
  });

  it('is set by model version creation with model_id, in the same journal record, and replays', async () => {
    const root = tempRoot();
    let store = await openStore(root);
    const exp = await store.createExperiment('mv-tags');
    const model = await store.loggedModels.create({ experimentId: exp, params: [], tags: [] });
    const id = model.info.model_id;
    await store.registry.createRegisteredModel('a', []);
    await store.registry.createRegisteredModel('b', []);
    for (const name of ['a', 'a', 'b']) await store.registry.createModelVersion({ name, source: `models:/${id}`, modelId: id, tags: [] });
    await store.registry.createModelVersion({ name: 'b', source: 's3://bucket/elsewhere', tags: [] });
    const expected = '[{"name": "a", "version": 1}, {"name": "a", "version": 2}, {"name": "b", "version": 1}]';
    const tag = async (): Promise<string | undefined> => (await store.loggedModels.get(id)).info.tags.find((t) => t.key === 'mlflow.modelVersions')?.value;
    assert.equal(await tag(), expected);
    await store.close({ checkpoint: false });
    store = await openStore(root);
    assert.equal(await tag(), expected, 'replayed from the journal');
    await store.close();
  });
});
