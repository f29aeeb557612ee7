/** The axes of the parallel-coordinates plot: numeric columns scaled to their range, string columns categorical. */
import type { RunRow } from '../../src/ui/protocol';

/** What a run lacks on a categorical axis is a category of its own. */
export const UNSET = '(unset)';

export type Axis = { kind: 'number'; lo: number; hi: number } | { kind: 'category'; values: string[] };

export function rawValue(r: RunRow, col: string): string | number | undefined {
  const i = col.indexOf(':');
  const [kind, key] = [col.slice(0, i), col.slice(i + 1)];
  return kind === 'param' ? r.params[key] : r.metrics[key];
}

export function numberOf(r: RunRow, col: string): number | undefined {
  const v = rawValue(r, col);
  const n = v === undefined ? NaN : Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** Numeric when every run that has the column has a number there; else categorical. */
export function axisOf(runs: RunRow[], col: string): Axis {
  const raw = runs.map((r) => rawValue(r, col));
  const present = raw.filter((v) => v !== undefined && v !== '');
  if (present.length > 0 && present.every((v) => Number.isFinite(Number(v)))) {
    const nums = present.map(Number);
    return { kind: 'number', lo: Math.min(...nums), hi: Math.max(...nums) };
  }
  const values = [...new Set(raw.map((v) => (v === undefined || v === '' ? UNSET : String(v))))];
  // Numbers in numeric order (depth 3 < 10), then words; "None" and unset last, as "no limit".
  const rank = (v: string): number => (v === UNSET ? 3 : v === 'None' ? 2 : Number.isFinite(Number(v)) ? 0 : 1);
  values.sort((a, b) => rank(a) - rank(b) || (rank(a) === 0 ? Number(a) - Number(b) : a.localeCompare(b)));
  return { kind: 'category', values };
}

/** A run's position on an axis in [0, 1], or null (a missing number leaves a gap). */
export function position(axis: Axis, v: string | number | undefined): number | null {
  if (axis.kind === 'category') {
    const i = axis.values.indexOf(v === undefined || v === '' ? UNSET : String(v));
    return axis.values.length === 1 ? 0.5 : i / (axis.values.length - 1);
  }
  const n = v === undefined ? NaN : Number(v);
  if (!Number.isFinite(n)) return null;
  return axis.hi > axis.lo ? (n - axis.lo) / (axis.hi - axis.lo) : 0.5;
}
