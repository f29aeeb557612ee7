/**
 * What the server reads from a governed backend (see src/governance/): spend summaries, budgets,
 * violations and the audit trail. Absent on a backend served without a governance file.
 */
import type { AuditRecord, BudgetStatus, CostSummary, RunCost, Violation } from '../../domain/governanceRecords';

export type { AuditRecord, BudgetStatus, CostSummary, CostSummaryRow, RunCost, Violation } from '../../domain/governanceRecords';

export interface AuditQuery {
  since?: number | undefined;
  op?: string | undefined;
  runId?: string | undefined;
  outcome?: string | undefined;
  limit?: number | undefined;
  /** Only entries older than this sequence number (the next page of a newest-first listing). */
  beforeSeq?: number | undefined;
}

export interface GovernanceApi {
  /** Runs `fn` with `actor` as the operations' actor (the request's basic-auth user). */
  runAs<T>(actor: string | undefined, fn: () => Promise<T>): Promise<T>;
  summary(q: { groupBy: string; since?: string | undefined; until?: string | undefined; experimentId?: string | undefined; series?: string | undefined }): CostSummary;
  runCost(runId: string): RunCost;
  budgets(): BudgetStatus[];
  violations(limit?: number): Violation[];
  audit(q: AuditQuery): Promise<AuditRecord[]>;
  /** Where the configuration came from, for the views' header. */
  readonly configSource: string | undefined;
}
