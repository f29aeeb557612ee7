import * as assert from 'node:assert/strict';
import { MlflowError } from '../../src/domain/errors';
import type { LocalStore } from '../../src/store/localStore';
import { pyJson } from '../../src/domain/pyJsonValue';
import { openStore, tempRoot } from './helpers';

async function rejectsWith(p: Promise<unknown> | (() => unknown), code: string, pattern?: RegExp): Promise<void> {
  const run = typeof p === 'function' ? Promise.resolve().then(p) : p;
  await assert.rejects(run, (err: unknown) => err instanceof MlflowError && err.errorCode === code && (!pattern || pattern.test(err.message)));
}

/** Everything a client can read about the store's datasets and scorers, for before/after checks. */
async function snapshot(store: LocalStore, exp: string): Promise<unknown> {
  const ds = (await store.evalDatasets.search({ experimentIds: [] })).items;
  return {
    datasets: ds,
    records: await Promise.all(ds.map(async (d) => (await store.evalDatasets.records(d.dataset_id, undefined, undefined)).records)),
    links: await Promise.all(ds.map((d) => store.evalDatasets.experimentIds(d.dataset_id))),
    scorers: (await store.scorers.list(exp)),
    versions: (await store.scorers.versions(exp, 'judge')),
  };
}

describe('evaluation datasets and scorers', () => {
  let root: string;
  let store: LocalStore;
  let exp: string;
  let other: string;

  before(async () => {
    root = tempRoot();
    store = await openStore(root);
    exp = await store.createExperiment('genai');
    other = await store.createExperiment('genai-2');
  });
  after(() => store.close());

  it('upserts records by their inputs, merging expectations and tags', async () => {
    const d = await store.evalDatasets.create('qa', [exp], JSON.stringify({ 'mlflow.user': 'bob', team: 'a' }));
    assert.match(d.dataset_id, /^d-[0-9a-f]{32}$/);
    assert.deepEqual(d.experiment_ids, [exp]);
    assert.equal(d.created_by, 'bob');
    const first = await store.evalDatasets.upsertRecords(
      d.dataset_id,
      JSON.stringify([
        { inputs: { q: 'a', n: 1 }, expectations: { answer: 'x' } },
        { inputs: { q: 'b' }, outputs: 'text', source: { source_type: 'trace', source_data: { trace_id: 'tr-1' } } },
      ]),
    );
    assert.deepEqual(first, { inserted: 2, updated: 0 });
    // Key order of the inputs does not matter; the later record in a batch updates the earlier.
    const second = await store.evalDatasets.upsertRecords(
      d.dataset_id,
      JSON.stringify([{ inputs: { n: 1, q: 'a' }, expectations: { more: true }, tags: { 'mlflow.user': 'al' } }, { inputs: { q: 'c' } }, { inputs: { q: 'c' }, outputs: null }]),
    );
    assert.deepEqual(second, { inserted: 1, updated: 2 });
    const records = (await store.evalDatasets.records(d.dataset_id, undefined, undefined)).records;
    const byQ = new Map(records.map((r) => [r.inputs.q, r]));
    assert.deepEqual(byQ.get('a')!.expectations, { answer: 'x', more: true });
    assert.equal(byQ.get('a')!.last_updated_by, 'al');
    assert.equal(byQ.get('b')!.source_id, 'tr-1');
    assert.equal(byQ.get('b')!.source_type, 'TRACE');
    assert.equal('outputs' in byQ.get('c')!, false);
    const got = (await store.evalDatasets.get(d.dataset_id));
    assert.equal(got.profile, '{"num_records": 3}');
    assert.equal(got.last_updated_by, 'al');
    assert.deepEqual(JSON.parse(got.schema!), {
      inputs: { q: 'string', n: 'integer' },
      outputs: 'string',
      expectations: { answer: 'string', more: 'boolean' },
      version: '1.0',
    });
    await rejectsWith(store.evalDatasets.upsertRecords('d-nope', '[]'), 'BAD_REQUEST');
    await rejectsWith(store.evalDatasets.upsertRecords(d.dataset_id, '{"inputs": {}}'), 'INVALID_PARAMETER_VALUE');
  });

  it('pages records by a (created_time, id) cursor', async () => {
    const d = await store.evalDatasets.create('paged', [], undefined);
    await store.evalDatasets.upsertRecords(d.dataset_id, JSON.stringify([1, 2, 3, 4, 5].map((i) => ({ inputs: { i } }))));
    const seen: number[] = [];
    let token: string | undefined;
    do {
      const page = (await store.evalDatasets.records(d.dataset_id, 2, token));
      seen.push(...page.records.map((r) => Number(r.inputs.i)));
      token = page.nextPageToken;
    } while (token);
    assert.deepEqual(seen.sort(), [1, 2, 3, 4, 5]);
  });

  it('registers scorer versions and deletes one or all', async () => {
    const ser = JSON.stringify({ name: 'judge', builtin_scorer_class: 'RelevanceToQuery', builtin_scorer_pydantic_data: { name: 'judge' } });
    const v1 = await store.scorers.register(exp, 'judge', ser);
    const v2 = await store.scorers.register(exp, 'judge', ser);
    assert.equal(v1.scorer_id, v2.scorer_id);
    assert.deepEqual([v1.scorer_version, v2.scorer_version], [1, 2]);
    await store.scorers.register(exp, 'gone', ser);
    await store.scorers.delete(exp, 'gone');
    await rejectsWith(store.scorers.register(exp, 'x', JSON.stringify({ call_source: 'return 1' })), 'INVALID_PARAMETER_VALUE', /Custom scorer registration/);
    await rejectsWith(async () => (await store.scorers.get(exp, 'judge', 7)), 'RESOURCE_DOES_NOT_EXIST', /version 7 not found/);
    assert.deepEqual(
      (await store.scorers.list(exp)).map((s) => [s.scorer_name, s.scorer_version]),
      [['judge', 2]],
    );
  });

  it('keeps datasets, records, links and scorers across restarts without and with a checkpoint', async () => {
    const d = (await store.evalDatasets.search({ experimentIds: [exp] })).items[0]!;
    await store.evalDatasets.setTags(d.dataset_id, JSON.stringify({ stage: 'dev', n: 3, skip: null }));
    await store.evalDatasets.deleteTag(d.dataset_id, 'team');
    await store.evalDatasets.addToExperiments(d.dataset_id, [other]);
    await store.evalDatasets.removeFromExperiments(d.dataset_id, [exp]);
    const recs = (await store.evalDatasets.records(d.dataset_id, undefined, undefined)).records;
    assert.equal(await store.evalDatasets.deleteRecords(d.dataset_id, [recs[0]!.dataset_record_id, 'dr-nope']), 1);
    const temp = await store.evalDatasets.create('temp', [exp], undefined);
    await store.evalDatasets.delete(temp.dataset_id);
    await store.scorers.delete(exp, 'judge', 1);
    const before = await snapshot(store, exp);
    for (const checkpoint of [false, true]) {
      await store.close({ checkpoint });
      store = await openStore(root);
      assert.deepEqual(await snapshot(store, exp), before);
    }
    const tags = JSON.parse((await store.evalDatasets.get(d.dataset_id)).tags) as Record<string, string>;
    assert.deepEqual(tags, { 'mlflow.user': 'bob', stage: 'dev', n: '3' });
    assert.deepEqual((await store.evalDatasets.experimentIds(d.dataset_id)), [other]);
    // Numbering continues from the replayed state.
    assert.equal((await store.scorers.register(exp, 'judge', '{}')).scorer_version, 3);
  });

  it('writes JSON text as Python json.dumps does', () => {
    assert.equal(pyJson({ a: [1, 2.5, null, true], 'é': 'ü' }), '{"a": [1, 2.5, null, true], "\\u00e9": "\\u00fc"}');
    assert.equal(pyJson({ b: 1, a: { d: 1, c: 2 } }, true), '{"a": {"c": 2, "d": 1}, "b": 1}');
  });
});
