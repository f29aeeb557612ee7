/**
 * The governance state of one served store: configuration, the cost ledger, the audit trail and
 * the violations seen. The decorator (governed.ts) asks it to check an operation before it is
 * applied and to record it after; the server's governance routes read it through GovernanceApi.
 */
import type { JournaledFile } from '../backend/api/journaledFiles';
import { AsyncLocalStorage } from 'node:async_hooks';
import * as os from 'node:os';
import type { AuditQuery, AuditRecord, BudgetStatus, CostSummary, GovernanceApi, Violation } from '../backend/api/governance';
import { MlflowError } from '../domain/errors';
import type { Logger } from '../domain/logger';
import type { SpanDict } from '../domain/traceTypes';
import { describeAttribution, inScope, type Attribution } from './attribution';
import { AuditLog, AUDIT_FILE, readAuditText, type AuditEntry, type AuditFields } from './auditLog';
import type { Budget, GovernanceConfig } from './config';
import { dayOf, GROUP_BYS, Ledger, type GroupBy } from './ledger';
import { formatUsd, fromNano, toNano } from './pricing';
import * as path from 'node:path';

/** Spans a client logged (a whole trace's, or one OTLP batch's), with the governance context of their trace. */
export interface IngestedSpans {
  /** The store's id, `tr-<32 hex>`. */
  traceId: string;
  experimentId: string | undefined;
  runId: string | undefined;
  attribution: Attribution;
  spans: SpanDict[];
  /** The OTLP resource they came with (service.name …), when ingested over OTLP. */
  resource?: Record<string, unknown> | undefined;
}

/** Receives every recorded operation (the OpenTelemetry exporter); must never block or throw. */
export interface OperationSink {
  onOperation(e: AuditEntry): void;
  /** Ingested traces' spans, when the config exports them (`otel.export_traces`). */
  onIngestedSpans?(batch: IngestedSpans): void;
  close(): Promise<void>;
}

export interface GovernanceOptions {
  config: GovernanceConfig;
  /** Folder of the audit trail (`<store>/.governance`). */
  dir: string;
  log: Logger;
  sink?: OperationSink | undefined;
  /**
   * The trail's file kept through the store's journal (the local store offers it): each entry
   * then shares the store's fdatasync instead of paying its own. Without it the trail syncs itself.
   */
  journaled?: JournaledFile | undefined;
}

const MAX_VIOLATIONS = 10_000;

export class Governance implements GovernanceApi {
  private readonly als = new AsyncLocalStorage<{ actor: string | undefined }>();
  private readonly violationList: Violation[] = [];
  /** Run → its mlflow.user, the actor of its operations when the request names none. */
  private readonly runUsers = new Map<string, string>();
  private readonly osUser: string;
  private readonly closing: (() => Promise<void>)[] = [];

  private constructor(
    readonly config: GovernanceConfig,
    readonly ledger: Ledger,
    private readonly trail: AuditLog,
    private readonly log: Logger,
    private readonly sink: OperationSink | undefined,
  ) {
    this.osUser = safeOsUser();
  }

  static async open(opts: GovernanceOptions): Promise<Governance> {
    const ledger = new Ledger(opts.config.pricing, opts.config.budgets.map((b) => b.scope));
    const replayed: AuditEntry[] = [];
    const trail = await AuditLog.open(opts.dir, (e) => {
      ledger.apply(e);
      replayed.push(e);
    }, (m) => opts.log.warn(m), opts.journaled);
    const g = new Governance(opts.config, ledger, trail, opts.log, opts.sink);
    for (const e of replayed) g.noteReplayed(e);
    return g;
  }

  get configSource(): string | undefined {
    return this.config.source;
  }

  get auditFile(): string {
    return this.trail.file;
  }

  private noteReplayed(e: AuditEntry): void {
    if (e.op === 'createRun' && e.target.run_id && e.actor) this.runUsers.set(e.target.run_id, e.actor);
    if (e.outcome === 'refused' || e.outcome === 'warned') this.pushViolation(violationOfEntry(e));
  }

  runAs<T>(actor: string | undefined, fn: () => Promise<T>): Promise<T> {
    // No request user (no auth): nothing to carry, and AsyncLocalStorage stays unused, so the
    // process never pays for its promise hooks on every await of every request.
    if (!actor) return fn();
    return this.als.run({ actor }, fn);
  }

  /** The request's user, else the run's mlflow.user, else whoever runs the server. */
  actorFor(runId?: string, runUser?: string): string {
    return this.als.getStore()?.actor || runUser || (runId ? this.runUsers.get(runId) : undefined) || this.osUser;
  }

  noteRunUser(runId: string, user: string | undefined): void {
    if (user) this.runUsers.set(runId, user);
  }

  /** Budgets whose scope covers the attribution. */
  private budgetsFor(attribution: Attribution): Budget[] {
    return this.config.budgets.filter((b) => inScope(b.scope, attribution));
  }

