/** Which metrics a charts view shows before the user picks: the ones with a step history, most points first. */
import type { RunSummary } from '../../src/ui/protocol';

export const DEFAULT_CHARTS = 6;

export interface KeyInfo {
  key: string;
  /** The highest latest step among the runs (a proxy for the history's length, known without reading it). */
  maxStep: number;
  runs: number;
}

export function keyInfos(runs: RunSummary[]): KeyInfo[] {
  const byKey = new Map<string, KeyInfo>();
  for (const r of runs) {
    for (const key of r.metricKeys) {
      const info = byKey.get(key) ?? { key, maxStep: 0, runs: 0 };
      info.maxStep = Math.max(info.maxStep, r.latest[key]?.step ?? 0);
      info.runs++;
      byKey.set(key, info);
    }
  }
  return [...byKey.values()].sort((a, b) => a.key.localeCompare(b.key));
}

/** A key logged once per run (latest step 0 everywhere) is compared across runs, not drawn as a curve. */
export function isSingleValue(info: KeyInfo): boolean {
  return info.maxStep === 0;
}

/**
 * Stepped metrics first, longest history first, then single-value ones (compared across runs) to
 * fill the grid: an autologged sweep has many single-value scores and one or two real curves, and
 * alphabetical order would show only the scores.
 */
export function defaultKeys(runs: RunSummary[], limit = DEFAULT_CHARTS): string[] {
  const infos = keyInfos(runs);
  const stepped = infos.filter((i) => !isSingleValue(i)).sort((a, b) => b.maxStep - a.maxStep || b.runs - a.runs || a.key.localeCompare(b.key));
  const single = infos.filter(isSingleValue);
  return [...stepped, ...single].slice(0, limit).map((i) => i.key);
}

/** Keys matching a search: every space-separated word occurs in the key (case-insensitive). */
export function matchesSearch(key: string, search: string): boolean {
  const k = key.toLowerCase();
  return search.toLowerCase().split(/\s+/).filter(Boolean).every((w) => k.includes(w));
}
