/**
 * Runlens's governance routes over REST (README "Governance"): spend summaries, a run's cost,
 * budgets, violations and the audit trail. Kept apart from TrackingClient so each stays readable.
 */
import type { AuditRecord, BudgetStatus, CostSummary, CostSummaryRow, RunCost, Violation } from '../domain/governanceRecords';
import { TrackingApiError, type TrackingClient } from './trackingClient';

const API = '/runlens/api/governance';

export type WireCostRow = CostSummaryRow;
export type WireCostSummary = CostSummary;
/** Older servers send no `by_day`. */
export type WireBudget = Omit<BudgetStatus, 'by_day'> & { by_day?: Record<string, number> };
export type WireViolation = Violation;
export type WireAuditEntry = AuditRecord;
export type WireRunCost = RunCost;

export class GovernanceClient {
  constructor(private readonly client: TrackingClient) {}

  /** Whether the server governs its store; a server without the routes (plain MLflow) does not. */
  async status(): Promise<{ enabled: boolean; config?: string }> {
    try {
      return await this.client.request<{ enabled: boolean; config?: string }>('GET', API);
    } catch (err) {
      if (err instanceof TrackingApiError && (err.status === 404 || err.errorCode === 'ENDPOINT_NOT_FOUND')) return { enabled: false };
      throw err;
    }
  }

  summary(q: { groupBy: string; since?: string; until?: string; series?: 'day' }): Promise<WireCostSummary> {
    return this.client.request<WireCostSummary>('GET', `${API}/summary`, { group_by: q.groupBy, since: q.since, until: q.until, series: q.series });
  }

  async budgets(): Promise<WireBudget[]> {
    return (await this.client.request<{ budgets: WireBudget[] }>('GET', `${API}/budgets`)).budgets;
  }

  async violations(limit: number): Promise<WireViolation[]> {
    return (await this.client.request<{ violations: WireViolation[] }>('GET', `${API}/violations`, { limit })).violations;
  }

  async audit(q: { op?: string | undefined; runId?: string | undefined; outcome?: string | undefined; before?: number | undefined; limit: number }): Promise<WireAuditEntry[]> {
    return (await this.client.request<{ entries: WireAuditEntry[] }>('GET', `${API}/audit`, { op: q.op, run_id: q.runId, outcome: q.outcome, before: q.before, limit: q.limit })).entries;
  }

  /** A run's cost (its children included); undefined when the server does not govern its store. */
  async runCost(runId: string): Promise<WireRunCost | undefined> {
    try {
      return await this.client.request<WireRunCost>('GET', `${API}/run-cost`, { run_id: runId });
    } catch (err) {
      if (err instanceof TrackingApiError && (err.status === 404 || err.errorCode === 'ENDPOINT_NOT_FOUND')) return undefined;
      throw err;
    }
  }
}
