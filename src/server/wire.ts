/**
 * Entity -> proto-JSON. Doubles that JSON cannot carry become "NaN"/"Infinity"/"-Infinity",
 * as Python's MessageToJson writes them; absent optional fields are omitted, not null.
 */
import type { Metric, MetricWithRunId, Page, Run, RunInfo } from '../domain/types';

export function wireDouble(v: number): number | string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return v;
}

export function wireMetric(m: Metric): Record<string, unknown> {
  return { key: m.key, value: wireDouble(m.value), timestamp: m.timestamp, step: m.step };
}

export function wireMetricWithRunId(m: MetricWithRunId): Record<string, unknown> {
  return { ...wireMetric(m), run_id: m.run_id };
}

export function wireRunInfo(info: RunInfo): Record<string, unknown> {
  const out: Record<string, unknown> = { ...info };
  if (info.start_time === null) delete out.start_time;
  if (info.end_time === null) delete out.end_time;
  return out;
}

export function wireRun(run: Run): Record<string, unknown> {
  return {
    info: wireRunInfo(run.info),
    data: { metrics: run.data.metrics.map(wireMetric), params: run.data.params, tags: run.data.tags },
    inputs: run.inputs,
    outputs: run.outputs,
  };
}


/** A page as MLflow answers it: the items under `key`, and `next_page_token` only when there is one. */
export function wirePage<T>(key: string, page: Page<T>, wire: (item: T) => unknown = (item) => item): Record<string, unknown> {
  return { [key]: page.items.map(wire), ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}) };
}
