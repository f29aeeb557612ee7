/** QueryTraceMetrics: `POST /api/3.0/mlflow/traces/metrics` (service.proto, MLflow 3.17.2). */
import { invalidParameter } from '../../domain/errors';
import type { Aggregation, AggregationType, TraceMetricsView } from '../../backend/api/traces';
import { npmiFromCounts } from '../../domain/traceCorrelation';
import type { TraceStore } from '../../backend/api/traces';
import { missingParameter } from '../requestFields';
import type { Router } from '../router';

const VIEW_TYPES = ['METRIC_VIEW_TYPE_UNSPECIFIED', 'TRACES', 'SPANS', 'ASSESSMENTS'];
const AGGREGATION_TYPES = ['AGGREGATION_TYPE_UNSPECIFIED', 'COUNT', 'SUM', 'AVG', 'PERCENTILE', 'MIN', 'MAX'];
export const MAX_RESULTS_QUERY_TRACE_METRICS = 1000;

/** A proto enum given by name or number. */
function enumValue(v: unknown, names: string[], field: string): string {
  const name = typeof v === 'number' ? names[v] : typeof v === 'string' ? v : undefined;
  if (name === undefined || !names.includes(name) || name === names[0]) {
    throw invalidParameter(`Invalid value ${JSON.stringify(v)} for parameter '${field}' supplied. Expected one of ${names.slice(1).join(', ')}.`);
  }
  return name;
}

function parseAggregation(v: unknown, i: number): Aggregation {
  const o = (v && typeof v === 'object' ? v : {}) as Record<string, unknown>;
  const type = enumValue(o.aggregation_type, AGGREGATION_TYPES, `aggregations[${i}].aggregation_type`) as AggregationType;
  const p = o.percentile_value;
  if (type === 'PERCENTILE') {
    if (typeof p !== 'number') throw invalidParameter('Percentile value is required for PERCENTILE aggregation');
    if (p > 100 || p < 0) throw invalidParameter(`Percentile value must be between 0 and 100, got ${p}`);
    return { type, percentile: p };
  }
  if (p !== undefined && p !== null) throw invalidParameter(`Percentile value is only allowed for PERCENTILE aggregation type, got ${type}`);
  return { type };
}

export function registerTraceMetricsRoute(router: Router, traces: TraceStore): void {
  router.api('POST', '/mlflow/traces/metrics', async ({ fields }) => {
    const experimentIds = fields.strings('experiment_ids');
    if (experimentIds.length === 0) throw missingParameter('experiment_ids');
    if (fields.source.view_type === undefined) throw missingParameter('view_type');
    const metric = fields.requiredString('metric_name');
    const aggregations = fields.source.aggregations;
    if (!Array.isArray(aggregations) || aggregations.length === 0) throw missingParameter('aggregations');
    const ids = experimentIds.map((e) => {
      if (!/^\d+$/.test(e)) throw invalidParameter(`Invalid experiment ID '${e}'. Experiment ID must be a valid integer.`);
      return Number(e);
    });
    const points = await traces.metrics({
      experimentIds: ids,
      view: enumValue(fields.source.view_type, VIEW_TYPES, 'view_type') as TraceMetricsView,
      metric,
      aggregations: aggregations.map(parseAggregation),
      dimensions: fields.strings('dimensions'),
      filters: fields.strings('filters'),
      intervalSeconds: fields.int('time_interval_seconds'),
      startMs: fields.int('start_time_ms'),
      endMs: fields.int('end_time_ms'),
      maxResults: fields.int('max_results') ?? MAX_RESULTS_QUERY_TRACE_METRICS,
    });
    return points.length ? { data_points: points } : {};
  });

  router.api('POST', '/mlflow/traces/calculate-filter-correlation', async ({ fields }) => {
    const experimentIds = fields.strings('experiment_ids');
    if (experimentIds.length === 0) throw missingParameter('experiment_ids');
    const first = fields.requiredString('filter_string1');
    const second = fields.requiredString('filter_string2');
    const base = fields.string('base_filter') || undefined;
    const and = (...parts: (string | undefined)[]): string | undefined => parts.filter(Boolean).join(' and ') || undefined;
    const counts = {
      first: await traces.count(experimentIds, and(base, first)),
      second: await traces.count(experimentIds, and(base, second)),
      joint: await traces.count(experimentIds, and(base, first, second)),
      total: await traces.count(experimentIds, base),
    };
    const { npmi, smoothed } = npmiFromCounts(counts);
    // Proto JSON cannot carry NaN: an undefined NPMI is left out, as MLflow's server does.
    return {
      ...(Number.isNaN(npmi) ? {} : { npmi }),
      ...(Number.isNaN(smoothed) ? {} : { npmi_smoothed: smoothed }),
      filter1_count: counts.first,
      filter2_count: counts.second,
      joint_count: counts.joint,
      total_count: counts.total,
    };
  });
}
