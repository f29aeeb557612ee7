/** Metric history reads from series files, and MLflow's step sampling for chart queries. */
import type { BulkIntervalRequest } from '../backend/api/tracking';
import type { Metric, MetricWithRunId, Page } from '../domain/types';
import { METRIC_HISTORY_MAX_RESULTS } from './limits';
import { decodePageToken, encodePageToken } from './search/pageToken';
import type { SeriesColumns, SeriesFiles, SeriesPoint } from './seriesFiles';
import type { SqlDb } from './sqlite';

function seriesKey(db: SqlDb, runId: number, key: string): { keyId: number; records: number } | undefined {
  const keyId = db.value('SELECT key_id FROM latest_metrics WHERE run = ? AND key = ?', [runId, key]);
  if (keyId === undefined) return undefined;
  return { keyId: Number(keyId), records: Number(db.value('SELECT series_len FROM runs WHERE id = ?', [runId])) };
}

/** Every point of `key` as columns in logging order (chart downsampling needs no order). */
export function readColumns(db: SqlDb, series: SeriesFiles, runId: number, runUuid: string, key: string): SeriesColumns {
  const k = seriesKey(db, runId, key);
  if (!k) return { step: new Float64Array(0), timestamp: new Float64Array(0), value: new Float64Array(0), length: 0 };
  return series.readKeyColumns(runUuid, k.keyId, k.records);
}

/** Every point of `key`, sorted as MLflow returns them (timestamp, step, value). */
export function readHistory(db: SqlDb, series: SeriesFiles, runId: number, runUuid: string, key: string): SeriesPoint[] {
  const k = seriesKey(db, runId, key);
  if (!k) return [];
  return sortHistory(series.readKey(runUuid, k.keyId, k.records));
}

/** Sorts points in place as MLflow returns a history (timestamp, step, value); cheap when already sorted. */
export function sortHistory(points: SeriesPoint[]): SeriesPoint[] {
  let sorted = true;
  for (let i = 1; i < points.length && sorted; i++) sorted = compare(points[i - 1]!, points[i]!) <= 0;
  if (!sorted) points.sort(compare);
  return points;
}

/** NaN counts as 0 and, on a tie, after a real 0: MLflow stores NaN as (value 0, is_nan 1). */
function compare(a: SeriesPoint, b: SeriesPoint): number {
  const an = Number.isNaN(a.value);
  const bn = Number.isNaN(b.value);
  return a.timestamp - b.timestamp || a.step - b.step || (an ? 0 : a.value) - (bn ? 0 : b.value) || Number(an) - Number(bn);
}

/**
 * The steps to return for a multi-run chart query: at most `maxResults` steps spread evenly over
 * the union of logged steps in [start, end], always keeping each run's first and last step.
 */
export function sampleSteps(stepsPerRun: number[][], maxResults: number, startStep?: number, endStep?: number): Set<number> {
  const all = [...new Set(stepsPerRun.flat())].sort((a, b) => a - b);
  let start = startStep;
  let end = endStep;
  if (start === undefined || end === undefined) {
    start = 0;
    end = all.length > 0 ? all[all.length - 1]! : 0;
  }
  const lo = start;
  const hi = end;
  const boundaries = new Set<number>();
  for (const steps of stepsPerRun) {
    if (steps.length === 0) continue;
    let min = steps[0]!;
    let max = min;
    for (const s of steps) {
      if (s < min) min = s;
      if (s > max) max = s;
    }
    for (const s of [min, max]) if (s >= lo && s <= hi) boundaries.add(s);
  }
  const inRange = all.filter((s) => s >= lo && s <= hi);
  const sampled = new Set<number>();
  if (inRange.length <= maxResults) {
    for (const s of inRange) sampled.add(s);
  } else {
    const interval = inRange.length / maxResults;
    for (let i = 0; i < maxResults; i++) sampled.add(inRange[Math.floor(i * interval)]!);
    sampled.add(inRange[inRange.length - 1]!);
  }
  for (const b of boundaries) sampled.add(b);
  return sampled;
}

/** One page of a key's sorted history, as GetMetricHistory answers it (offset page tokens). */
export function historyPage(points: SeriesPoint[], key: string, maxResults: number | undefined, pageToken: string | undefined): Page<Metric> {
  const offset = decodePageToken(pageToken);
  const end = maxResults === undefined ? points.length : Math.min(points.length, offset + maxResults);
  const page: Page<Metric> = { items: points.slice(offset, end).map((p) => ({ key, value: p.value, timestamp: p.timestamp, step: p.step })) };
  if (end < points.length) page.nextPageToken = encodePageToken(end);
  return page;
}

/** GetMetricHistoryBulkInterval over runs' histories of one key: sampled steps, in step order. */
export function sampledHistories(histories: { runId: string; points: SeriesPoint[] }[], req: BulkIntervalRequest): MetricWithRunId[] {
  const steps = sampleSteps(
    histories.map((h) => h.points.map((p) => p.step)),
    req.maxResults,
    req.startStep,
    req.endStep,
  );
  const out: MetricWithRunId[] = [];
  for (const h of histories) {
    const chosen = h.points.filter((p) => steps.has(p.step)).sort((a, b) => a.step - b.step || a.timestamp - b.timestamp);
    for (const p of chosen.slice(0, METRIC_HISTORY_MAX_RESULTS)) out.push({ key: req.metricKey, value: p.value, timestamp: p.timestamp, step: p.step, run_id: h.runId });
  }
  return out;
}
