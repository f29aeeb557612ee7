import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import type { LocalStore } from '../../src/store/localStore';
import { dedupeMetrics } from '../../src/store/runValidation';
import { SeriesFiles } from '../../src/store/seriesFiles';
import { recordIntact, SERIES_RECORD_BYTES, sealRecords } from '../../src/store/seriesRecord';
import type { MetricInput } from '../../src/domain/types';
import { openStore, tempRoot } from './helpers';

/** [step, timestamp, value] of a key's history, NaN as the string 'NaN' so deepEqual can see it. */
async function history(store: LocalStore, runId: string, key: string): Promise<[number, number, number | string][]> {
  const page = await store.getMetricHistory(runId, key);
  return page.items.map((m) => [m.step, m.timestamp, Number.isNaN(m.value) ? 'NaN' : m.value]);
}

const batch: MetricInput[] = [
  { key: 'loss', value: 0.5, timestamp: 1000, step: 0 },
  { key: 'loss', value: 0.25, timestamp: 1001, step: 1 },
  { key: 'nan', value: NaN, timestamp: 1000, step: 0 },
];

// MLflow's SQL store keeps one row per (key, timestamp, step, value, is_nan) of a run: a point
// identical to any earlier one is not stored again (checked against a real `mlflow server`).
describe('identical metric points are stored once per run, across requests', () => {
  let root: string;
  let store: LocalStore;
  beforeEach(async () => {
    root = tempRoot();
    store = await openStore(root);
  });
  afterEach(async () => {
    await store.close();
  });

  it('drops points a run already holds, keeping new ones of the same request', async () => {
    const { info } = await store.createRun({});
    await store.logBatch(info.run_id, { metrics: batch });
    await store.logBatch(info.run_id, { metrics: batch });
    await store.logMetric(info.run_id, { key: 'loss', value: 0.5, timestamp: 1000, step: 0 });
    await store.logBatch(info.run_id, { metrics: [...batch, { key: 'loss', value: 0.125, timestamp: 1002, step: 2 }] });
    assert.deepEqual(await history(store, info.run_id, 'loss'), [
      [0, 1000, 0.5],
      [1, 1001, 0.25],
      [2, 1002, 0.125],
    ]);
    assert.deepEqual(await history(store, info.run_id, 'nan'), [[0, 1000, 'NaN']], 'NaN duplicates are duplicates (is_nan)');
    const latest = (await store.getRun(info.run_id)).data.metrics.find((m) => m.key === 'loss');
    assert.deepEqual(latest, { key: 'loss', value: 0.125, timestamp: 1002, step: 2 });
  });

  it('tells apart points differing in any of value, step, timestamp or key; -0 equals 0; NaN differs from 0', async () => {
    const { info } = await store.createRun({});
    const base = { key: 'm', value: 1, timestamp: 10, step: 0 };
    await store.logBatch(info.run_id, { metrics: [base, { key: 'z', value: -0, timestamp: 5, step: 0 }, { key: 'n', value: NaN, timestamp: 5, step: 0 }] });
    await store.logBatch(info.run_id, {
      metrics: [
        { ...base, value: 2 },
        { ...base, step: 1 },
        { ...base, timestamp: 11 },
        { ...base, key: 'other' },
        { key: 'z', value: 0, timestamp: 5, step: 0 },
        { key: 'n', value: 0, timestamp: 5, step: 0 },
      ],
    });
    assert.deepEqual(await history(store, info.run_id, 'm'), [
      [0, 10, 1],
      [0, 10, 2],
      [1, 10, 1],
      [0, 11, 1],
    ]);
    assert.deepEqual(await history(store, info.run_id, 'other'), [[0, 10, 1]]);
    assert.deepEqual(await history(store, info.run_id, 'z'), [[0, 5, 0]]);
    assert.deepEqual(await history(store, info.run_id, 'n'), [
      [0, 5, 0],
      [0, 5, 'NaN'],
    ], 'a real 0 sorts before NaN on a tie, as MLflow returns them');
  });

  it('sees points of a request still being journaled (concurrent identical requests store one copy)', async () => {
    const { info } = await store.createRun({});
    await Promise.all([store.logBatch(info.run_id, { metrics: batch }), store.logBatch(info.run_id, { metrics: batch }), store.logBatch(info.run_id, { metrics: batch })]);
    assert.equal((await history(store, info.run_id, 'loss')).length, 2);
  });

  it('remembers the history across restarts, from the snapshot or from journal replay', async () => {
    const { info } = await store.createRun({});
    await store.logBatch(info.run_id, { metrics: batch });
    await store.close();
    store = await openStore(root);
    await store.logBatch(info.run_id, { metrics: batch });
    await store.logMetric(info.run_id, { key: 'loss', value: 0.75, timestamp: 1003, step: 3 });
    await store.close({ checkpoint: false });
    store = await openStore(root);
    await store.logBatch(info.run_id, { metrics: [...batch, { key: 'loss', value: 0.75, timestamp: 1003, step: 3 }] });
    assert.deepEqual(await history(store, info.run_id, 'loss'), [
      [0, 1000, 0.5],
      [1, 1001, 0.25],
      [3, 1003, 0.75],
    ]);
  });

  it('rebuilds an evicted run from its series file: the cache bound does not change the answer', async () => {
    await store.close();
    store = await openStore(root, { pointIndexCap: 10 });
    const runs = await Promise.all([0, 1, 2].map(() => store.createRun({})));
    const points = (i: number): MetricInput[] => Array.from({ length: 8 }, (_, s) => ({ key: 'k', value: s * i, timestamp: 100 + s, step: s }));
    for (let round = 0; round < 3; round++) {
      for (const [i, r] of runs.entries()) await store.logBatch(r.info.run_id, { metrics: points(i) });
    }
    for (const [i, r] of runs.entries()) {
      assert.deepEqual((await history(store, r.info.run_id, 'k')).map((p) => p[2]), points(i).map((p) => p.value));
    }
  });
});

