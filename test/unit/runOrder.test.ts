/**
 * Every runs-search plan, page by page, against a plain comparator sort of all runs (the oracle
 * in test/support/runOrderOracle.ts): random stores with ties, NaN/±inf metrics, missing keys,
 * unterminated runs and deleted runs; random single and multi-key order_by lists in both
 * directions; with and without filters. Plans are forced with probes, so a 300-run store
 * exercises the index walks a 100k-run store would use.
 */
import * as assert from 'node:assert/strict';
import type { Run } from '../../src/domain/types';
import type { LocalStore } from '../../src/store/localStore';
import { compileRunSearch, type SearchProbe } from '../../src/store/search/runSearch';
import type { SqlDb } from '../../src/store/sqlite';
import { lcg, SHAPES } from '../support/searchShapes';
import { runComparator } from '../support/runOrderOracle';
import { openStore, tempRoot } from './helpers';

const PLANS: Record<string, (db: SqlDb) => SearchProbe> = {
  'the store probe': (db) => ({
    countUpTo: (sql, params, cap) => Number(db.value(`SELECT count(*) FROM (${sql} LIMIT ${cap})`, params)),
    column: (sql, params) => db.rows(sql, params).map((r) => r[0]!),
  }),
  'small sets, no value split': () => ({ countUpTo: () => 0 }),
  'large sets, no value split': () => ({ countUpTo: (_sql, _params, cap) => cap }),
  'large sets, split per value': (db) => ({ countUpTo: (_sql, _params, cap) => cap, column: (sql, params) => db.rows(sql, params).map((r) => r[0]!) }),
  'large filter sets, small value sets': (db) => ({
    countUpTo: (sql, _params, cap) => (/x\.value = \?$/.test(sql) ? 0 : cap),
    column: (sql, params) => db.rows(sql, params).map((r) => r[0]!),
  }),
};

/** A filter string and the same condition on a loaded run. */
const FILTERS: [string | undefined, (r: Run) => boolean][] = [
  [undefined, () => true],
  ['metrics.acc > 0.3', (r) => r.data.metrics.some((m) => m.key === 'acc' && m.value > 0.3)],
  ["params.model = 'cnn'", (r) => r.data.params.some((p) => p.key === 'model' && p.value === 'cnn')],
  ["tags.team != 'a'", (r) => r.data.tags.some((t) => t.key === 'team' && t.value !== 'a')],
  ["attributes.status = 'FINISHED'", (r) => r.info.status === 'FINISHED'],
];

const ORDER_POOL = [
  'attributes.run_name',
  'attributes.status',
  'attributes.start_time',
  'attributes.end_time',
  'attributes.user_id',
  'metrics.acc',
  'metrics.loss',
  'params.model',
  'params.lr',
  'tags.team',
  'tags.note',
];

const STATUSES = ['FINISHED', 'FAILED', 'KILLED', 'RUNNING', 'SCHEDULED'] as const;
const SPECIAL = [NaN, Infinity, -Infinity, Number.MAX_VALUE, -Number.MAX_VALUE, 0, -0.5];

async function seedRandom(store: LocalStore, exp: string, runs: number, rnd: () => number): Promise<string[]> {
  const ids: string[] = [];
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  for (let i = 0; i < runs; i++) {
    const startTime = 1000 + Math.floor(rnd() * 40); // many ties
    const run = await store.createRun({ experimentId: exp, runName: `r${Math.floor(rnd() * 30)}`, startTime, userId: pick(['ann', 'bob', '']) });
    const id = run.info.run_id;
    ids.push(id);
    const metrics = [];
    const a = rnd();
    if (a < 0.6) metrics.push({ key: 'acc', value: Math.round(rnd() * 10) / 10, timestamp: 1, step: 0 });
    else if (a < 0.8) metrics.push({ key: 'acc', value: pick(SPECIAL), timestamp: 1, step: 0 });
    if (rnd() < 0.7) metrics.push({ key: 'loss', value: Math.round(rnd() * 5), timestamp: 1, step: 0 });
    const params = [];
    if (rnd() < 0.85) params.push({ key: 'model', value: pick(['cnn', 'mlp', 'rnn', 'MLP', '']) });
    if (rnd() < 0.7) params.push({ key: 'lr', value: rnd().toFixed(2) });
    const tags = [];
    if (rnd() < 0.6) tags.push({ key: 'team', value: pick(['a', 'b', 'c']) });
    if (rnd() < 0.3) tags.push({ key: 'note', value: `n${Math.floor(rnd() * 100)}` });
    await store.logBatch(id, { metrics, params, tags });
    const status = pick(STATUSES);
    if (status !== 'RUNNING') await store.updateRun(id, rnd() < 0.8 ? { status, endTime: startTime + Math.floor(rnd() * 20) } : { status });
    if (rnd() < 0.08) await store.deleteRun(id);
  }
  return ids;
}

