/**
 * The cost ledger: spend per run and per day, rebuilt from the audit trail at start (every entry
 * carries its cost), so it is exactly as durable as the trail. A run's attribution is its current
 * `genops.*` tags (inherited from its parent at create), so re-tagging a run moves its spend.
 */
import { ATTRIBUTES, PARENT_RUN_TAG, attributeOfTag, inScope, type Attribute, type Attribution } from './attribution';
import type { AuditEntry } from './auditLog';
import { storageCostNano, type Pricing } from './pricing';

export type GroupBy = Attribute | 'experiment' | 'run' | 'day' | 'actor' | 'operation';
export const GROUP_BYS: readonly GroupBy[] = [...ATTRIBUTES, 'experiment', 'run', 'day', 'actor', 'operation'];

interface RunCost {
  experimentId?: string | undefined;
  parent?: string | undefined;
  children: Set<string>;
  attribution: Attribution;
  /** day (YYYY-MM-DD) → nano-dollars charged to the run that day. */
  byDay: Map<string, number>;
  stored: { bytes: number; atMs: number }[];
}

/** One charged operation, kept for grouping by actor/operation and for operations off any run. */
/**
 * The charges of one day, run (or attribution, for operations on no run), experiment, actor and
 * operation, summed: what the summaries group and filter by. Kept as sums, not one record per
 * operation, so the ledger's memory and a summary's cost grow with the distinct combinations,
 * not with the number of writes (a run logging a million metrics is one bucket a day).
 */
interface ChargeBucket {
  day: string;
  runId?: string | undefined;
  experimentId?: string | undefined;
  attribution: Attribution;
  actor: string;
  op: string;
  nano: number;
  /** Operations counted (a reversing entry takes back a charge, not an operation). */
  operations: number;
}

export interface SummaryRow {
  key: string;
  cost_nano: number;
  operations: number;
  /** With `byDay`: the row's spend per day (YYYY-MM-DD → nano-dollars), for charts over time. */
  by_day?: Map<string, number>;
}

export interface SummaryQuery {
  groupBy: GroupBy;
  /** Inclusive days (YYYY-MM-DD, UTC). */
  since?: string | undefined;
  until?: string | undefined;
  experimentId?: string | undefined;
  /** Count storage accrued up to this time (default now). */
  nowMs?: number | undefined;
  /** Also split each row's spend by day (the Governance view's spend-over-time chart). */
  byDay?: boolean | undefined;
}

/** The last day asked for, [start, end) in ms: nearly every call of a write's path asks for today. */
let lastDay = { start: 0, end: 0, day: '' };

export function dayOf(ms: number): string {
  if (ms >= lastDay.start && ms < lastDay.end) return lastDay.day;
  const d = new Date(ms);
  const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  const day = d.toISOString().slice(0, 10);
  if (!Number.isFinite(start)) return day;
  lastDay = { start, end: start + 86_400_000, day };
  return day;
}

export class Ledger {
  private readonly runs = new Map<string, RunCost>();
  private readonly charges = new Map<string, ChargeBucket>();
  /** LLM cost already charged per trace: spans arrive over OTLP as they end and again in the final upload. */
  private readonly llmByTrace = new Map<string, number>();

  llmChargedNano(traceId: string): number {
    return this.llmByTrace.get(traceId) ?? 0;
  }

  /** Per budget scope: day → spend, kept up to date as charges arrive and runs are re-tagged. */
  private readonly scopeSpend: { scope: Attribution; byDay: Map<string, number> }[];

  constructor(
    private readonly pricing: Pricing,
    budgetScopes: Attribution[] = [],
  ) {
    this.scopeSpend = budgetScopes.map((scope) => ({ scope, byDay: new Map() }));
  }

  private addScoped(attribution: Attribution, day: string, nano: number): void {
    for (const s of this.scopeSpend) if (inScope(s.scope, attribution)) s.byDay.set(day, (s.byDay.get(day) ?? 0) + nano);
  }

  private run(id: string): RunCost {
    let r = this.runs.get(id);
    if (!r) {
      r = { children: new Set(), attribution: {}, byDay: new Map(), stored: [] };
      this.runs.set(id, r);
    }
    return r;
  }

  attributionOf(runId: string): Attribution {
    return { ...(this.runs.get(runId)?.attribution ?? {}) };
  }

  experimentOf(runId: string): string | undefined {
    return this.runs.get(runId)?.experimentId;
  }

  /** Applies one audit entry (live or replayed). Refusals cost nothing but still count as operations. */
  apply(e: AuditEntry): void {
    // A reversing entry (its operation failed after it was audited) carries the negated charges.
    const reversal = e.reverses !== undefined;
    if (e.llm_nano && (e.outcome === 'ok' || reversal)) for (const [t, nano] of Object.entries(e.llm_nano)) this.llmByTrace.set(t, (this.llmByTrace.get(t) ?? 0) + nano);
    const runId = e.target.run_id;
    const day = dayOf(e.ts);
    if (runId) {
      const r = this.run(runId);
      if (e.target.experiment_id) r.experimentId = e.target.experiment_id;
      if (e.tags) this.retag(runId, r, e.tags);
      if (e.cost_nano) {
        r.byDay.set(day, (r.byDay.get(day) ?? 0) + e.cost_nano);
        this.addScoped(r.attribution, day, e.cost_nano);
      }
      if (e.bytes && e.outcome === 'ok') r.stored.push({ bytes: e.bytes, atMs: e.ts });
    }
    else if (e.cost_nano) this.addScoped(e.attribution, day, e.cost_nano);
    const experimentId = e.target.experiment_id ?? (runId ? this.runs.get(runId)?.experimentId : undefined);
    // A run's charges group by the run's attribution as it is when asked; others by their own.
    const who = runId ? `r${runId}` : `a${JSON.stringify(e.attribution)}`;
    const key = `${day}\0${who}\0${experimentId ?? ''}\0${e.actor}\0${e.op}`;
    let bucket = this.charges.get(key);
    if (!bucket) {
      bucket = { day, runId, experimentId, attribution: e.attribution, actor: e.actor, op: e.op, nano: 0, operations: 0 };
      this.charges.set(key, bucket);
    }
    bucket.nano += e.cost_nano;
    if (!reversal) bucket.operations++;
  }