describe('series file scans for the point index', () => {
  const records = (first: number, n: number): Buffer => {
    const buf = Buffer.alloc(n * SERIES_RECORD_BYTES);
    for (let i = 0; i < n; i++) {
      buf.writeUInt32LE(0, i * SERIES_RECORD_BYTES);
      buf.writeDoubleLE(first + i, i * SERIES_RECORD_BYTES + 8); // step = record index
      buf.writeDoubleLE(1, i * SERIES_RECORD_BYTES + 16);
      buf.writeDoubleLE(2, i * SERIES_RECORD_BYTES + 24);
    }
    sealRecords(buf);
    return buf;
  };

  it('visits written and in-flight records in bounded chunks, in order', async () => {
    const series = new SeriesFiles(path.join(tempRoot(), 'series'));
    const run = 'ab'.repeat(16);
    series.write({ runUuid: run, firstRecord: 0, records: records(0, 5) });
    series.expect({ runUuid: run, firstRecord: 5, records: records(5, 4) }); // journaled yet, not written
    const seen: number[] = [];
    const sizes: number[] = [];
    series.scanRecords(run, 9, (chunk, first) => {
      sizes.push(chunk.length / SERIES_RECORD_BYTES);
      const words = new Uint32Array(chunk.buffer, chunk.byteOffset, chunk.length / 4);
      for (let r = 0; r < chunk.length / SERIES_RECORD_BYTES; r++) {
        assert.ok(recordIntact(words, r), `record ${first + r}`);
        seen.push(chunk.readDoubleLE(r * SERIES_RECORD_BYTES + 8));
      }
    }, 4);
    assert.deepEqual(sizes, [4, 4, 1]);
    assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7, 8]);
    await series.close();
  });
});

describe('dedupeMetrics (one request)', () => {
  type Row = [string, number | string, number, number];

  it('drops only points equal in key, value, timestamp and step, keeping the first and the order', () => {
    const rows: Row[] = [
      ['loss', 1, 10, 0],
      ['loss', 1, 10, 0], // repeat
      ['loss', 2, 10, 0], // same step, other value
      ['loss', 1, 11, 0], // same step, other timestamp
      ['acc', 1, 10, 0], // other key
      ['loss', 'NaN', 10, 1],
      ['loss', 'NaN', 10, 1], // NaN repeats too (encoded as 'NaN')
      ['loss', 2, 10, 0], // repeat of the third
      ['loss', 1, 10, 2 ** 40], // a step past 32 bits
      ['loss', 1, 10, 2 ** 40],
    ];
    assert.deepEqual(dedupeMetrics(rows), [rows[0], rows[2], rows[3], rows[4], rows[5], rows[8]]);
  });

  it('returns the same array when nothing repeats', () => {
    const rows: Row[] = Array.from({ length: 1000 }, (_, i) => [`m${i % 10}`, i, 1000 + i, Math.floor(i / 10)]);
    assert.equal(dedupeMetrics(rows), rows);
    assert.equal(dedupeMetrics([rows[0]!]).length, 1);
  });
});
