/**
 * CalculateTraceFilterCorrelation: how strongly two trace filters co-occur, as normalized
 * pointwise mutual information over a 2x2 table of trace counts (MLflow 3.17.2's
 * store/analytics/trace_correlation.py), unsmoothed and with a Jeffreys prior.
 */
const JEFFREYS_PRIOR = 0.5;

export interface CorrelationCounts {
  joint: number;
  first: number;
  second: number;
  total: number;
}

function npmiCore(n11: number, n10: number, n01: number, n00: number, smoothing: number): number {
  const [a, b, c, d] = [n11 + smoothing, n10 + smoothing, n01 + smoothing, n00 + smoothing];
  const n = a + b + c + d;
  const n1 = a + b;
  const n2 = a + c;
  if (n1 <= 0 || n2 <= 0 || a <= 0) return NaN;
  // Perfect co-occurrence is judged on the unsmoothed table.
  if (n10 === 0 && n01 === 0 && n00 === 0) return 1;
  const pmi = Math.log(a) + Math.log(n) - (Math.log(n1) + Math.log(n2));
  return Math.max(-1, Math.min(1, pmi / -(Math.log(a) - Math.log(n))));
}

/** NaN where NPMI is undefined (a filter with no support, or inconsistent counts). */
export function npmiFromCounts(c: CorrelationCounts): { npmi: number; smoothed: number } {
  if (c.total <= 0 || c.first === 0 || c.second === 0) return { npmi: NaN, smoothed: NaN };
  const n11 = c.joint;
  const n10 = c.first - c.joint;
  const n01 = c.second - c.joint;
  const n00 = c.total - c.first - c.second + c.joint;
  if (Math.min(n11, n10, n01, n00) < 0) return { npmi: NaN, smoothed: NaN };
  const npmi = c.joint === 0 ? -1 : npmiCore(n11, n10, n01, n00, 0);
  return { npmi, smoothed: npmiCore(n11, n10, n01, n00, JEFFREYS_PRIOR) };
}
