/**
 * The governance records as they travel over REST (README "Governance"): spend summaries, budget
 * states, violations, audit entries and a run's cost. The server's governed backend produces them
 * and the governance client reads them, so both name the one shape here.
 */
export interface CostSummaryRow {
  key: string;
  cost_usd: number;
  /** Exact amount as text (`$0.0005`): sums of many small charges stay exact. */
  cost: string;
  operations: number;
  /** Only when asked for (`series=day`): the row's spend per day, YYYY-MM-DD → dollars. */
  by_day?: Record<string, number> | undefined;
}

export interface CostSummary {
  group_by: string;
  since?: string | undefined;
  until?: string | undefined;
  rows: CostSummaryRow[];
  total_usd: number;
  total: string;
}

export interface BudgetStatus {
  name: string;
  scope: Record<string, string>;
  mode: 'warn' | 'enforce';
  daily_usd?: number | undefined;
  monthly_usd?: number | undefined;
  spent_today_usd: number;
  spent_month_usd: number;
  state: 'ok' | 'exceeded';
  /** The scope's spend per day this month (UTC), YYYY-MM-DD → dollars: the burn-down. */
  by_day: Record<string, number>;
}

export interface Violation {
  ts: number;
  kind: 'budget' | 'require_tags' | 'allowed_environments' | 'max_artifact_size_mb';
  mode: 'warn' | 'enforce';
  message: string;
  run_id?: string | undefined;
  experiment_id?: string | undefined;
  /** Whether the operation was refused (enforce) or only marked (warn). */
  refused: boolean;
}

export interface AuditRecord {
  seq: number;
  ts: number;
  actor: string;
  attribution: Record<string, string>;
  op: string;
  target: Record<string, string>;
  outcome: string;
  reason?: string | undefined;
  cost_usd: number;
  /** The seq of the entry this one takes back (its operation failed after it was audited). */
  reverses?: number | undefined;
  hash: string;
}

export interface RunCost {
  run_id: string;
  cost_usd: number;
  cost: string;
  attribution: Record<string, string>;
}