function randomOrderBy(rnd: () => number): string[] {
  const n = 1 + Math.floor(rnd() * 3);
  const pool = [...ORDER_POOL];
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const [item] = pool.splice(Math.floor(rnd() * pool.length), 1);
    const dir = rnd();
    out.push(dir < 0.4 ? `${item!} ASC` : dir < 0.8 ? `${item!} DESC` : item!);
  }
  return out;
}

for (const seed of [1, 2]) {
  describe(`runs search order = a plain sort of all runs (random store ${seed})`, () => {
    let store: LocalStore;
    let db: SqlDb;
    let exp: string;
    let runs: Run[];
    const uuidOf = new Map<number, string>();

    before(async () => {
      store = await openStore(tempRoot());
      db = (store as unknown as { db: SqlDb }).db;
      exp = await store.createExperiment(`oracle-${seed}`);
      const other = await store.createExperiment(`other-${seed}`);
      const rnd = lcg(seed);
      const ids = await seedRandom(store, exp, 260, rnd);
      await seedRandom(store, other, 20, rnd); // not searched: must never appear
      runs = await Promise.all(ids.map((id) => store.getRun(id)));
      for (const row of db.rows('SELECT id, run_uuid FROM runs')) uuidOf.set(row[0] as number, row[1] as string);
    });
    after(() => store.close());

    const rnd = lcg(100 + seed);
    const orders: (string[] | undefined)[] = [
      ...SHAPES.map((s) => s.orderBy),
      // A nullable attribute after a walked one: its missing values must still go last.
      ['attributes.run_name DESC', 'attributes.end_time ASC'],
      ['attributes.status', 'attributes.end_time DESC', 'metrics.acc'],
      ['tags.team DESC', 'attributes.end_time', 'params.model DESC'],
      ...Array.from({ length: 30 }, () => randomOrderBy(rnd)),
    ];
    for (const orderBy of orders) {
      it(`ORDER BY ${orderBy?.join(', ') ?? '(default)'}`, () => {
        const compare = runComparator(orderBy);
        for (const [filter, keep] of FILTERS) {
          for (const viewType of ['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL'] as const) {
            const stages = viewType === 'ACTIVE_ONLY' ? ['active'] : viewType === 'DELETED_ONLY' ? ['deleted'] : ['active', 'deleted'];
            const expected = runs
              .filter((r) => stages.includes(r.info.lifecycle_stage) && keep(r))
              .sort(compare)
              .map((r) => r.info.run_id);
            for (const [plan, probe] of Object.entries(PLANS)) {
              const got: string[] = [];
              const limit = 41;
              for (let offset = 0; ; offset += limit) {
                const q = compileRunSearch({ experimentIds: [Number(exp)], filter, viewType, orderBy, limit, offset }, probe(db));
                const ids = db.rows(q.sql, q.params).map((r) => uuidOf.get(r[0] as number)!);
                got.push(...ids.slice(0, limit));
                if (ids.length <= limit) break;
              }
              assert.deepEqual(got, expected, `${plan}; filter ${filter ?? '(none)'}; ${viewType}`);
            }
          }
        }
      });
    }

    it('pages through the store API with page tokens concatenate to the same order', async () => {
      for (const orderBy of orders.slice(0, 12)) {
        const expected = runs
          .filter((r) => r.info.lifecycle_stage === 'active')
          .sort(runComparator(orderBy))
          .map((r) => r.info.run_id);
        const got: string[] = [];
        let pageToken: string | undefined;
        do {
          const page = await store.searchRuns({ experimentIds: [exp], orderBy, maxResults: 23, pageToken });
          got.push(...page.items.map((r) => r.info.run_id));
          pageToken = page.nextPageToken;
        } while (pageToken);
        assert.deepEqual(got, expected, orderBy?.join(', ') ?? '(default)');
      }
    });
  });
}