  private spent(b: Budget, nowMs: number): { today: number; month: number } {
    const today = dayOf(nowMs);
    return { today: this.ledger.spendNano(b.scope, today, today), month: this.ledger.spendNano(b.scope, today.slice(0, 8) + '01', today) };
  }

  /** Throws RESOURCE_EXHAUSTED when an enforced budget would be exceeded by `costNano` more. */
  checkBudgets(attribution: Attribution, costNano: number, nowMs: number): void {
    for (const b of this.budgetsFor(attribution)) {
      if (b.mode !== 'enforce') continue;
      const over = this.overBy(b, costNano, nowMs);
      if (over) throw new MlflowError('RESOURCE_EXHAUSTED', `Budget '${b.label}' is exhausted: ${over}. ${this.raiseHint(b)}`);
    }
  }

  /** Whether any budget is in warn mode (else nothing is checked after a charge). */
  get hasWarnBudgets(): boolean {
    return this.config.budgets.some((b) => b.mode === 'warn');
  }

  /** Warn-mode budgets the spend so far has gone over (checked after an operation is charged). */
  exceededWarnBudgets(attribution: Attribution, nowMs: number): { budget: Budget; message: string }[] {
    const out: { budget: Budget; message: string }[] = [];
    for (const b of this.budgetsFor(attribution)) {
      if (b.mode !== 'warn') continue;
      const over = this.overBy(b, 0, nowMs, true);
      if (over) out.push({ budget: b, message: `Budget '${b.label}' exceeded: ${over}` });
    }
    return out;
  }

  private overBy(b: Budget, extraNano: number, nowMs: number, strictlyOver = false): string | undefined {
    const s = this.spent(b, nowMs);
    const exceeds = (spent: number, limitUsd: number) => {
      const limit = toNano(limitUsd);
      return strictlyOver ? spent > limit : spent + extraNano > limit;
    };
    if (b.dailyUsd !== undefined && exceeds(s.today, b.dailyUsd)) return `spent ${formatUsd(s.today)} of ${formatUsd(toNano(b.dailyUsd))} today (UTC)`;
    if (b.monthlyUsd !== undefined && exceeds(s.month, b.monthlyUsd)) return `spent ${formatUsd(s.month)} of ${formatUsd(toNano(b.monthlyUsd))} this month`;
    return undefined;
  }

  private raiseHint(b: Budget): string {
    const where = this.config.source ? `in ${this.config.source}` : 'in the governance configuration';
    return `Raise daily_usd/monthly_usd of the budget with scope {${describeAttribution(b.scope)}} ${where} and restart the server, or wait for the next day/month.`;
  }

  /** Appends to the trail (resolving once on disk), charges the ledger and notes violations. */
  async record(fields: AuditFields, violation?: Omit<Violation, 'ts' | 'refused' | 'message'> & { message?: string }): Promise<AuditEntry> {
    let entry: AuditEntry;
    try {
      entry = await this.trail.append(fields);
    } catch (err) {
      // The operation itself was applied (or refused) already; a failing trail must not turn an
      // applied write into an error the client would retry. The gap is logged loudly.
      this.log.error(`audit trail: could not record ${fields.op} (${fields.outcome}): ${(err as Error).message}`);
      entry = { ...fields, seq: 0, prev: '', hash: '' };
    }
    this.ledger.apply(entry);
    if (violation) this.pushViolation({ ts: fields.ts, refused: fields.outcome === 'refused', message: violation.message ?? fields.reason ?? '', kind: violation.kind, mode: violation.mode, run_id: violation.run_id, experiment_id: violation.experiment_id });
    if (this.sink) {
      try {
        this.sink.onOperation(entry);
      } catch (err) {
        this.log.warn(`governance export: ${(err as Error).message}`);
      }
    }
    return entry;
  }

  /** Whether the governed store refuses writes now: a write is then applied before it is audited. */
  get storeRefusing(): boolean {
    return this.trail.storeRefusing;
  }

  /** Whether ingested traces go to the exporter too (`otel: {export_traces: true}`). */
  get exportsTraces(): boolean {
    return this.config.otel.exportTraces && !!this.sink?.onIngestedSpans;
  }

  /** Hands ingested spans to the exporter (batched there; never throws into a client's write). */
  exportSpans(batch: IngestedSpans): void {
    if (!this.exportsTraces || !batch.spans.length) return;
    try {
      this.sink!.onIngestedSpans!(batch);
    } catch (err) {
      this.log.warn(`governance export of trace ${batch.traceId}: ${(err as Error).message}`);
    }
  }

  /** Logs a failure of work done after a write was acknowledged (an export's reads). */
  warn(message: string): void {
    this.log.warn(message);
  }

  private pushViolation(v: Violation): void {
    this.violationList.push(v);
    if (this.violationList.length > MAX_VIOLATIONS) this.violationList.splice(0, this.violationList.length - MAX_VIOLATIONS);
  }

  // ---- GovernanceApi --------------------------------------------------------------------------

