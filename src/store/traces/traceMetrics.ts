/**
 * QueryTraceMetrics (`POST /api/3.0/mlflow/traces/metrics`) as MLflow 3.17.2 computes it over its
 * SQL store: one metric of one view (traces, spans, assessments), some aggregations, grouped by
 * dimensions and optional time buckets. The metric and dimension tables are MLflow's; values are
 * aggregated here in memory from one indexed SELECT (no span payload is read).
 */
import type { Aggregation, AggregationType, MetricDataPoint, MetricsQuery, TraceMetricsView } from '../../backend/api/traces';
import { invalidParameter } from '../../domain/errors';
import { placeholders, type Params, type SqlDb } from '../sqlite';

type ViewType = TraceMetricsView;

const STATS: AggregationType[] = ['SUM', 'AVG', 'MIN', 'MAX', 'PERCENTILE'];
const NO_SUM: AggregationType[] = ['AVG', 'MIN', 'MAX', 'PERCENTILE'];

interface MetricConfig {
  aggregations: AggregationType[];
  dimensions: string[];
}

const TOKEN_DIMS = ['trace_name'];
export const METRIC_CONFIGS: Record<ViewType, Record<string, MetricConfig>> = {
  TRACES: {
    trace_count: { aggregations: ['COUNT'], dimensions: ['trace_name', 'trace_status'] },
    session_count: { aggregations: ['COUNT'], dimensions: [] },
    latency: { aggregations: NO_SUM, dimensions: ['trace_name'] },
    input_tokens: { aggregations: STATS, dimensions: TOKEN_DIMS },
    output_tokens: { aggregations: STATS, dimensions: TOKEN_DIMS },
    total_tokens: { aggregations: STATS, dimensions: TOKEN_DIMS },
    cache_read_input_tokens: { aggregations: STATS, dimensions: TOKEN_DIMS },
    cache_creation_input_tokens: { aggregations: STATS, dimensions: TOKEN_DIMS },
  },
  SPANS: {
    span_count: { aggregations: ['COUNT'], dimensions: ['span_name', 'span_type', 'span_status', 'span_model_name', 'span_model_provider'] },
    latency: { aggregations: NO_SUM, dimensions: ['span_name', 'span_status'] },
    input_cost: { aggregations: STATS, dimensions: ['span_model_name', 'span_model_provider'] },
    output_cost: { aggregations: STATS, dimensions: ['span_model_name', 'span_model_provider'] },
    total_cost: { aggregations: STATS, dimensions: ['span_model_name', 'span_model_provider'] },
  },
  ASSESSMENTS: {
    assessment_count: { aggregations: ['COUNT'], dimensions: ['assessment_name', 'assessment_value'] },
    assessment_value: { aggregations: NO_SUM, dimensions: ['assessment_name'] },
  },
};

/** Python's `str(float)`-based label of an aggregation: `P50.0`, `AVG`. */
export function aggregationLabel(a: Aggregation): string {
  if (a.type !== 'PERCENTILE') return a.type;
  const p = a.percentile!;
  return `P${Number.isInteger(p) ? `${p}.0` : String(p)}`;
}

export function validateMetricsQuery(q: MetricsQuery): void {
  const view = METRIC_CONFIGS[q.view];
  const config = view[q.metric];
  if (!config) throw invalidParameter(`metric_name must be one of [${Object.keys(view).map((k) => `'${k}'`).join(', ')}], got '${q.metric}'`);
  const badAggs = [...new Set(q.aggregations.map((a) => a.type).filter((t) => !config.aggregations.includes(t)))].sort();
  if (badAggs.length) {
    throw invalidParameter(`Found invalid aggregation_type(s): [${badAggs.map((a) => `'${a}'`).join(', ')}]. Supported aggregation types: [${[...config.aggregations].sort().map((a) => `'${a}'`).join(', ')}]`);
  }
  const badDims = [...new Set(q.dimensions.filter((d) => !config.dimensions.includes(d)))].sort();
  if (badDims.length) {
    throw invalidParameter(`Found invalid dimension(s): [${badDims.map((d) => `'${d}'`).join(', ')}]. Supported dimensions: [${[...config.dimensions].sort().map((d) => `'${d}'`).join(', ')}]`);
  }
  if (q.intervalSeconds && (q.startMs === undefined || q.endMs === undefined)) {
    throw invalidParameter('start_time_ms and end_time_ms are required if time_interval_seconds is set');
  }
}

