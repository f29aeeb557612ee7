import * as assert from 'node:assert/strict';
import { npmiFromCounts } from '../../src/domain/traceCorrelation';
import { aggregationLabel, validateMetricsQuery } from '../../src/store/traces/traceMetrics';
import type { MetricsQuery } from '../../src/backend/api/traces';

describe('trace metrics and filter correlation (MLflow 3.17.2)', () => {
  it('computes NPMI as MLflow: values seen from its server, -1 without co-occurrence, NaN without support', () => {
    const r = npmiFromCounts({ first: 5, second: 4, joint: 4, total: 5 });
    assert.equal(r.npmi, 0);
    assert.ok(Math.abs(r.smoothed - 0.11042677102990947) < 1e-12);
    assert.deepEqual(npmiFromCounts({ first: 5, second: 5, joint: 5, total: 5 }), { npmi: 1, smoothed: 1 });
    assert.equal(npmiFromCounts({ first: 2, second: 2, joint: 0, total: 5 }).npmi, -1);
    assert.ok(Number.isNaN(npmiFromCounts({ first: 0, second: 5, joint: 0, total: 5 }).npmi));
  });

  it('labels percentiles as Python prints floats and refuses what MLflow refuses', () => {
    assert.equal(aggregationLabel({ type: 'PERCENTILE', percentile: 50 }), 'P50.0');
    assert.equal(aggregationLabel({ type: 'PERCENTILE', percentile: 99.5 }), 'P99.5');
    const q: MetricsQuery = { experimentIds: [1], view: 'TRACES', metric: 'latency', aggregations: [{ type: 'SUM' }], dimensions: [], filters: [], maxResults: 10 };
    assert.throws(() => validateMetricsQuery(q), /Found invalid aggregation_type\(s\): \['SUM'\]\. Supported aggregation types: \['AVG', 'MAX', 'MIN', 'PERCENTILE'\]/);
    assert.throws(() => validateMetricsQuery({ ...q, aggregations: [{ type: 'AVG' }], dimensions: ['trace_status'] }), /Supported dimensions: \['trace_name'\]/);
    assert.throws(() => validateMetricsQuery({ ...q, aggregations: [{ type: 'AVG' }], intervalSeconds: 60 }), /start_time_ms and end_time_ms are required/);
  });
});
