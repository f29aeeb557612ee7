/**
 * Chart-ready metric series: at most `buckets` points over the x range, each bucket keeping its
 * last value plus the min and max it covered, so spikes survive downsampling (a min/max
 * envelope). One pass over the points, no sort of the whole series: a 1M-point history costs one
 * linear scan, not an O(n log n) sort. Pure: the local store downsamples its series files with it,
 * and the REST client a history read from a server without Runlens' series route, so a chart
 * looks the same from either.
 */

export type SeriesAxis = 'step' | 'timestamp';

export interface ChartPoint {
  /** The x of the bucket's last point (its step or timestamp). */
  x: number;
  /** The value of the bucket's last point (by x, then logging order). */
  value: number;
  min: number;
  max: number;
  /** How many logged points the bucket covers. */
  count: number;
}

export interface ChartSeries {
  points: ChartPoint[];
  /** Points of the key within [from, to]. */
  total: number;
  downsampled: boolean;
}

export interface SeriesPoint {
  step: number;
  timestamp: number;
  value: number;
}

/** One key's points as parallel columns, in logging order (no per-point objects). */
export interface SeriesColumns {
  step: Float64Array;
  timestamp: Float64Array;
  value: Float64Array;
  length: number;
}

/** Columns from point objects (tests, small series). */
export function columnsOf(points: SeriesPoint[]): SeriesColumns {
  return {
    step: Float64Array.from(points, (p) => p.step),
    timestamp: Float64Array.from(points, (p) => p.timestamp),
    value: Float64Array.from(points, (p) => p.value),
    length: points.length,
  };
}

export function downsampleSeries(cols: SeriesColumns, axis: SeriesAxis, buckets: number, from = -Infinity, to = Infinity): ChartSeries {
  const xs = axis === 'step' ? cols.step : cols.timestamp;
  const vs = cols.value;
  const n = cols.length;
  let lo = Infinity;
  let hi = -Infinity;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const x = xs[i]!;
    if (x < from || x > to) continue;
    total++;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  if (total === 0) return { points: [], total: 0, downsampled: false };
  if (total <= buckets) {
    const kept: ChartPoint[] = [];
    for (let i = 0; i < n; i++) {
      const x = xs[i]!;
      if (x >= from && x <= to) kept.push({ x, value: vs[i]!, min: vs[i]!, max: vs[i]!, count: 1 });
    }
    kept.sort((a, b) => a.x - b.x);
    return { points: kept, total, downsampled: false };
  }
  const span = hi - lo || 1;
  const slots: (ChartPoint | undefined)[] = new Array(buckets);
  for (let i = 0; i < n; i++) {
    const x = xs[i]!;
    if (x < from || x > to) continue;
    const b = Math.min(buckets - 1, Math.floor(((x - lo) / span) * buckets));
    const v = vs[i]!;
    const s = slots[b];
    if (!s) {
      slots[b] = { x, value: v, min: Number.isNaN(v) ? Infinity : v, max: Number.isNaN(v) ? -Infinity : v, count: 1 };
      continue;
    }
    s.count++;
    if (x >= s.x) {
      s.x = x;
      s.value = v;
    }
    if (v < s.min) s.min = v;
    if (v > s.max) s.max = v;
  }
  const out: ChartPoint[] = [];
  for (const s of slots) {
    if (!s) continue;
    if (s.min === Infinity) s.min = s.max = Number.NaN; // the bucket held only NaN
    out.push(s);
  }
  return { points: out, total, downsampled: true };
}
