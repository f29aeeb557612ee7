import * as assert from 'node:assert/strict';
import { columnsOf, downsampleSeries } from '../../src/domain/seriesDownsample';
import { call, startTestServer, type TestServer } from './helpers';

describe('chart series downsampling', () => {
  it('returns every point sorted by x when the series is short', () => {
    const s = downsampleSeries(columnsOf([{ step: 2, timestamp: 20, value: 3 }, { step: 1, timestamp: 10, value: 1 }]), 'step', 10);
    assert.equal(s.downsampled, false);
    assert.deepEqual(s.points.map((p) => [p.x, p.value]), [[1, 1], [2, 3]]);
  });

  it('keeps the extremes of every bucket (a spike survives) and the last value per bucket', () => {
    const points = Array.from({ length: 100_000 }, (_, i) => ({ step: i, timestamp: 1000 + i, value: i === 54_321 ? 1e6 : Math.sin(i / 1000) }));
    points.reverse(); // logging order must not matter
    const s = downsampleSeries(columnsOf(points), 'step', 1000);
    assert.equal(s.downsampled, true);
    assert.equal(s.total, 100_000);
    assert.ok(s.points.length <= 1000 && s.points.length >= 990);
    assert.ok(s.points.some((p) => p.max === 1e6), 'the spike is in an envelope');
    assert.equal(s.points.reduce((n, p) => n + p.count, 0), 100_000);
    for (let i = 1; i < s.points.length; i++) assert.ok(s.points[i]!.x > s.points[i - 1]!.x);
    const last = s.points[s.points.length - 1]!;
    assert.equal(last.x, 99_999);
    assert.equal(last.value, Math.sin(99_999 / 1000));
  });

  it('restricts to [from, to] and handles NaN-only buckets', () => {
    const points = [...Array.from({ length: 50 }, (_, i) => ({ step: i, timestamp: i, value: NaN })), ...Array.from({ length: 50 }, (_, i) => ({ step: 50 + i, timestamp: 50 + i, value: i }))];
    const s = downsampleSeries(columnsOf(points), 'timestamp', 10, 0, 99);
    assert.ok(Number.isNaN(s.points[0]!.min));
    const ranged = downsampleSeries(columnsOf(points), 'step', 1000, 60, 69);
    assert.deepEqual(ranged.points.map((p) => p.x), [60, 61, 62, 63, 64, 65, 66, 67, 68, 69]);
  });

  describe('GET /runlens/api/metric-series', () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer();
    });
    after(async () => {
      await t.close();
    });

    it('serves a downsampled series and MLflow errors for bad input', async () => {
      const base = t.server.url;
      const run = (await call(base, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: '0' })).body.run as { info: { run_id: string } };
      const id = run.info.run_id;
      const metrics = Array.from({ length: 1000 }, (_, i) => ({ key: 'loss', value: i === 500 ? -5 : 1 / (i + 1), timestamp: 1000 + i, step: i }));
      assert.equal((await call(base, 'POST', '/api/2.0/mlflow/runs/log-batch', { run_id: id, metrics })).status, 200);
      const res = await call(base, 'GET', `/runlens/api/metric-series?run_id=${id}&metric_key=loss&buckets=100`);
      assert.equal(res.status, 200);
      assert.equal(res.body.total_points, 1000);
      assert.equal(res.body.downsampled, true);
      const pts = res.body.points as { x: number; min: number; count: number }[];
      assert.equal(pts.length, 100);
      assert.ok(pts.some((p) => p.min === -5));
      const byTime = await call(base, 'GET', `/runlens/api/metric-series?run_id=${id}&metric_key=loss&x=timestamp&buckets=5000`);
      assert.equal((byTime.body.points as unknown[]).length, 1000);
      const bad = await call(base, 'GET', `/runlens/api/metric-series?run_id=${id}&metric_key=loss&buckets=1`);
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error_code, 'INVALID_PARAMETER_VALUE');
      const missing = await call(base, 'GET', `/runlens/api/metric-series?run_id=nope&metric_key=loss`);
      assert.equal(missing.status, 404);
      const noKey = await call(base, 'GET', `/runlens/api/metric-series?run_id=${id}&metric_key=absent`);
      assert.deepEqual(noKey.body.points, []);
    });
  });
});
