import * as assert from 'node:assert/strict';
import { MlflowError } from '../../src/domain/errors';
import type { LocalStore } from '../../src/store/localStore';
import type { Run } from '../../src/domain/types';
import { openStore, tempRoot } from './helpers';

describe('runs search', () => {
  let store: LocalStore;
  let exp: string;
  const ids: Record<string, string> = {};

  before(async () => {
    store = await openStore(tempRoot());
    exp = await store.createExperiment('search');
    const rows: [string, number, string, number | undefined, string][] = [
      // name, start_time, model param, accuracy metric, status
      ['r1', 1000, 'rf', 0.91, 'FINISHED'],
      ['r2', 2000, 'xgb', 0.85, 'FINISHED'],
      ['r3', 3000, 'rf', NaN, 'FAILED'],
      ['r4', 4000, 'lr', undefined, 'RUNNING'],
      ['r5', 5000, 'RF', 0.5, 'FINISHED'],
    ];
    for (const [name, start, model, acc, status] of rows) {
      const run = await store.createRun({ experimentId: exp, runName: name, startTime: start, userId: name === 'r2' ? 'bob' : 'ada' });
      ids[name] = run.info.run_id;
      await store.logBatch(run.info.run_id, {
        params: [{ key: 'model', value: model }],
        tags: [{ key: 'team', value: name === 'r1' ? 'vision' : 'nlp' }, { key: 'dotted.key', value: name }],
        metrics: acc === undefined ? [] : [{ key: 'acc', value: acc, timestamp: start, step: 0 }],
      });
      await store.updateRun(run.info.run_id, { status: status as Run['info']['status'] });
    }
    await store.logInputs(ids.r2!, [{ tags: [{ key: 'mlflow.data.context', value: 'train' }], dataset: { name: 'iris', digest: 'd1', source_type: 'code', source: 's' } }], []);
    await store.deleteRun(ids.r5!);
  });
  after(async () => {
    await store.close();
  });

  async function names(filter?: string, orderBy?: string[], viewType?: 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL'): Promise<string[]> {
    const page = await store.searchRuns({ experimentIds: [exp], filter, orderBy, viewType });
    return page.items.map((r) => r.info.run_name);
  }

  it('defaults to active runs ordered by start_time DESC', async () => {
    assert.deepEqual(await names(), ['r4', 'r3', 'r2', 'r1']);
    assert.deepEqual(await names(undefined, undefined, 'ALL'), ['r5', 'r4', 'r3', 'r2', 'r1']);
    assert.deepEqual(await names(undefined, undefined, 'DELETED_ONLY'), ['r5']);
  });

  it('filters metrics numerically; NaN and missing never match except NaN for !=', async () => {
    assert.deepEqual(await names('metrics.acc > 0.8'), ['r2', 'r1']);
    assert.deepEqual(await names('metrics.acc >= 0.85'), ['r2', 'r1']);
    assert.deepEqual(await names('metrics.acc = 0.91'), ['r1']);
    assert.deepEqual(await names('metrics.acc != 0.91'), ['r3', 'r2']);
    assert.deepEqual(await names('metrics.acc < 0'), []);
  });

  it('filters params and tags with =, !=, LIKE (case-sensitive) and ILIKE', async () => {
    assert.deepEqual(await names("params.model = 'rf'"), ['r3', 'r1']);
    assert.deepEqual(await names("params.model != 'rf'"), ['r4', 'r2']);
    assert.deepEqual(await names("params.model LIKE 'r%'"), ['r3', 'r1']);
    assert.deepEqual(await names("params.model ILIKE 'R%'", undefined, 'ALL'), ['r5', 'r3', 'r1']);
    assert.deepEqual(await names("params.model LIKE '_g'"), []);
    assert.deepEqual(await names("params.model LIKE 'x_b'"), ['r2']);
    assert.deepEqual(await names("tags.team = 'vision'"), ['r1']);
    assert.deepEqual(await names("tags.`dotted.key` = 'r3'"), ['r3']);
    assert.deepEqual(await names("tags.dotted.key = 'r4'"), ['r4']);
    assert.deepEqual(await names("tags.mlflow.runName = 'r2'"), ['r2']);
  });

  it('combines clauses with AND', async () => {
    assert.deepEqual(await names("metrics.acc > 0.8 AND params.model = 'rf'"), ['r1']);
    assert.deepEqual(await names("params.model = 'rf' and tags.team = 'nlp' and attributes.status = 'FAILED'"), ['r3']);
  });

  // As a real `mlflow server` (3.x): whether the run has the key at all; '' is a value, not NULL.
  it('filters params and tags with IS NULL / IS NOT NULL, any case, combined with other clauses', async () => {
    await store.logParam(ids.r2!, { key: 'extra', value: '' });
    await store.setTag(ids.r3!, { key: 'only3', value: 'x' });
    assert.deepEqual(await names('params.extra IS NOT NULL'), ['r2']);
    assert.deepEqual(await names('params.extra IS NULL'), ['r4', 'r3', 'r1']);
    assert.deepEqual(await names('tags.only3 is not null'), ['r3']);
    assert.deepEqual(await names('tags.`only3` is null AND params."extra" IS NULL'), ['r4', 'r1']);
    assert.deepEqual(await names("params.extra IS NULL AND params.model = 'rf'"), ['r3', 'r1']);
    assert.deepEqual(await names('tags.mlflow.runName IS NOT NULL', ['params.extra DESC']), ['r2', 'r4', 'r3', 'r1']);
    assert.deepEqual(await names('params.nope IS NOT NULL'), []);
    for (const [filter, message] of [
      ['metrics.acc IS NULL', "IS NULL / IS NOT NULL is only supported for tags and params, not for 'metric' 'acc'"],
      ['attributes.run_name IS NOT NULL', "IS NULL / IS NOT NULL is only supported for tags and params, not for 'attribute' 'run_name'"],
      ['run_name IS NULL', "IS NULL / IS NOT NULL is only supported for tags and params, not for 'attribute' 'run_name'"],
      ['datasets.name IS NULL', "IS NULL / IS NOT NULL is only supported for tags and params, not for 'dataset' 'name'"],
    ]) {
      await assert.rejects(store.searchRuns({ experimentIds: [exp], filter }), (err: unknown) => {
        assert.ok(err instanceof MlflowError);
        assert.equal(err.errorCode, 'INVALID_PARAMETER_VALUE');
        assert.equal(err.message, message);
        return true;
      });
    }
    for (const filter of ["params.extra IS 'x'", 'params.extra IS', 'params.extra IS NOT']) {
      await assert.rejects(store.searchRuns({ experimentIds: [exp], filter }), (err: unknown) => err instanceof MlflowError && err.errorCode === 'INVALID_PARAMETER_VALUE');
    }
  });

  it('filters attributes, including run_id IN lists and numeric times', async () => {
    assert.deepEqual(await names("attributes.status = 'RUNNING'"), ['r4']);
    assert.deepEqual(await names("status != 'FINISHED'"), ['r4', 'r3']);
    assert.deepEqual(await names("attributes.run_name = 'r2'"), ['r2']);
    assert.deepEqual(await names("run_name LIKE 'r%' AND attributes.user_id = 'bob'"), ['r2']);
    assert.deepEqual(await names(`attributes.run_id IN ('${ids.r1}', '${ids.r3}')`), ['r3', 'r1']);
    assert.deepEqual(await names(`attributes.run_id NOT IN ('${ids.r1}')`), ['r4', 'r3', 'r2']);
    assert.deepEqual(await names(`attributes.run_id IN ('${ids.r1!.toUpperCase()}')`), []);
    assert.deepEqual(await names('attributes.start_time >= 2000 AND attributes.start_time < 4000'), ['r3', 'r2']);
    assert.deepEqual(await names('created > 3500'), ['r4']);
    assert.deepEqual(await names("attributes.artifact_uri LIKE '%artifacts'"), ['r4', 'r3', 'r2', 'r1']);
  });

  it('filters datasets by name, digest and context', async () => {
    assert.deepEqual(await names("datasets.name = 'iris'"), ['r2']);
    assert.deepEqual(await names("dataset.digest IN ('d1', 'd2')"), ['r2']);
    assert.deepEqual(await names("datasets.context = 'train'"), ['r2']);
    assert.deepEqual(await names("datasets.context = 'eval'"), []);
  });

  it('orders by metrics with NaN after numbers and missing last, in both directions', async () => {
    assert.deepEqual(await names(undefined, ['metrics.acc ASC']), ['r2', 'r1', 'r3', 'r4']);
    assert.deepEqual(await names(undefined, ['metrics.acc DESC']), ['r1', 'r2', 'r3', 'r4']);
  });

  it('orders by params, tags and attributes, with run_id as the final tie-break', async () => {
    assert.deepEqual(await names(undefined, ['params.model ASC', 'start_time ASC']), ['r4', 'r1', 'r3', 'r2']);
    assert.deepEqual(await names(undefined, ['tags.team DESC']), ['r1', 'r4', 'r3', 'r2']);
    assert.deepEqual(await names(undefined, ['attributes.run_name DESC']), ['r4', 'r3', 'r2', 'r1']);
    assert.deepEqual(await names(undefined, ['start_time ASC']), ['r1', 'r2', 'r3', 'r4']);
  });

  it('pages with opaque tokens until exhausted', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await store.searchRuns({ experimentIds: [exp], maxResults: 3, pageToken: token, viewType: 'ALL' });
      seen.push(...page.items.map((r) => r.info.run_name));
      token = page.nextPageToken;
    } while (token);
    assert.deepEqual(seen, ['r5', 'r4', 'r3', 'r2', 'r1']);
  });

  it('rejects bad filters, comparators, value types and keys with INVALID_PARAMETER_VALUE', async () => {
    const cases: [string | undefined, string[] | undefined, RegExp][] = [
      ["metrics.acc > '0.5'", undefined, /Expected numeric value type for metric/],
      ['params.model = 5', undefined, /Expected a quoted string value for parameter/],
      ["params.model > 'a'", undefined, /Invalid comparator '>' for parameters/],
      ["metrics.acc LIKE '1'", undefined, /Invalid comparator 'LIKE' for metrics/],
      ["attributes.status IN ('A')", undefined, /Only the 'run_id' attribute supports comparison with a list/],
      ["attributes.nope = 'x'", undefined, /Invalid attribute key 'nope'/],
      ["foo.bar = 'x'", undefined, /Invalid entity type 'foo'/],
      ["datasets.size = 'x'", undefined, /Invalid dataset key 'size'/],
      ["attributes.start_time = 'x'", undefined, /Expected numeric value type for numeric attribute: start_time/],
      [undefined, ['metrics.acc', 'metrics.acc DESC'], /duplicate fields/],
      [undefined, ['attributes.nope'], /not an orderable attribute/],
    ];
    for (const [filter, orderBy, message] of cases) {
      await assert.rejects(store.searchRuns({ experimentIds: [exp], filter, orderBy }), (err: unknown) => {
        assert.ok(err instanceof MlflowError);
        assert.equal(err.errorCode, 'INVALID_PARAMETER_VALUE');
        assert.match(err.message, message);
        return true;
      }, `filter ${filter} / order ${String(orderBy)}`);
    }
    await assert.rejects(store.searchRuns({ experimentIds: [exp], pageToken: 'not-a-token' }), /Invalid page token/);
    await assert.rejects(store.searchRuns({ experimentIds: [exp], maxResults: 50001 }), /at most 50000/);
  });

  it('binds hostile strings as values, never as SQL', async () => {
    const hostile = ["x' OR '1'='1", "'); DROP TABLE runs; --", '%', "\\'", 'Robert"); DELETE FROM params;--'];
    for (const h of hostile) {
      const escaped = h.replace(/\\/g, '\\\\').replace(/'/g, "''");
      assert.deepEqual(await names(`params.model = '${escaped}'`), []);
      assert.deepEqual(await names(`tags.\`${h.replace(/`/g, '')}\` = 'x'`), []);
    }
    assert.equal((await names()).length, 4, 'runs table intact');
  });

  it('searches experiments by name, tag and time with ordering and paging', async () => {
    await store.createExperiment('alpha-exp', undefined, [{ key: 'owner', value: 'ada' }]);
    await store.createExperiment('beta-exp');
    const names = async (filter?: string, orderBy?: string[]) =>
      (await store.searchExperiments({ filter, orderBy })).items.map((e) => e.name);
    assert.deepEqual(await names("name LIKE '%-exp'", ['name DESC']), ['beta-exp', 'alpha-exp']);
    assert.deepEqual(await names("tags.owner = 'ada'"), ['alpha-exp']);
    assert.deepEqual(await names("attribute.name ILIKE 'ALPHA%'"), ['alpha-exp']);
    assert.deepEqual((await names('creation_time > 0')).length, 4);
    const first = await store.searchExperiments({ maxResults: 2, orderBy: ['name ASC'] });
    const second = await store.searchExperiments({ maxResults: 2, orderBy: ['name ASC'], pageToken: first.nextPageToken });
    assert.deepEqual([...first.items, ...second.items].map((e) => e.name), ['Default', 'alpha-exp', 'beta-exp', 'search']);
    assert.equal(second.nextPageToken, undefined);
    await assert.rejects(store.searchExperiments({ filter: "params.x = 'y'" }), /Invalid entity type 'params'/);
  });
});
