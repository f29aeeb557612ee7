/**
 * What the filter box knows about keys, from the runs the table has loaded: every metric, param
 * and tag key with its run count, metric ranges and latest values, param and tag values (for the
 * suggestion list), and — when those runs are the whole experiment — which metric and param keys
 * exist (for the did-you-mean warning). Tags are left out of the check: rows carry user tags
 * only, and a filter on an mlflow.* tag is fine.
 */
import type { KnownKeys } from '../../src/filter/filterCheck';
import { keyStatsFrom, type KeyStatsLike } from '../../src/filter/filterSuggest';
import type { RunRow } from '../../src/ui/protocol';

export interface FilterKeys {
  stats: KeyStatsLike;
  known: KnownKeys;
}

/** Key statistics of `rows` (newest run's metric value is the latest); `whole`: they are every run. */
export function runFilterKeys(rows: readonly RunRow[], whole: boolean): FilterKeys {
  const newestFirst = [...rows].sort((a, b) => (b.startTime ?? 0) - (a.startTime ?? 0));
  const stats = keyStatsFrom(newestFirst.map((r) => ({ metrics: r.metrics, params: r.params, tags: r.tags })));
  const keysOf = (source: 'metrics' | 'params'): ReadonlySet<string> => new Set(stats.keys[source]?.keys() ?? []);
  return { stats, known: whole ? { metrics: keysOf('metrics'), params: keysOf('params') } : {} };
}
