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
    addToSlot(slots, Math.min(buckets - 1, Math.floor(((x - lo) / span) * buckets)), x, vs[i]!);
  }
  return { points: slotPoints(slots), total, downsampled: true };
}

/** One point into its bucket: the last by x (then arrival) gives the value, min/max skip NaN. */
function addToSlot(slots: (ChartPoint | undefined)[], b: number, x: number, v: number): void {
  const s = slots[b];
  if (!s) {
    slots[b] = { x, value: v, min: Number.isNaN(v) ? Infinity : v, max: Number.isNaN(v) ? -Infinity : v, count: 1 };
    return;
  }
  s.count++;
  if (x >= s.x) {
    s.x = x;
    s.value = v;
  }
  if (v < s.min) s.min = v;
  if (v > s.max) s.max = v;
}

/** Bucket `b` of another into `slots[to]` (a bucket of points at or after its x comes later). */
function mergeSlot(slots: (ChartPoint | undefined)[], to: number, b: ChartPoint): void {
  const s = slots[to];
  if (!s) {
    slots[to] = { ...b };
    return;
  }
  s.count += b.count;
  if (b.x >= s.x) {
    s.x = b.x;
    s.value = b.value;
  }
  if (b.min < s.min) s.min = b.min;
  if (b.max > s.max) s.max = b.max;
}

/** The filled buckets in x order, as chart points (copies: the buckets may take more points). */
function slotPoints(slots: (ChartPoint | undefined)[]): ChartPoint[] {
  const out: ChartPoint[] = [];
  for (const s of slots) {
    if (!s) continue;
    // A bucket that held only NaN.
    out.push(s.min === Infinity ? { ...s, min: Number.NaN, max: Number.NaN } : { ...s });
  }
  return out;
}

/** Fine buckets per chart bucket in a sketch whose x range is not known ahead. */
const FINE = 4;

/**
 * `downsampleSeries` for points that arrive a page at a time (a history read from a server) and
 * are never all held: memory stays O(buckets) however long the series. While at most `buckets`
 * points came, they are kept as they are (the same answer as downsampleSeries). After that they go
 * into buckets two ways at once:
 * - over `range` when one is given (a guess is fine, e.g. the first and last step a server names):
 *   the same buckets downsampleSeries makes over [lo, hi], so when every point fell in the range
 *   and the range was the points' own, the answer is downsampleSeries' exactly;
 * - over a grid of FINE × buckets buckets that doubles its width whenever a point falls outside
 *   it (pairs merged, min/max/count/last kept), answered by folding its buckets into `buckets`
 *   over the points' [lo, hi] at the end: every peak and dip survives, each bucket's x and value
 *   are a logged point's, no more than `buckets` points.
 * More points can come after `result()` (a live run's new history); points with a non-finite x
 * are left out.
 */
export class SeriesSketch {
  /** Points taken. */
  total = 0;
  private lo = Infinity;
  private hi = -Infinity;
  private raw: ChartPoint[] | undefined = [];
  private exact: (ChartPoint | undefined)[] | undefined;
  private exactLo = 0;
  private exactHi = 0;
  private fine: (ChartPoint | undefined)[] = [];
  private origin = 0;
  private width = 0;

  constructor(
    readonly buckets: number,
    private readonly range?: { lo?: number; hi?: number },
  ) {}

  add(x: number, v: number): void {
    if (!Number.isFinite(x)) return;
    this.total++;
    if (x < this.lo) this.lo = x;
    if (x > this.hi) this.hi = x;
    if (this.raw) {
      this.raw.push({ x, value: v, min: v, max: v, count: 1 });
      if (this.raw.length > this.buckets) this.startGrids();
      return;
    }
    this.bucket(x, v);
  }

  result(): ChartSeries {
    if (this.total === 0) return { points: [], total: 0, downsampled: false };
    if (this.raw) return { points: [...this.raw].sort((a, b) => a.x - b.x).map((p) => ({ ...p })), total: this.total, downsampled: false };
    if (this.exact && this.exactLo === this.lo && this.exactHi === this.hi) return { points: slotPoints(this.exact), total: this.total, downsampled: true };
    const out: (ChartPoint | undefined)[] = new Array(this.buckets);
    const span = this.hi - this.lo || 1;
    for (const s of this.fine) if (s) mergeSlot(out, Math.min(this.buckets - 1, Math.floor(((s.x - this.lo) / span) * this.buckets)), s);
    return { points: slotPoints(out), total: this.total, downsampled: true };
  }

  private startGrids(): void {
    const raw = this.raw!;
    this.raw = undefined;
    const hi = this.range?.hi;
    if (hi !== undefined) {
      this.exactLo = Math.min(this.range?.lo ?? this.lo, this.lo);
      this.exactHi = hi;
      if (this.exactLo <= hi) this.exact = new Array(this.buckets);
    }
    this.fine = new Array(this.buckets * FINE);
    this.origin = this.lo;
    // The highest point strictly inside the grid.
    this.width = (this.hi - this.lo) * (1 + 1 / this.fine.length) || 1;
    for (const p of raw) this.bucket(p.x, p.value);
  }

  private bucket(x: number, v: number): void {
    if (this.exact) {
      if (x < this.exactLo || x > this.exactHi) this.exact = undefined;
      else addToSlot(this.exact, Math.min(this.buckets - 1, Math.floor(((x - this.exactLo) / (this.exactHi - this.exactLo || 1)) * this.buckets)), x, v);
    }
    const n = this.fine.length;
    while (x < this.origin || x >= this.origin + this.width) this.widen(x < this.origin);
    addToSlot(this.fine, Math.min(n - 1, Math.floor(((x - this.origin) / this.width) * n)), x, v);
  }

  /** Twice as wide, to the left or the right: neighbouring buckets merged. */
  private widen(left: boolean): void {
    const n = this.fine.length;
    const merged: (ChartPoint | undefined)[] = new Array(n);
    for (let k = 0; k < n; k++) {
      const s = this.fine[k];
      if (s) mergeSlot(merged, Math.floor((left ? k + n : k) / 2), s);
    }
    if (left) this.origin -= this.width;
    this.width *= 2;
    this.fine = merged;
  }
}