  /** The attribution and parent tags an operation set on its run. */
  private retag(runId: string, r: RunCost, tags: Record<string, string>): void {
    const before = { ...r.attribution };
    for (const [k, v] of Object.entries(tags)) {
      if (k === PARENT_RUN_TAG) {
        if (r.parent && r.parent !== v) this.runs.get(r.parent)?.children.delete(runId);
        r.parent = v;
        this.run(v).children.add(runId);
        continue;
      }
      const a = attributeOfTag(k);
      if (!a) continue;
      if (v === '') delete r.attribution[a];
      else r.attribution[a] = v;
    }
    if (this.scopeSpend.length && ATTRIBUTES.some((a) => before[a] !== r.attribution[a])) {
      // Re-tagged: the run's spend so far moves to the scopes it now belongs to.
      for (const [day, nano] of r.byDay) {
        this.addScoped(before, day, -nano);
        this.addScoped(r.attribution, day, nano);
      }
    }
  }

  /** A run's spend including its descendants' (a sweep's parent carries the sweep). */
  runTotalNano(runId: string, nowMs = Date.now()): number {
    let total = 0;
    const seen = new Set<string>();
    const stack = [runId];
    while (stack.length) {
      const id = stack.pop()!;
      if (seen.has(id)) continue;
      seen.add(id);
      const r = this.runs.get(id);
      if (!r) continue;
      for (const v of r.byDay.values()) total += v;
      for (const s of r.stored) total += storageCostNano(this.pricing, s.bytes, s.atMs, nowMs);
      for (const c of r.children) stack.push(c);
    }
    return total;
  }

  /** Spend of a budget's scope over [fromDay, toDay] (the scope must be one given to the constructor). */
  spendNano(scope: Attribution, fromDay: string, toDay: string): number {
    const tracked = this.scopeSpend.find((s) => s.scope === scope);
    if (!tracked) throw new Error('spendNano: scope is not a budget scope of this ledger');
    let total = 0;
    for (const [day, nano] of tracked.byDay) if (day >= fromDay && day <= toDay) total += nano;
    return total;
  }

  /** A budget scope's spend per day over [fromDay, toDay] (its burn-down), days without spend left out. */
  spendByDayNano(scope: Attribution, fromDay: string, toDay: string): Map<string, number> {
    const tracked = this.scopeSpend.find((s) => s.scope === scope);
    if (!tracked) throw new Error('spendByDayNano: scope is not a budget scope of this ledger');
    const out = new Map<string, number>();
    for (const [day, nano] of [...tracked.byDay].sort(([a], [b]) => a.localeCompare(b))) if (day >= fromDay && day <= toDay && nano) out.set(day, nano);
    return out;
  }

  summary(q: SummaryQuery): { rows: SummaryRow[]; total_nano: number } {
    const groups = new Map<string, SummaryRow>();
    const add = (key: string, nano: number, ops: number, day: string) => {
      const g = groups.get(key) ?? { key, cost_nano: 0, operations: 0, ...(q.byDay ? { by_day: new Map<string, number>() } : {}) };
      g.cost_nano += nano;
      g.operations += ops;
      g.by_day?.set(day, (g.by_day.get(day) ?? 0) + nano);
      groups.set(key, g);
    };
    const keyOf = (c: { runId?: string | undefined; experimentId?: string | undefined; attribution: Attribution; day: string; actor?: string; op?: string }): string => {
      switch (q.groupBy) {
        case 'experiment':
          return c.experimentId ?? '(none)';
        case 'run':
          return c.runId ?? '(none)';
        case 'day':
          return c.day;
        case 'actor':
          return c.actor ?? '(system)';
        case 'operation':
          return c.op ?? 'storage';
        default: {
          const attribution = c.runId ? this.runs.get(c.runId)?.attribution ?? c.attribution : c.attribution;
          return attribution[q.groupBy] ?? '(unattributed)';
        }
      }
    };
    const inRange = (day: string) => (!q.since || day >= q.since) && (!q.until || day <= q.until);
    for (const c of this.charges.values()) {
      if (!inRange(c.day)) continue;
      if (q.experimentId && c.experimentId !== q.experimentId) continue;
      add(keyOf(c), c.nano, c.operations, c.day);
    }
    // Storage accrues per day stored: split it over the days it was kept within the range.
    const now = q.nowMs ?? Date.now();
    for (const [runId, r] of this.runs) {
      if (q.experimentId && r.experimentId !== q.experimentId) continue;
      for (const s of r.stored) {
        for (let t = s.atMs; t < now; t = nextDay(t)) {
          const day = dayOf(t);
          if (!inRange(day)) continue;
          const nano = storageCostNano(this.pricing, s.bytes, t, Math.min(nextDay(t), now));
          if (nano) add(keyOf({ runId, experimentId: r.experimentId, attribution: r.attribution, day }), nano, 0, day);
        }
      }
    }
    const rows = [...groups.values()].sort((a, b) => b.cost_nano - a.cost_nano || a.key.localeCompare(b.key));
    return { rows, total_nano: rows.reduce((s, r) => s + r.cost_nano, 0) };
  }
}

function nextDay(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
}
