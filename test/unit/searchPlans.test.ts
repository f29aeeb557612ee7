/**
 * The runs search compiler picks between plans (index walk in groups vs one sorted query; EXISTS
 * vs IN for filter sets) from a probe of the data. Every plan must return the same runs in the
 * same order, page by page: this checks them against each other on a store with ties, NaNs,
 * missing keys and deleted runs.
 */
import * as assert from 'node:assert/strict';
import type { LocalStore } from '../../src/store/localStore';
import { compileRunSearch, type SearchProbe } from '../../src/store/search/runSearch';
import type { SqlDb } from '../../src/store/sqlite';
import { openStore, tempRoot } from './helpers';

const PLANS: Record<string, (db: SqlDb) => SearchProbe> = {
  'small sets (IN, one sorted query)': () => ({ countUpTo: () => 0 }),
  'large sets (EXISTS, grouped index walk)': () => ({ countUpTo: (_sql, _params, cap) => cap }),
  'large sets, split per param/tag value (EXISTS per value)': (db) => ({ countUpTo: (_sql, _params, cap) => cap, column: (sql, params) => db.rows(sql, params).map((r) => r[0]!) }),
  'small sets, split per param/tag value (IN per value)': (db) => ({
    // Filter sets large (EXISTS), each value's set small (IN, sorted): the mixed plan.
    countUpTo: (sql, _params, cap) => (/x\.value = \?$/.test(sql) ? 0 : cap),
    column: (sql, params) => db.rows(sql, params).map((r) => r[0]!),
  }),
};

describe('runs search plans agree', () => {
  let store: LocalStore;
  let db: SqlDb;
  let exp: number;

  before(async () => {
    store = await openStore(tempRoot());
    db = (store as unknown as { db: SqlDb }).db;
    exp = Number(await store.createExperiment('plans'));
    let seed = 7;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 240; i++) {
      const run = await store.createRun({ experimentId: String(exp), runName: `run-${i % 37}`, startTime: 1000 + (i % 50) });
      const metrics = [];
      const r = rnd();
      if (r < 0.7) metrics.push({ key: 'acc', value: Math.round(rnd() * 20) / 20, timestamp: 1, step: 0 });
      else if (r < 0.8) metrics.push({ key: 'acc', value: NaN, timestamp: 1, step: 0 });
      if (rnd() < 0.8) metrics.push({ key: 'loss', value: Math.round(rnd() * 10), timestamp: 1, step: 0 });
      const params = rnd() < 0.85 ? [{ key: 'model', value: ['cnn', 'mlp', 'rnn'][i % 3]! }] : [];
      const tags = rnd() < 0.5 ? [{ key: 'team', value: i % 2 ? 'a' : 'b' }] : [];
      await store.logBatch(run.info.run_id, { metrics, params, tags });
      if (i % 11 === 0) await store.deleteRun(run.info.run_id);
    }
  });
  after(() => store.close());

  const cases: [string | undefined, string[] | undefined][] = [
    [undefined, undefined],
    [undefined, ['metrics.acc DESC']],
    [undefined, ['metrics.acc ASC']],
    ['metrics.acc > 0.3', ['metrics.acc DESC', 'params.model ASC']],
    ["params.model = 'cnn'", ['metrics.loss ASC', 'metrics.acc DESC']],
    ["tags.team = 'a' and metrics.loss >= 2", ['params.model DESC']],
    [undefined, ['tags.team ASC', 'attributes.run_name DESC']],
    ["attributes.run_name LIKE 'run-1%'", ['metrics.acc ASC']],
    ['metrics.acc != 0.5', ['attributes.start_time ASC', 'metrics.loss DESC']],
    [undefined, ['params.model ASC', 'metrics.loss DESC']],
    [undefined, ['params.model DESC', 'metrics.acc ASC', 'tags.team DESC']],
    ['metrics.loss >= 1', ['tags.team DESC', 'params.model ASC']],
    [undefined, ['tags.team ASC', 'attributes.start_time ASC']],
  ];

  for (const [filter, orderBy] of cases) {
    it(`${filter ?? '(no filter)'} ORDER BY ${orderBy?.join(', ') ?? '(default)'}`, () => {
      for (const viewType of ['ACTIVE_ONLY', 'ALL'] as const) {
        const results = Object.entries(PLANS).map(([plan, probe]) => {
          const pages: number[] = [];
          for (let offset = 0; ; offset += 17) {
            const q = compileRunSearch({ experimentIds: [exp], filter, viewType, orderBy, limit: 17, offset }, probe(db));
            const ids = db.rows(q.sql, q.params).map((r) => r[0] as number);
            pages.push(...ids.slice(0, 17));
            if (ids.length <= 17) break;
          }
          return { plan, pages };
        });
        const full = compileRunSearch({ experimentIds: [exp], filter, viewType, orderBy, limit: 1000, offset: 0 }, { countUpTo: () => 0 });
        const expected = db.rows(full.sql, full.params).map((r) => r[0] as number);
        assert.ok(expected.length > 10, 'the case should match a good number of runs');
        for (const { plan, pages } of results) assert.deepEqual(pages, expected, `${plan}, ${viewType}`);
      }
    });
  }
});
