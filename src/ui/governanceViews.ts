/**
 * Answers the governance requests of the views from the server's governance routes: one overview
 * (spend per day by team/project/customer, budgets with their burn-down, top experiments and runs,
 * violations), audit pages, and a run's cost. Names of runs and experiments are looked up here so
 * the view gets rows it can show as they are.
 */
import { GovernanceClient, type WireAuditEntry, type WireBudget } from '../client/governanceClient';
import type { TrackingClient } from '../client/trackingClient';
import { daysBetween, SPEND_GROUPS, type AuditPage, type AuditRow, type BudgetView, type GovernanceCalls, type GovernanceOff, type GovernanceOverview, type RunCostView, type SpendGroup } from './governanceProtocol';

type Req<K extends keyof GovernanceCalls> = GovernanceCalls[K][0];

const TOP = 10;
const VIOLATIONS = 200;
const MAX_DAYS = 366;
const MAX_AUDIT_PAGE = 500;

const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

function budgetView(b: WireBudget, today: string): BudgetView {
  const byDay = b.by_day ?? {};
  return {
    name: b.name,
    scope: Object.entries(b.scope).map(([k, v]) => `${k}=${v}`).join(', '),
    mode: b.mode,
    ...(b.daily_usd !== undefined ? { dailyUsd: b.daily_usd } : {}),
    ...(b.monthly_usd !== undefined ? { monthlyUsd: b.monthly_usd } : {}),
    spentTodayUsd: b.spent_today_usd,
    spentMonthUsd: b.spent_month_usd,
    state: b.state,
    days: daysBetween(today.slice(0, 8) + '01', today).map((day) => ({ day, usd: byDay[day] ?? 0 })),
  };
}

function auditRow(e: WireAuditEntry): AuditRow {
  const { run_id: runId, experiment_id: experimentId, ...rest } = e.target;
  return {
    seq: e.seq,
    ts: e.ts,
    actor: e.actor,
    op: e.op,
    ...(runId ? { runId } : {}),
    ...(experimentId ? { experimentId } : {}),
    target: Object.entries(rest).map(([k, v]) => `${k}=${v}`).join(', '),
    attribution: Object.entries(e.attribution).map(([k, v]) => `${k}=${v}`).join(', '),
    outcome: e.outcome,
    ...(e.reason ? { reason: e.reason } : {}),
    costUsd: e.cost_usd,
    ...(e.reverses !== undefined ? { reverses: e.reverses } : {}),
  };
}

export class GovernanceViews {
  private readonly gov: GovernanceClient;

  constructor(private readonly client: TrackingClient) {
    this.gov = new GovernanceClient(client);
  }

  /** Answers a governance request; undefined when `request` is not one (the caller answers it). */
  handle(request: { kind: string }): Promise<unknown> | undefined {
    const r = request as never;
    switch (request.kind as keyof GovernanceCalls) {
      case 'governanceOverview':
        return this.overview(r);
      case 'governanceAudit':
        return this.audit(r);
      case 'runCost':
        return this.runCost(r);
      default:
        return undefined;
    }
  }

  private async overview(r: Req<'governanceOverview'>): Promise<GovernanceOverview | GovernanceOff> {
    const status = await this.gov.status();
    if (!status.enabled) return { enabled: false };
    const groupBy: SpendGroup = SPEND_GROUPS.includes(r.groupBy) ? r.groupBy : 'team';
    const span = Math.max(1, Math.min(MAX_DAYS, Math.floor(Number(r.days) || 30)));
    const now = Date.now();
    const until = dayOf(now);
    const since = dayOf(now - (span - 1) * 86_400_000);
    const [spend, byExperiment, byRun, budgets, violations, experiments] = await Promise.all([
      this.gov.summary({ groupBy, since, until, series: 'day' }),
      this.gov.summary({ groupBy: 'experiment', since, until }),
      this.gov.summary({ groupBy: 'run', since, until }),
      this.gov.budgets(),
      this.gov.violations(VIOLATIONS),
      this.client.listExperiments('ALL').catch(() => []),
    ]);
    const expNames = new Map(experiments.map((e) => [e.experiment_id, e.name]));
    const topRunRows = byRun.rows.filter((x) => x.key !== '(none)').slice(0, TOP);
    // Names for the runs shown (top runs and violations); a deleted or unknown run keeps its id.
    const runIds = [...new Set([...topRunRows.map((x) => x.key), ...violations.map((v) => v.run_id).filter((id): id is string => Boolean(id))])].slice(0, 100);
    const runs = new Map(
      (await Promise.all(runIds.map((id) => this.client.getRun(id).catch(() => undefined)))).filter((x) => x !== undefined).map((x) => [x.info.run_id, x]),
    );
    return {
      enabled: true,
      ...(status.config ? { config: status.config } : {}),
      groupBy,
      since,
      until,
      days: daysBetween(since, until),
      spend: spend.rows.flatMap((row) => Object.entries(row.by_day ?? {}).map(([day, usd]) => ({ day, key: row.key, usd }))),
      groups: spend.rows.map((x) => ({ key: x.key, usd: x.cost_usd, cost: x.cost, operations: x.operations })),
      total: { usd: spend.total_usd, cost: spend.total },
      budgets: budgets.map((b) => budgetView(b, until)),
      topExperiments: byExperiment.rows
        .filter((x) => x.key !== '(none)')
        .slice(0, TOP)
        .map((x) => ({ experimentId: x.key, name: expNames.get(x.key) ?? x.key, usd: x.cost_usd, cost: x.cost })),
      topRuns: topRunRows.map((x) => {
        const run = runs.get(x.key);
        return { runId: x.key, name: run?.info.run_name || x.key, ...(run ? { experimentId: run.info.experiment_id } : {}), usd: x.cost_usd, cost: x.cost };
      }),
      violations: violations.map((v) => {
        const run = v.run_id ? runs.get(v.run_id) : undefined;
        return { ts: v.ts, kind: v.kind, mode: v.mode, message: v.message, refused: v.refused, ...(v.run_id ? { runId: v.run_id } : {}), ...(run?.info.run_name ? { runName: run.info.run_name } : {}) };
      }),
    };
  }

  private async audit(r: Req<'governanceAudit'>): Promise<AuditPage> {
    const limit = Math.max(1, Math.min(MAX_AUDIT_PAGE, Math.floor(Number(r.limit) || 50)));
    const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);
    const before = Number.isInteger(r.before) ? r.before : undefined;
    // One more than the page: whether older entries follow.
    const entries = await this.gov.audit({ op: str(r.op), runId: str(r.runId), outcome: str(r.outcome), before, limit: limit + 1 });
    const rows = entries.slice(0, limit).map(auditRow);
    return { rows, ...(entries.length > limit && rows.length ? { nextBefore: rows[rows.length - 1]!.seq } : {}) };
  }

  private async runCost(r: Req<'runCost'>): Promise<RunCostView | null> {
    const status = await this.gov.status();
    if (!status.enabled) return null;
    const c = await this.gov.runCost(String(r.runId));
    return c ? { usd: c.cost_usd, cost: c.cost, attribution: c.attribution } : null;
  }
}
