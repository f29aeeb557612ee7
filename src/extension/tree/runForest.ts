/**
 * Builds the parent/child forest from one experiment's loaded page(s) of runs: a run whose
 * `mlflow.parentRunId` names a loaded run goes under it; otherwise it shows at the top level
 * (its parent may be on a later page or in another experiment).
 */
import { PARENT_RUN_TAG, tagValue, type WireRun } from '../../client/wireTypes';

export interface RunForest {
  roots: WireRun[];
  childrenOf: Map<string, WireRun[]>;
}

export function buildRunForest(runs: WireRun[]): RunForest {
  const ids = new Set(runs.map((r) => r.info.run_id));
  const roots: WireRun[] = [];
  const childrenOf = new Map<string, WireRun[]>();
  for (const run of runs) {
    const parent = tagValue(run, PARENT_RUN_TAG);
    if (parent && parent !== run.info.run_id && ids.has(parent)) {
      const list = childrenOf.get(parent);
      if (list) list.push(run);
      else childrenOf.set(parent, [run]);
    } else {
      roots.push(run);
    }
  }
  return { roots, childrenOf };
}

/** Merges two lists of runs by id, keeping the order of `first` and appending new ones. */
export function mergeRuns(first: WireRun[], more: WireRun[]): WireRun[] {
  const seen = new Set(first.map((r) => r.info.run_id));
  return [...first, ...more.filter((r) => !seen.has(r.info.run_id))];
}