  summary(q: { groupBy: string; since?: string | undefined; until?: string | undefined; experimentId?: string | undefined; series?: string | undefined }): CostSummary {
    if (q.series !== undefined && q.series !== 'day') throw new MlflowError('INVALID_PARAMETER_VALUE', `series must be 'day' (got '${q.series}')`);
    if (!(GROUP_BYS as readonly string[]).includes(q.groupBy)) throw new MlflowError('INVALID_PARAMETER_VALUE', `group_by must be one of ${GROUP_BYS.join(', ')} (got '${q.groupBy}')`);
    for (const [k, v] of [['since', q.since], ['until', q.until]] as const) {
      if (v !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(v)) throw new MlflowError('INVALID_PARAMETER_VALUE', `${k} must be a day as YYYY-MM-DD (got '${v}')`);
    }
    const s = this.ledger.summary({ groupBy: q.groupBy as GroupBy, since: q.since, until: q.until, experimentId: q.experimentId, byDay: q.series === 'day' });
    return {
      group_by: q.groupBy,
      ...(q.since ? { since: q.since } : {}),
      ...(q.until ? { until: q.until } : {}),
      rows: s.rows.map((r) => ({ key: r.key, cost_usd: fromNano(r.cost_nano), cost: formatUsd(r.cost_nano), operations: r.operations, ...(r.by_day ? { by_day: usdByDay(r.by_day) } : {}) })),
      total_usd: fromNano(s.total_nano),
      total: formatUsd(s.total_nano),
    };
  }

  runCost(runId: string): { run_id: string; cost_usd: number; cost: string; attribution: Record<string, string> } {
    const nano = this.ledger.runTotalNano(runId);
    return { run_id: runId, cost_usd: fromNano(nano), cost: formatUsd(nano), attribution: this.ledger.attributionOf(runId) as Record<string, string> };
  }

  runTotalText(runId: string): string {
    return formatUsd(this.ledger.runTotalNano(runId));
  }

  budgets(): BudgetStatus[] {
    const now = Date.now();
    return this.config.budgets.map((b) => {
      const s = this.spent(b, now);
      const over = (b.dailyUsd !== undefined && s.today > toNano(b.dailyUsd)) || (b.monthlyUsd !== undefined && s.month > toNano(b.monthlyUsd));
      const today = dayOf(now);
      const byDay = usdByDay(this.ledger.spendByDayNano(b.scope, today.slice(0, 8) + '01', today));
      return { name: b.label, scope: b.scope as Record<string, string>, mode: b.mode, daily_usd: b.dailyUsd, monthly_usd: b.monthlyUsd, spent_today_usd: fromNano(s.today), spent_month_usd: fromNano(s.month), state: over ? 'exceeded' : 'ok', by_day: byDay };
    });
  }

  violations(limit = 500): Violation[] {
    return this.violationList.slice(-limit).reverse();
  }

  async audit(q: AuditQuery): Promise<AuditRecord[]> {
    const text = await readAuditText(this.trail.file);
    const out: AuditRecord[] = [];
    const limit = Math.min(q.limit ?? 500, 10_000);
    const lines = text.split('\n');
    // Newest first: walk from the end and stop at the limit.
    for (let i = lines.length - 1; i >= 0 && out.length < limit; i--) {
      if (!lines[i]) continue;
      let e: AuditEntry;
      try {
        e = JSON.parse(lines[i]!) as AuditEntry;
      } catch {
        continue;
      }
      if (q.since !== undefined && e.ts < q.since) break;
      if (q.beforeSeq !== undefined && e.seq >= q.beforeSeq) continue;
      if (q.op && e.op !== q.op) continue;
      if (q.runId && e.target.run_id !== q.runId) continue;
      if (q.outcome && e.outcome !== q.outcome) continue;
      out.push({ seq: e.seq, ts: e.ts, actor: e.actor, attribution: e.attribution as Record<string, string>, op: e.op, target: e.target as Record<string, string>, outcome: e.outcome, ...(e.reason ? { reason: e.reason } : {}), cost_usd: fromNano(e.cost_nano), ...(e.reverses !== undefined ? { reverses: e.reverses } : {}), hash: e.hash });
    }
    return out;
  }

  /** Work to finish before the exporter closes (spans still waiting for their trace's end). */
  onClose(flush: () => Promise<void>): void {
    this.closing.push(flush);
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.closing.map((f) => f()));
    await this.trail.close();
    await this.sink?.close().catch(() => undefined);
  }
}

function usdByDay(nano: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...nano].sort(([a], [b]) => a.localeCompare(b)).map(([day, n]) => [day, fromNano(n)]));
}

function violationOfEntry(e: AuditEntry): Violation {
  const kind = (e.reason?.match(/^\[(\w+)\]/)?.[1] ?? 'budget') as Violation['kind'];
  return { ts: e.ts, kind, mode: e.outcome === 'refused' ? 'enforce' : 'warn', message: e.reason ?? '', run_id: e.target.run_id, experiment_id: e.target.experiment_id, refused: e.outcome === 'refused' };
}

function safeOsUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

export function auditFileIn(dir: string): string {
  return path.join(dir, AUDIT_FILE);
}
