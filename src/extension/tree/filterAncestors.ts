/**
 * A filter that matches child runs would show them flat at the top level, their parent filtered
 * out. These helpers fetch the missing ancestors so the tree keeps its shape; the tree shows them
 * dimmed as context (they do not match the filter themselves).
 */
import type { TrackingClient } from '../../client/trackingClient';
import { PARENT_RUN_TAG, tagValue, type WireRun } from '../../client/wireTypes';
import { filterString } from '../../ui/protocol';

/** Nesting deeper than this is not a sweep anyone browses in a tree. */
const MAX_DEPTH = 8;
/** Parents fetched per query (the filter's IN list stays small). */
const BATCH = 100;

function parentOf(run: WireRun): string | undefined {
  const p = tagValue(run, PARENT_RUN_TAG);
  return p && p !== run.info.run_id ? p : undefined;
}

/** The ancestors of `runs` (in the same experiment) that are not among them. */
export async function missingAncestors(client: TrackingClient, experimentId: string, runs: WireRun[], viewType: 'ACTIVE_ONLY' | 'ALL'): Promise<WireRun[]> {
  const known = new Set(runs.map((r) => r.info.run_id));
  const found: WireRun[] = [];
  let wanted = [...new Set(runs.map(parentOf).filter((p): p is string => p !== undefined && !known.has(p)))];
  for (let depth = 0; wanted.length > 0 && depth < MAX_DEPTH; depth++) {
    const next: WireRun[] = [];
    for (let i = 0; i < wanted.length; i += BATCH) {
      const ids = wanted.slice(i, i + BATCH);
      const page = await client.searchRuns({ experimentIds: [experimentId], filter: `attributes.run_id IN (${ids.map(filterString).join(', ')})`, maxResults: ids.length, viewType });
      next.push(...page.runs);
    }
    for (const r of next) known.add(r.info.run_id);
    found.push(...next);
    wanted = [...new Set(next.map(parentOf).filter((p): p is string => p !== undefined && !known.has(p)))];
  }
  return found;
}

/** `runs` in their order with each ancestor placed just before its first descendant (root-most first). */
export function placeAncestors(runs: WireRun[], ancestors: WireRun[]): WireRun[] {
  const byId = new Map(ancestors.map((r) => [r.info.run_id, r]));
  const out: WireRun[] = [];
  const emitted = new Set<string>();
  for (const run of runs) {
    const chain: WireRun[] = [];
    for (let p = parentOf(run); p && byId.has(p) && !emitted.has(p); p = parentOf(byId.get(p)!)) chain.unshift(byId.get(p)!);
    for (const a of chain) {
      emitted.add(a.info.run_id);
      out.push(a);
    }
    out.push(run);
  }
  return out;
}
