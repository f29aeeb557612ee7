/** Metric history RPCs: paged history, and the sampled multi-run query charts use. */
import { invalidParameter } from '../../domain/errors';
import { BULK_INTERVAL_MAX_RESULTS, BULK_INTERVAL_MAX_RUNS, METRIC_HISTORY_MAX_RESULTS } from '../../store/limits';
import type { TrackingStore } from '../../backend/api/tracking';
import { missingParameter } from '../requestFields';
import type { Router } from '../router';
import { wireDouble, wireMetric, wireMetricWithRunId, wirePage } from '../wire';

const SERIES_MAX_BUCKETS = 20_000;
const API_DOCS = ' See the API docs for more information about request parameters.';

export function registerMetricRoutes(router: Router, store: TrackingStore): void {
  router.api('GET', '/mlflow/metrics/get-history', async ({ fields }) => {
    const runId = fields.runId();
    const key = fields.requiredString('metric_key');
    const maxResults = fields.int('max_results');
    if (maxResults !== undefined && maxResults < 1) {
      throw invalidParameter(`Invalid value ${maxResults} for parameter 'max_results' supplied. It must be a positive integer.`);
    }
    const page = await store.getMetricHistory(runId, key, maxResults, fields.string('page_token'));
    return wirePage('metrics', page, wireMetric);
  });

  // Checked in the order of MLflow's schema for this RPC; its schema messages end with API_DOCS.
  router.api('GET', '/mlflow/metrics/get-history-bulk-interval', async ({ fields }) => {
    const runIds = fields.strings('run_ids');
    if (runIds.length === 0) throw missingParameter('run_ids');
    if (runIds.length > BULK_INTERVAL_MAX_RUNS) {
      throw invalidParameter(
        `GetMetricHistoryBulkInterval request must specify at most ${BULK_INTERVAL_MAX_RUNS} run_ids. Received ${runIds.length} run_ids.${API_DOCS}`,
      );
    }
    const metricKey = fields.requiredString('metric_key');
    const startStep = fields.int('start_step');
    const endStep = fields.int('end_step');
    const maxResults = fields.int('max_results') ?? BULK_INTERVAL_MAX_RESULTS;
    if (maxResults < 1 || maxResults > BULK_INTERVAL_MAX_RESULTS) {
      throw invalidParameter(`max_results must be between 1 and ${BULK_INTERVAL_MAX_RESULTS}.${API_DOCS}`);
    }
    if (startStep !== undefined && endStep !== undefined && startStep > endStep) {
      throw invalidParameter(`end_step must be greater than start_step. Found start_step=${startStep} and end_step=${endStep}.`);
    }
    if ((startStep === undefined) !== (endStep === undefined)) {
      throw invalidParameter('If either start step or end step are specified, both must be specified.');
    }
    const metrics = await store.getMetricHistoryBulkInterval({ runIds, metricKey, startStep, endStep, maxResults });
    return { metrics: metrics.map(wireMetricWithRunId) };
  });

  router.api('GET', '/mlflow/metrics/get-history-bulk', async ({ fields }) => {
    const runIds = fields.strings('run_id');
    if (runIds.length === 0) throw invalidParameter('GetMetricHistoryBulk request must specify at least one run_id.');
    if (runIds.length > BULK_INTERVAL_MAX_RUNS) {
      throw invalidParameter(`GetMetricHistoryBulk request cannot specify more than ${BULK_INTERVAL_MAX_RUNS} run_ids. Received ${runIds.length} run_ids.`);
    }
    const key = fields.string('metric_key');
    if (!key) throw invalidParameter('GetMetricHistoryBulk request must specify a metric_key.');
    const maxResults = Math.min(fields.int('max_results') ?? METRIC_HISTORY_MAX_RESULTS, METRIC_HISTORY_MAX_RESULTS);
    const out: Record<string, unknown>[] = [];
    for (const runId of [...runIds].sort()) {
      const page = await store.getMetricHistory(runId, key);
      for (const m of page.items) {
        if (out.length >= maxResults) break;
        out.push({ ...wireMetric(m), run_id: runId });
      }
    }
    return { metrics: out };
  });

  // Runlens: a chart-ready series, downsampled on the server with a min/max envelope, so a
  // 1M-point history reaches a chart as a few thousand points.
  // One key's series for many runs in one request: a sweep's chart is one round trip, not one per run.
  router.plain('GET', '/runlens/api/metric-series-bulk', async ({ fields }) => {
    const runIds = fields.strings('run_ids');
    if (runIds.length === 0) throw missingParameter('run_ids');
    if (runIds.length > BULK_INTERVAL_MAX_RUNS) throw invalidParameter(`At most ${BULK_INTERVAL_MAX_RUNS} run_ids per request, got ${runIds.length}.`);
    const key = fields.requiredString('metric_key');
    const axis = fields.enumValue('x', ['STEP', 'TIMESTAMP'], 'STEP') === 'TIMESTAMP' ? 'timestamp' : 'step';
    const buckets = fields.int('buckets') ?? 2000;
    if (buckets < 2 || buckets > SERIES_MAX_BUCKETS) throw invalidParameter(`buckets must be between 2 and ${SERIES_MAX_BUCKETS}, got ${buckets}.`);
    const series = await Promise.all(runIds.map((runId) => store.getMetricSeries({ runId, key, axis, buckets })));
    return {
      series: series.map((s, i) => ({
        run_id: runIds[i],
        total_points: s.total,
        downsampled: s.downsampled,
        points: s.points.map((p) => ({ x: p.x, value: wireDouble(p.value), min: wireDouble(p.min), max: wireDouble(p.max), count: p.count })),
      })),
    };
  });

  router.plain('GET', '/runlens/api/metric-series', async ({ fields }) => {
    const axis = fields.enumValue('x', ['STEP', 'TIMESTAMP'], 'STEP') === 'TIMESTAMP' ? 'timestamp' : 'step';
    const buckets = fields.int('buckets') ?? 2000;
    if (buckets < 2 || buckets > SERIES_MAX_BUCKETS) throw invalidParameter(`buckets must be between 2 and ${SERIES_MAX_BUCKETS}, got ${buckets}.`);
    const from = fields.has('from') ? Number(fields.string('from')) : undefined;
    const to = fields.has('to') ? Number(fields.string('to')) : undefined;
    if ((from !== undefined && Number.isNaN(from)) || (to !== undefined && Number.isNaN(to))) throw invalidParameter('from and to must be numbers.');
    const series = await store.getMetricSeries({ runId: fields.runId(), key: fields.requiredString('metric_key'), axis, buckets, from, to });
    return {
      total_points: series.total,
      downsampled: series.downsampled,
      points: series.points.map((p) => ({ x: p.x, value: wireDouble(p.value), min: wireDouble(p.min), max: wireDouble(p.max), count: p.count })),
    };
  });
}
