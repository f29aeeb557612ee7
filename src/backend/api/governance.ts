/**
 * What the server reads from a governed backend (see src/governance/): spend summaries, budgets,
 * violations and the audit trail. Absent on a backend served without a governance file.
 */
export interface CostSummaryRow {
  key: string;
  cost_usd: number;
  /** Exact amount as text (`$0.0005`): sums of many small charges stay exact. */
  cost: string;
  operations: number;
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
  hash: string;
}

export interface AuditQuery {
  since?: number | undefined;
  op?: string | undefined;
  runId?: string | undefined;
  outcome?: string | undefined;
  limit?: number | undefined;
}

export interface GovernanceApi {
  /** Runs `fn` with `actor` as the operations' actor (the request's basic-auth user). */
  runAs<T>(actor: string | undefined, fn: () => Promise<T>): Promise<T>;
  summary(q: { groupBy: string; since?: string | undefined; until?: string | undefined; experimentId?: string | undefined }): CostSummary;
  runCost(runId: string): { run_id: string; cost_usd: number; cost: string; attribution: Record<string, string> };
  budgets(): BudgetStatus[];
  violations(limit?: number): Violation[];
  audit(q: AuditQuery): Promise<AuditRecord[]>;
  /** Where the configuration came from, for the views' header. */
  readonly configSource: string | undefined;
}
