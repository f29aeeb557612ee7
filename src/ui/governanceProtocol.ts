/** What the Governance view and the run page's cost line show (part of the view protocol). */

export type SpendGroup = 'team' | 'project' | 'customer_id';
export const SPEND_GROUPS: readonly SpendGroup[] = ['team', 'project', 'customer_id'];

/** One bar segment of the spend-over-time chart. */
export interface SpendPoint {
  day: string;
  key: string;
  usd: number;
}

export interface CostLine {
  usd: number;
  /** Exact text from the server (`$0.0005`). */
  cost: string;
}

export interface BudgetView {
  name: string;
  /** `team=ml, customer_id=acme`. */
  scope: string;
  mode: 'warn' | 'enforce';
  dailyUsd?: number;
  monthlyUsd?: number;
  spentTodayUsd: number;
  spentMonthUsd: number;
  state: 'ok' | 'exceeded';
  /** Every day of this month up to today (UTC) with that day's spend. */
  days: { day: string; usd: number }[];
}

export interface TopExperiment extends CostLine {
  experimentId: string;
  name: string;
}

export interface TopRun extends CostLine {
  runId: string;
  name: string;
  experimentId?: string;
}

export interface ViolationView {
  ts: number;
  kind: string;
  mode: 'warn' | 'enforce';
  message: string;
  refused: boolean;
  runId?: string;
  runName?: string;
}

export interface GovernanceOverview {
  enabled: true;
  config?: string;
  groupBy: SpendGroup;
  since: string;
  until: string;
  /** Every day of the period, oldest first (the chart's x domain: days without spend stay visible). */
  days: string[];
  spend: SpendPoint[];
  /** Per group key over the period, largest first. */
  groups: (CostLine & { key: string; operations: number })[];
  total: CostLine;
  budgets: BudgetView[];
  topExperiments: TopExperiment[];
  topRuns: TopRun[];
  violations: ViolationView[];
}

export interface GovernanceOff {
  enabled: false;
}

export interface AuditRow {
  seq: number;
  ts: number;
  actor: string;
  op: string;
  runId?: string;
  experimentId?: string;
  /** Other target ids (model name, trace id…) as `key=value`. */
  target: string;
  attribution: string;
  outcome: string;
  reason?: string;
  costUsd: number;
  /** The entry this one takes back (its operation failed after it was audited). */
  reverses?: number;
}

export interface AuditFilter {
  op?: string;
  runId?: string;
  outcome?: string;
}

export interface AuditPage {
  rows: AuditRow[];
  /** Set when older entries follow: pass it as `before` for the next page. */
  nextBefore?: number;
}

export interface RunCostView extends CostLine {
  attribution: Record<string, string>;
}

/** The governance request kinds → [request fields, result] (merged into UiCalls). */
export interface GovernanceCalls {
  /** `days`: the period ending today (UTC). */
  governanceOverview: [{ groupBy: SpendGroup; days: number }, GovernanceOverview | GovernanceOff];
  governanceAudit: [AuditFilter & { before?: number; limit: number }, AuditPage];
  /** null when the server does not govern its store. */
  runCost: [{ runId: string }, RunCostView | null];
}

/** What the Governance view keeps across reloads. */
export interface GovernanceViewState {
  groupBy?: SpendGroup;
  days?: number;
  auditFilter?: string;
}

export const AUDIT_OUTCOMES = ['ok', 'refused', 'failed', 'warned'] as const;

/**
 * The audit filter box's text: `op:createRun outcome:refused run:<id>`; a bare word is an outcome
 * when it names one, a run when it looks like a run id (32 hex digits), else an operation.
 */
export function parseAuditFilter(text: string): { filter: AuditFilter; error?: string } {
  const filter: AuditFilter = {};
  for (const token of text.trim().split(/\s+/).filter(Boolean)) {
    const m = /^(\w+)[:=](.*)$/.exec(token);
    const [key, value] = m ? [m[1]!.toLowerCase(), m[2]!] : ['', token];
    if (m && !value) return { filter, error: `'${token}' has no value after '${key}:'.` };
    if (key === 'op' || key === 'operation') filter.op = value;
    else if (key === 'run' || key === 'run_id') filter.runId = value;
    else if (key === 'outcome') {
      if (!(AUDIT_OUTCOMES as readonly string[]).includes(value)) return { filter, error: `outcome must be one of ${AUDIT_OUTCOMES.join(', ')} (got '${value}').` };
      filter.outcome = value;
    } else if (key) return { filter, error: `Unknown filter '${key}:' (use op:, run: or outcome:).` };
    else if ((AUDIT_OUTCOMES as readonly string[]).includes(value)) filter.outcome = value;
    else if (/^[0-9a-f]{32}$/i.test(value)) filter.runId = value;
    else filter.op = value;
  }
  return { filter };
}

/** Days from `since` to `until` inclusive (YYYY-MM-DD, UTC). */
export function daysBetween(since: string, until: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${since}T00:00:00Z`); t <= Date.parse(`${until}T00:00:00Z`) && out.length < 400; t += 86_400_000) out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}