/** `trace.status = "OK"`, `trace.tag.<k> = "v"`, `trace.metadata.<k> = "v"`: one clause each. */
function filterSql(filter: string, traceColumn: string, params: Params): string {
  const m = /^\s*trace\.(status|tag|metadata)(?:\.(`[^`]+`|"[^"]+"|[^\s=!]+))?\s*(=|!=)\s*(?:"([^"]*)"|'([^']*)')\s*$/.exec(filter);
  if (!m) throw invalidParameter(`Invalid filter: '${filter}'. This server filters trace metrics by trace.status, trace.tag.<key> and trace.metadata.<key>.`);
  const [, entity, rawKey, op, dq, sq] = m;
  const value = dq ?? sq ?? '';
  const key = rawKey?.replace(/^[`"]|[`"]$/g, '');
  if (entity === 'status') {
    if (key) throw invalidParameter("Filtering by status does not require a key, use 'trace.status' instead");
    params.push(value);
    return `(SELECT state FROM traces WHERE id = ${traceColumn}) ${op} ?`;
  }
  if (!key) throw invalidParameter(`Filtering by ${entity} requires a key, e.g. 'trace.${entity}.<key> = <value>'`);
  const table = entity === 'tag' ? 'trace_tags' : 'trace_metadata';
  params.push(key, value);
  return `${op === '=' ? '' : 'NOT '}EXISTS (SELECT 1 FROM ${table} x WHERE x.trace = ${traceColumn} AND x.key = ? AND x.value = ?)`;
}

interface Source {
  from: string;
  trace: string;
  time: string;
  value: string;
  dims: Record<string, string>;
}

/** Where each view's rows, times, metric values and dimensions come from in this store's tables. */
function source(view: ViewType, metric: string): Source {
  const traceName = "(SELECT value FROM trace_tags g WHERE g.trace = t.id AND g.key = 'mlflow.traceName')";
  if (view === 'TRACES') {
    const column: Record<string, string> = {
      trace_count: 't.trace_id',
      session_count: 't.session_id',
      latency: 't.execution_ms',
      input_tokens: 't.input_tokens',
      output_tokens: 't.output_tokens',
      total_tokens: 't.total_tokens',
      cache_read_input_tokens: `(SELECT json_extract(value, '$.cache_read_input_tokens') FROM trace_metadata m WHERE m.trace = t.id AND m.key = 'mlflow.trace.tokenUsage')`,
      cache_creation_input_tokens: `(SELECT json_extract(value, '$.cache_creation_input_tokens') FROM trace_metadata m WHERE m.trace = t.id AND m.key = 'mlflow.trace.tokenUsage')`,
    };
    return { from: 'traces t', trace: 't.id', time: 't.request_time', value: column[metric]!, dims: { trace_name: traceName, trace_status: 't.state' } };
  }
  if (view === 'SPANS') {
    const attr = (key: string): string => `(SELECT value FROM trace_span_attrs a WHERE a.trace = s.trace AND a.span_id = s.span_id AND a.key = '${key}')`;
    const value = metric === 'span_count' ? 's.span_id' : metric === 'latency' ? '(s.end_us - s.start_us) / 1000' : 'NULL';
    return {
      from: 'trace_spans s JOIN traces t ON t.id = s.trace',
      trace: 't.id',
      // Span count and latency take the trace's time, as MLflow's do.
      time: 't.request_time',
      value,
      dims: { span_name: 's.name', span_type: 's.type', span_status: 's.status', span_model_name: attr('mlflow.llm.model'), span_model_provider: attr('mlflow.llm.provider') },
    };
  }
  const value = metric === 'assessment_count' ? 'x.assessment_id' : "CASE WHEN x.value_text IN ('true','false') THEN (x.value_text = 'true') * 1.0 ELSE CAST(x.value_text AS REAL) END";
  return {
    from: 'assessments x JOIN traces t ON t.id = x.trace',
    trace: 't.id',
    time: 't.request_time',
    value: metric === 'assessment_value' ? `CASE WHEN x.value_text GLOB '*[0-9]*' OR x.value_text IN ('true','false') THEN ${value} END` : value,
    dims: { assessment_name: 'x.name', assessment_value: 'x.value_text' },
  };
}

