/** Exponential moving average with TensorBoard's debiasing (the first points are not pulled to 0). NaN is skipped. */
export function ema(values: number[], weight: number): number[] {
  if (weight <= 0) return values.slice();
  let last = 0;
  let norm = 0;
  return values.map((v) => {
    if (!Number.isFinite(v)) return norm > 0 ? last / norm : v;
    last = last * weight + (1 - weight) * v;
    norm = norm * weight + (1 - weight);
    return last / norm;
  });
}