/** Linear interpolation between closest ranks, as MLflow's SQLite `percentile` aggregate. */
function percentile(sorted: number[], p: number): number {
  const index = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(index);
  const hi = Math.ceil(index);
  return lo === hi ? sorted[lo]! : sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (index - lo);
}

function aggregate(values: number[], a: Aggregation, count: number): number {
  switch (a.type) {
    case 'COUNT':
      return count;
    case 'SUM':
      return values.reduce((x, y) => x + y, 0);
    case 'AVG':
      return values.reduce((x, y) => x + y, 0) / values.length;
    case 'MIN':
      return Math.min(...values);
    case 'MAX':
      return Math.max(...values);
    case 'PERCENTILE':
      return percentile([...values].sort((x, y) => x - y), a.percentile!);
  }
}

export function queryTraceMetrics(db: SqlDb, q: MetricsQuery): MetricDataPoint[] {
  validateMetricsQuery(q);
  if (q.view === 'SPANS' && /cost$/.test(q.metric)) return []; // Runlens computes no LLM cost.
  const src = source(q.view, q.metric);
  const params: Params = [...q.experimentIds];
  const where = [`t.experiment_id IN (${placeholders(q.experimentIds.length)})`, `${src.value} IS NOT NULL`];
  for (const f of q.filters) where.push(filterSql(f, src.trace, params));
  if (q.startMs !== undefined) {
    where.push(`${src.time} >= ?`);
    params.push(q.startMs);
  }
  if (q.endMs !== undefined) {
    where.push(`${src.time} <= ?`);
    params.push(q.endMs);
  }
  const bucketMs = q.intervalSeconds ? q.intervalSeconds * 1000 : undefined;
  const dimExprs = [...(bucketMs ? [`(${src.time} / ${bucketMs}) * ${bucketMs}`] : []), ...q.dimensions.map((d) => src.dims[d]!)];
  for (const d of dimExprs) where.push(`${d} IS NOT NULL`);
  const rows = db.all<{ v: unknown; k: string }>(
    `SELECT ${src.value} AS v, json_array(${dimExprs.length ? dimExprs.join(', ') : "''"}) AS k FROM ${src.from} WHERE ${where.join(' AND ')}`,
    params,
  );
  const groups = new Map<string, { dims: unknown[]; values: number[]; rows: number; distinct: Set<unknown> }>();
  for (const r of rows) {
    const g = groups.get(r.k) ?? { dims: JSON.parse(r.k) as unknown[], values: [], rows: 0, distinct: new Set<unknown>() };
    g.rows++;
    g.distinct.add(r.v);
    if (typeof r.v === 'number') g.values.push(r.v);
    else if (typeof r.v === 'string' && r.v !== '' && !Number.isNaN(Number(r.v))) g.values.push(Number(r.v));
    groups.set(r.k, g);
  }
  // Grouped results come ordered by time bucket, then the other dimensions, as MLflow's GROUP BY/ORDER BY.
  const ordered = [...groups.values()].sort((a, b) => {
    for (let i = 0; i < a.dims.length; i++) {
      const x = a.dims[i] as string | number;
      const y = b.dims[i] as string | number;
      if (x < y) return -1;
      if (x > y) return 1;
    }
    return 0;
  });
  // Ungrouped, SQL still answers one row: COUNT is 0 there, every other aggregate NULL.
  if (dimExprs.length === 0 && ordered.length === 0) ordered.push({ dims: [], values: [], rows: 0, distinct: new Set() });
  const out: MetricDataPoint[] = [];
  for (const g of ordered.slice(0, q.maxResults)) {
    const values: Record<string, number> = {};
    for (const a of q.aggregations) {
      if (a.type !== 'COUNT' && g.values.length === 0) continue;
      // COUNT(column) counts rows; the session count is COUNT(DISTINCT session_id).
      values[aggregationLabel(a)] = aggregate(g.values, a, q.metric === 'session_count' ? g.distinct.size : g.rows);
    }
    if (Object.keys(values).length === 0) continue;
    const point: MetricDataPoint = { metric_name: q.metric, values };
    if (dimExprs.length) {
      const names = [...(bucketMs ? ['time_bucket'] : []), ...q.dimensions];
      point.dimensions = Object.fromEntries(
        names.map((n, i) => [n, n === 'time_bucket' ? new Date(Number(g.dims[i])).toISOString().replace(/\.\d{3}Z$/, '+00:00') : String(g.dims[i])]),
      );
    }
    out.push(point);
  }
  return out;
}
