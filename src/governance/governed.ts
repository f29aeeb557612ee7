/**
 * governed(backend, governance): the same backend, with every mutating operation checked against
 * budgets and policies before it is applied, then charged and written to the audit trail before
 * it is acknowledged. Reads pass through (a run's cost is added to getRun/searchRuns as the
 * `genops.cost.total_usd` tag). Any client works unchanged: this is all server-side.
 */
import { randomUUID } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import type { ArtifactRepository } from '../backend/api/artifacts';
import type { GovernanceApi } from '../backend/api/governance';
import type { TraceStore } from '../backend/api/traces';
import type { CreateRunRequest, LogBatchRequest, TrackingStore, UpdateRunRequest } from '../backend/api/tracking';
import { MlflowError } from '../domain/errors';
import { COST_TAG } from '../domain/genopsTags';
import { spanModel, spanTokenUsage } from '../domain/spanDict';
import { TraceKeys, type SpanDict } from '../domain/traceTypes';
import type { Run, Tag } from '../domain/types';
import { ATTRIBUTES, attributeOfTag, attributeTag, attributionOfTags, missingAttributionTags, PARENT_RUN_TAG, USER_TAG, VIOLATION_TAG_PREFIX, type Attribution } from './attribution';
import type { AuditFields, AuditTarget } from './auditLog';
import type { Governance } from './governance';
import { llmCostNano, toNano } from './pricing';

/** The tag a governed backend adds to runs it returns: the run's spend, its children included. */
export { COST_TAG };

type Kind = 'tracking' | 'registry';

interface Op {
  name: string;
  kind: Kind;
  target: AuditTarget;
  /** Run-attributed operations are charged to the run's attribution. */
  runId?: string | undefined;
  /** Attribution/parent tags the operation sets (tracked by the ledger). */
  tags?: Record<string, string> | undefined;
  extraNano?: number | undefined;
  llmNano?: Record<string, number> | undefined;
  bytes?: number | undefined;
  /** Charged but never refused by a budget: ending a run (refusing it would leave it RUNNING). */
  exemptFromBudgets?: boolean | undefined;
  /** Its audit entry names what applying it found (a new run's id, LLM calls of stored spans): written after. */
  settledByApply?: boolean | undefined;
}

const TERMINAL = new Set(['FINISHED', 'FAILED', 'KILLED']);
/** How long OTLP-ingested spans wait for more of their trace (or its start) before they are exported. */
const HOLD_SPANS_MS = 3000;
const MAX_HELD_TRACES = 5000;
/** A trace still receiving spans goes on in parts of at most this many, or this often. */
const MAX_HELD_SPANS = 1000;
const MAX_HOLD_MS = 30_000;

function hasKeys(o: Record<string, string>): boolean {
  for (const _ in o) return true;
  return false;
}

export type GovernedStore = TrackingStore & { readonly governance: GovernanceApi };

export function governed(inner: TrackingStore, gov: Governance): GovernedStore {
  const g = new Governor(inner, gov);
  return g.store();
}

class Governor {
  constructor(
    private readonly inner: TrackingStore,
    private readonly gov: Governance,
  ) {}

  private get cfg() {
    return this.gov.config;
  }

  private priceOf(kind: Kind): number {
    return toNano(kind === 'registry' ? this.cfg.pricing.registryOpUsd : this.cfg.pricing.trackingCallUsd);
  }

  /** Makes sure the ledger knows a run created before governance was on (its tags and parent). */
  private async knownRunTags(runId: string): Promise<Record<string, string> | undefined> {
    if (this.gov.ledger.experimentOf(runId) !== undefined) return undefined;
    try {
      const run = await this.inner.getRun(runId);
      this.gov.noteRunUser(runId, run.info.user_id);
      const tags: Record<string, string> = {};
      for (const t of run.data.tags) if (attributeOfTag(t.key) || t.key === PARENT_RUN_TAG) tags[t.key] = t.value;
      return tags;
    } catch {
      return undefined;
    }
  }

  private attributionFor(op: Op): Attribution {
    const own = op.runId ? this.gov.ledger.attributionOf(op.runId) : {};
    for (const [k, v] of Object.entries(op.tags ?? {})) {
      const a = attributeOfTag(k);
      if (a) own[a] = v;
    }
    return op.runId ? own : { ...this.cfg.defaults, ...own };
  }

  /** Checks, applies, charges and audits one operation. */
  async run<R>(op: Op, apply: () => Promise<R>, check?: (attribution: Attribution) => void): Promise<R> {
    const now = Date.now();
    if (op.runId) {
      const known = this.gov.ledger.experimentOf(op.runId) === undefined ? await this.knownRunTags(op.runId) : undefined;
      if (known) op.tags = { ...known, ...(op.tags ?? {}) };
      op.target.run_id ??= op.runId;
      op.target.experiment_id ??= this.gov.ledger.experimentOf(op.runId);
    }
    const attribution = this.attributionFor(op);
    const actor = this.gov.actorFor(op.runId);
    const cost = this.priceOf(op.kind) + (op.extraNano ?? 0);
    const base: Omit<AuditFields, 'outcome' | 'cost_nano'> = { ts: now, actor, attribution, op: op.name, target: op.target };
    if (op.tags && hasKeys(op.tags)) base.tags = op.tags;
    try {
      check?.(attribution);
      if (!op.exemptFromBudgets) this.gov.checkBudgets(attribution, cost, now);
    } catch (err) {
      if (err instanceof MlflowError) {
        const kind = err.errorCode === 'RESOURCE_EXHAUSTED' ? 'budget' : ((err as PolicyError).policy ?? 'budget');
        await this.gov.record({ ...base, outcome: 'refused', reason: `[${kind}] ${err.message}`, cost_nano: 0 }, { kind, mode: 'enforce', run_id: op.runId, experiment_id: op.target.experiment_id, message: err.message });
      }
      throw err;
    }
    const reasonOf = (err: unknown) => (err instanceof Error ? err.message.slice(0, 500) : String(err));
    const charge = (): AuditFields => {
      // Built field by field (no spreads): this runs for every governed write.
      // The same keys in the same order as the other entries of the trail.
      const entry = { ts: base.ts, actor: base.actor, attribution: base.attribution, op: base.op, target: base.target } as AuditFields;
      if (base.tags) entry.tags = base.tags;
      entry.outcome = 'ok';
      entry.cost_nano = cost;
      if (op.bytes) entry.bytes = op.bytes;
      if (op.llmNano) {
        let llm = 0;
        for (const k in op.llmNano) llm += op.llmNano[k]!;
        if (llm) {
          entry.cost_nano += llm;
          entry.llm_nano = op.llmNano;
        }
      }
      return entry;
    };
    let result: R;
    if (op.settledByApply || op.bytes || this.gov.storeRefusing) {
      // The entry needs what applying finds (the new run, the bytes or LLM calls stored): after it.
      // So while the store refuses writes: one `failed` entry, not an `ok` and its reversal.
      try {
        result = await apply();
      } catch (err) {
        await this.gov.record({ ...base, outcome: 'failed', reason: reasonOf(err), cost_nano: 0 });
        throw err;
      }
      await this.gov.record(charge());
    } else {
      // Audited as it is applied: the trail's sync overlaps the store's, so a write waits for one
      // sync, not two in a row. Both are on disk before the write is acknowledged. Applying can
      // still fail (a bad request, a full disk): a reversing entry then takes the charge back.
      const charged = this.gov.record(charge());
      try {
        result = await apply();
      } catch (err) {
        const entry = await charged;
        const takenBack = { cost_nano: -entry.cost_nano, ...(entry.llm_nano ? { llm_nano: negated(entry.llm_nano) } : {}) };
        if (entry.seq === 0) {
          // The trail could not take the entry either (the disk refused both): its charge is taken
          // back in the live ledger alone, and the trail gets a plain failed entry charging nothing.
          this.gov.ledger.apply({ ...entry, outcome: 'failed', ...takenBack, reverses: 0 });
          await this.gov.record({ ...base, outcome: 'failed', reason: reasonOf(err), cost_nano: 0 });
        } else await this.gov.record({ ...base, outcome: 'failed', reason: reasonOf(err), ...takenBack, reverses: entry.seq });
        throw err;
      }
      await charged;
    }
    const marks = this.warnMarks(op, now);
    if (marks) await marks;
    return result;
  }

  /** Warn-mode budgets: mark the run (once per budget) and list the violation; undefined when there is nothing to mark. */
  private warnMarks(op: Op, now: number): Promise<void> | undefined {
    if (!op.runId || !this.gov.hasWarnBudgets) return undefined;
    const runId = op.runId;
    const due = this.gov.exceededWarnBudgets(this.gov.ledger.attributionOf(runId), now).filter(({ budget }) => !this.marked.has(`${runId}\0${budget.label}`));
    if (!due.length) return undefined;
    return (async () => {
      for (const { budget, message } of due) {
        if (this.marked.has(`${runId}\0${budget.label}`)) continue;
        this.marked.add(`${runId}\0${budget.label}`);
        await this.mark(runId, 'budget', message, op.target.experiment_id);
      }
    })();
  }

  private readonly marked = new Set<string>();

  /** Records a warn-mode violation and tags the run with it (the tag is not charged). */
  private async mark(runId: string, kind: 'budget' | 'require_tags' | 'allowed_environments' | 'max_artifact_size_mb', message: string, experimentId: string | undefined): Promise<void> {
    // The tag and the trail's entry are written side by side (their syncs overlap).
    await Promise.all([
      this.inner.setTag(runId, { key: VIOLATION_TAG_PREFIX + kind, value: message.slice(0, 5000) }).catch(() => undefined),
      this.gov.record(
        { ts: Date.now(), actor: 'runlens', attribution: this.gov.ledger.attributionOf(runId), op: 'violation', target: { run_id: runId, ...(experimentId ? { experiment_id: experimentId } : {}) }, outcome: 'warned', reason: `[${kind}] ${message}`, cost_nano: 0 },
        { kind, mode: 'warn', run_id: runId, experiment_id: experimentId, message },
      ),
    ]);
  }

  // ---- policies -----------------------------------------------------------------------------

  private checkEnvironment(env: string | undefined, runId: string | undefined, experimentId: string | undefined): Promise<void> | void {
    const p = this.cfg.policies.allowedEnvironments;
    if (!p || env === undefined || p.values.includes(env)) return;
    const message = `environment '${env}' is not allowed (allowed: ${p.values.join(', ')}); set the genops.environment tag to one of them`;
    if (p.mode === 'enforce') throw policyError('allowed_environments', `Policy allowed_environments: ${message}.`);
    if (runId) return this.mark(runId, 'allowed_environments', message, experimentId);
  }

  /**
   * A run that ends without its required tags is marked. Ending changes no tag, so they are read
   * first, and the mark goes out beside the end: its tag joins the end's journal group and its
   * entry the end's audit group (both writers cut a group at the end of the event loop's turn),
   * so the end waits for one round of syncs, not two in a row. An end refused before it is
   * written (a run not found or deleted) marks nothing.
   */
  private async endWithRequiredTags<R>(runId: string, end: () => Promise<R>): Promise<R> {
    const p = this.cfg.policies.requireTags;
    if (!p) return end();
    const run = await this.inner.getRun(runId).catch(() => undefined);
    const have = new Set(run?.data.tags.filter((t) => t.value !== '').map((t) => t.key));
    const missing = run && run.info.lifecycle_stage === 'active' ? p.tags.filter((t) => !have.has(t)) : [];
    if (!run || !missing.length) return end();
    const ended = end();
    let refused = false;
    ended.catch(() => (refused = true));
    await null; // an end refused as it was asked (nothing written) has settled by now
    if (refused) return ended;
    const [result] = await Promise.all([ended, this.mark(runId, 'require_tags', `run ended without required tags: ${missing.join(', ')} (policy require_tags, mode ${p.mode})`, run.info.experiment_id)]);
    return result;
  }

  // ---- the decorated concerns ---------------------------------------------------------------

  store(): GovernedStore {
    const inner = this.inner;
    const self = this;
    const runOp = (name: string, runId: string, tags?: Record<string, string>): Op => ({ name, kind: 'tracking', target: { run_id: runId }, runId, tags });
    const expOp = (name: string, experimentId?: string): Op => ({ name, kind: 'tracking', target: experimentId ? { experiment_id: experimentId } : {} });
    const tagsOf = (tags: Tag[] | undefined): Record<string, string> => {
      const out: Record<string, string> = {};
      for (const t of tags ?? []) if (attributeOfTag(t.key) || t.key === PARENT_RUN_TAG) out[t.key] = t.value;
      return out;
    };
    const envCheck = (runId: string, tags: Record<string, string>) => () => self.checkEnvironment(tags[attributeTag('environment')], runId, self.gov.ledger.experimentOf(runId));

    const tracking: Partial<TrackingStore> = {
      createExperiment: (name, loc, tags) => self.run(expOp('createExperiment'), () => inner.createExperiment(name, loc, tags)),
      renameExperiment: (id, n) => self.run(expOp('renameExperiment', id), () => inner.renameExperiment(id, n)),
      deleteExperiment: (id) => self.run(expOp('deleteExperiment', id), () => inner.deleteExperiment(id)),
      restoreExperiment: (id) => self.run(expOp('restoreExperiment', id), () => inner.restoreExperiment(id)),
      setExperimentTag: (id, k, v) => self.run(expOp('setExperimentTag', id), () => inner.setExperimentTag(id, k, v)),
      deleteExperimentTag: (id, k) => self.run(expOp('deleteExperimentTag', id), () => inner.deleteExperimentTag(id, k)),
      createRun: (req) => self.createRun(req),
      updateRun: (runId, req: UpdateRunRequest) =>
        self.run({ ...runOp('updateRun', runId), exemptFromBudgets: req.status !== undefined && TERMINAL.has(req.status) }, () =>
          req.status && TERMINAL.has(req.status) ? self.endWithRequiredTags(runId, () => inner.updateRun(runId, req)) : inner.updateRun(runId, req),
        ),
      deleteRun: (runId) => self.run(runOp('deleteRun', runId), () => inner.deleteRun(runId)),
      restoreRun: (runId) => self.run(runOp('restoreRun', runId), () => inner.restoreRun(runId)),
      logMetric: (runId, m) => self.run(runOp('logMetric', runId), () => inner.logMetric(runId, m)),
      logParam: (runId, p) => self.run(runOp('logParam', runId), () => inner.logParam(runId, p)),
      setTag: (runId, tag) => {
        const tags = tagsOf([tag]);
        const op = runOp('setTag', runId, tags);
        return self.run(op, () => inner.setTag(runId, tag), () => void envThrowOnly(envCheck(runId, tags)));
      },
      deleteTag: (runId, key) => self.run(runOp('deleteTag', runId, attributeOfTag(key) ? { [key]: '' } : undefined), () => inner.deleteTag(runId, key)),
      logBatch: (runId, req: LogBatchRequest) => {
        const tags = tagsOf(req.tags);
        return self.run(runOp('logBatch', runId, tags), () => inner.logBatch(runId, req), () => void envThrowOnly(envCheck(runId, tags)));
      },
      logInputs: (runId, d, m) => self.run(runOp('logInputs', runId), () => inner.logInputs(runId, d, m)),
      logOutputs: (runId, m) => self.run(runOp('logOutputs', runId), () => inner.logOutputs(runId, m)),
      getRun: async (runId) => self.withCost(await inner.getRun(runId)),
      searchRuns: async (req) => {
        const page = await inner.searchRuns(req);
        return { ...page, items: page.items.map((r) => self.withCost(r)) };
      },
    };

    const registryWrites = ['createRegisteredModel', 'renameRegisteredModel', 'updateRegisteredModel', 'deleteRegisteredModel', 'setRegisteredModelTag', 'deleteRegisteredModelTag', 'setAlias', 'deleteAlias', 'updateModelVersion', 'transitionStage', 'deleteModelVersion', 'setModelVersionTag', 'deleteModelVersionTag'] as const;
    const registry = wrap(inner.registry, registryWrites, (name, args) => ({ name, kind: 'registry', target: { model: String(args[0] ?? ''), ...(name.includes('Version') || name === 'transitionStage' ? { version: String(args[1] ?? '') } : {}) } }), self);
    const createModelVersion: typeof inner.registry.createModelVersion = (req) =>
      self.run({ name: 'createModelVersion', kind: 'registry', target: { model: req.name }, ...(req.runId ? { runId: req.runId } : {}) }, () => inner.registry.createModelVersion(req));

    const loggedModelWrites = ['create', 'finalize', 'delete', 'setTags', 'deleteTag', 'logParams'] as const;
    const loggedModels = wrap(inner.loggedModels, loggedModelWrites, (name, args) => {
      const req = args[0] as { experimentId?: string; sourceRunId?: string } | string;
      if (typeof req === 'object' && req) return { name: `loggedModels.${name}`, kind: 'tracking', target: { ...(req.experimentId ? { experiment_id: req.experimentId } : {}) }, ...(req.sourceRunId ? { runId: req.sourceRunId } : {}) };
      return { name: `loggedModels.${name}`, kind: 'tracking', target: { model: String(req) } };
    }, self);

    const traceWrites = ['endV2', 'delete', 'setTag', 'deleteTag', 'linkToRun', 'createAssessment', 'updateAssessment', 'deleteAssessment'] as const;
    const traces = wrap(inner.traces, traceWrites, (name, args) => ({ name: `traces.${name}`, kind: 'tracking', target: typeof args[0] === 'string' ? { trace_id: args[0] } : {} }), self);
    const tracesExtra: Partial<TraceStore> = {
      // Traces linked to a run (an OTLP sender's x-mlflow-run-id): their export names that run.
      linkToRun: async (traceIds, runId) => {
        await traces.linkToRun(traceIds, runId);
        if (self.gov.exportsTraces) for (const id of traceIds) self.noteLinkedRun(id, runId);
      },
      start: async (req) => {
        const runId = req.metadata[TraceKeys.sourceRun];
        const info = await self.run({ name: 'traces.start', kind: 'tracking', target: { trace_id: req.traceId, experiment_id: req.experimentId }, ...(runId ? { runId } : {}) }, () => inner.traces.start(req));
        void self.releaseSpans(req.traceId);
        return info;
      },
      acceptTracesJson: async (traceId, body) => {
        await self.traceWithTokens('traces.upload', traceId, () => inner.traces.acceptTracesJson(traceId, body));
        // The whole trace's spans arrived in this upload: export them once it is acknowledged.
        if (self.gov.exportsTraces) void self.exportTrace(traceId, () => inner.traces.readSpans(traceId));
      },
      ingest: async (experimentId, incoming) => {
        const ids = [...new Set(incoming.map((s) => s.traceIdHex))];
        const llmNano: Record<string, number> = {};
        for (const s of incoming) {
          const nano = self.spanCost(s.span.attributes ?? {}, s.span);
          // Keyed as the store names traces, so the final upload of the same trace sees the charge.
          if (nano) llmNano[`tr-${s.traceIdHex}`] = (llmNano[`tr-${s.traceIdHex}`] ?? 0) + nano;
        }
        const result = await self.run({ name: 'traces.ingest', kind: 'tracking', target: { experiment_id: experimentId, ...(ids.length === 1 ? { trace_id: `tr-${ids[0]!}` } : {}) }, llmNano }, () => inner.traces.ingest(experimentId, incoming));
        // An OTLP batch: these spans wait for their trace's end (the MLflow client sends spans as
        // they finish, then starts the trace with its run), then go on with that context.
        if (self.gov.exportsTraces) for (const hex of ids) self.holdSpans(`tr-${hex}`, incoming.filter((s) => s.traceIdHex === hex));
        return result;
      },
    };

    const artifacts = this.artifacts(inner.artifacts);
    const evalDatasets = wrap(inner.evalDatasets, ['create', 'delete', 'setTags', 'deleteTag', 'upsertRecords', 'deleteRecords', 'addToExperiments', 'removeFromExperiments'] as const, (name) => ({ name: `evalDatasets.${name}`, kind: 'tracking', target: {} }), self);
    const scorers = wrap(inner.scorers, ['register', 'delete'] as const, (name, args) => ({ name: `scorers.${name}`, kind: 'tracking', target: { experiment_id: String(args[0] ?? '') } }), self);

    const governance = this.gov;
    return new Proxy(inner, {
      get(target, prop, receiver) {
        if (prop === 'governance') return governance;
        if (prop === 'registry') return overlay(registry, { createModelVersion });
        if (prop === 'loggedModels') return loggedModels;
        if (prop === 'traces') return overlay(traces, tracesExtra);
        if (prop === 'artifacts') return artifacts;
        if (prop === 'evalDatasets') return evalDatasets;
        if (prop === 'scorers') return scorers;
        if (typeof prop === 'string' && prop in tracking) return (tracking as Record<string, unknown>)[prop];
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    }) as GovernedStore;
  }

  private withCost(run: Run): Run {
    const cost = this.gov.runTotalText(run.info.run_id).replace(/^\$/, '');
    return { ...run, data: { ...run.data, tags: [...run.data.tags.filter((t) => t.key !== COST_TAG), { key: COST_TAG, value: cost }] } };
  }

  private async createRun(req: CreateRunRequest) {
    const own = attributionOfTags(req.tags ?? []);
    const parentId = req.tags?.find((t) => t.key === PARENT_RUN_TAG)?.value;
    if (parentId) await this.knownRunTags(parentId).then((tags) => tags && this.gov.ledger.apply({ ts: Date.now(), actor: '', attribution: {}, op: 'observe', target: { run_id: parentId }, outcome: 'ok', cost_nano: 0, tags, seq: 0, prev: '', hash: '' }));
    const inherited = parentId ? this.gov.ledger.attributionOf(parentId) : {};
    // Own tags first, then the parent's, then the configured defaults.
    const added = [...missingAttributionTags(own, inherited), ...missingAttributionTags({ ...own, ...inherited }, this.cfg.defaults)];
    const tags = [...(req.tags ?? []), ...added];
    const attribution = attributionOfTags(tags);
    const user = req.userId ?? req.tags?.find((t) => t.key === USER_TAG)?.value;
    // The run's id is chosen here, so its audit entry names it and is written beside the create.
    const runId = randomUUID().replace(/-/g, '');
    const op: Op = { name: 'createRun', kind: 'tracking', target: { run_id: runId, experiment_id: req.experimentId || '0' }, tags: {} };
    for (const t of tags) if (attributeOfTag(t.key) || t.key === PARENT_RUN_TAG) op.tags![t.key] = t.value;
    const check = () => {
      const rt = this.cfg.policies.requireTags;
      if (rt && rt.mode === 'enforce' && rt.atCreate) {
        const have = new Set(tags.filter((t) => t.value !== '').map((t) => t.key));
        const missing = rt.tags.filter((t) => !have.has(t));
        if (missing.length) throw policyError('require_tags', `Policy require_tags: a run must be created with the tags ${rt.tags.join(', ')}; missing ${missing.join(', ')}. Pass them to mlflow.start_run(tags={...}).`);
      }
      envThrowOnly(() => this.checkEnvironment(attribution.environment, undefined, req.experimentId));
    };
    this.gov.noteRunUser(runId, user);
    const run = await this.run(op, () => this.inner.createRun({ ...req, runId, tags }), check);
    const env = attribution.environment;
    if (env !== undefined && this.cfg.policies.allowedEnvironments?.mode === 'warn' && !this.cfg.policies.allowedEnvironments.values.includes(env)) await this.checkEnvironment(env, run.info.run_id, run.info.experiment_id);
    await this.warnMarks({ ...op, runId: run.info.run_id }, Date.now());
    return this.withCost(run);
  }

  private spanCost(attributes: Record<string, unknown>, span: { attributes?: Record<string, unknown> }): number {
    const tokens = spanTokenUsage(attributes);
    if (!tokens) return 0;
    return llmCostNano(this.cfg.pricing, spanModel(span.attributes ?? {}, undefined), { input: tokens.input_tokens, output: tokens.output_tokens }) ?? 0;
  }

  /** OTLP-ingested spans per trace, waiting for the trace's start (or a quiet spell) before export. */
  private readonly held = new Map<string, { spans: SpanDict[]; resource: Record<string, unknown> | undefined; timer: NodeJS.Timeout; since: number }>();
  /** Exports under way (their reads, then the hand-over): closing waits for them. */
  private readonly exporting = new Set<Promise<void>>();
  private closeHooked = false;

  /** Runs that held traces were linked to (bounded: only traces still waiting need it). */
  private readonly linkedRuns = new Map<string, string>();

  noteLinkedRun(traceId: string, runId: string): void {
    this.linkedRuns.set(traceId, runId);
    if (this.linkedRuns.size > MAX_HELD_TRACES) this.linkedRuns.delete(this.linkedRuns.keys().next().value!);
  }

  /** Closing the server first sends what is held and waits for the exports under way. */
  private hookClose(): void {
    if (this.closeHooked) return;
    this.closeHooked = true;
    this.gov.onClose(async () => {
      await Promise.all([...this.held.keys()].map((id) => this.releaseSpans(id)));
      await Promise.allSettled([...this.exporting]);
    });
  }

  holdSpans(traceId: string, incoming: { span: SpanDict; resource?: Record<string, unknown> | undefined }[]): void {
    this.hookClose();
    // A sender that never starts the trace (a plain OpenTelemetry SDK): exported after a quiet spell.
    const timer = setTimeout(() => void this.releaseSpans(traceId), HOLD_SPANS_MS);
    timer.unref();
    const h = this.held.get(traceId);
    if (h) {
      clearTimeout(h.timer);
      h.timer = timer;
      for (const s of incoming) h.spans.push(s.span);
    }
    const entry = h ?? { spans: incoming.map((s) => s.span), resource: incoming[0]?.resource, since: Date.now(), timer };
    this.held.set(traceId, entry);
    // Bounded: a long-lived trace goes on in parts, and a flood of traces that never start sends
    // the oldest on early, rather than grow.
    if (entry.spans.length >= MAX_HELD_SPANS || Date.now() - entry.since >= MAX_HOLD_MS) void this.releaseSpans(traceId);
    if (this.held.size > MAX_HELD_TRACES) void this.releaseSpans(this.held.keys().next().value!);
  }

  releaseSpans(traceId: string): Promise<void> {
    const h = this.held.get(traceId);
    if (!h) return Promise.resolve();
    clearTimeout(h.timer);
    this.held.delete(traceId);
    return this.exportTrace(traceId, async () => h.spans, h.resource);
  }

  /**
   * Sends a trace's spans to the exporter with its experiment, run and that run's attribution —
   * after the write was acknowledged, so the client never waits on it; a failed read is logged.
   */
  exportTrace(traceId: string, spans: () => Promise<SpanDict[]>, resource?: Record<string, unknown>): Promise<void> {
    this.hookClose();
    const p = this.sendTrace(traceId, spans, resource).finally(() => this.exporting.delete(p));
    this.exporting.add(p);
    return p;
  }

  private async sendTrace(traceId: string, spans: () => Promise<SpanDict[]>, resource?: Record<string, unknown>): Promise<void> {
    try {
      const info = await this.inner.traces.get(traceId).catch(() => undefined);
      const runId = info?.trace_metadata?.[TraceKeys.sourceRun] ?? this.linkedRuns.get(traceId);
      this.linkedRuns.delete(traceId);
      const experimentId = info?.trace_location.mlflow_experiment.experiment_id;
      const attribution = this.attributionFor({ name: 'traces.export', kind: 'tracking', target: {}, ...(runId ? { runId } : {}) });
      this.gov.exportSpans({ traceId, experimentId, runId, attribution: runId ? { ...this.cfg.defaults, ...attribution } : attribution, spans: await spans(), resource });
    } catch (err) {
      this.gov.warn(`governance export of trace ${traceId}: ${(err as Error).message}`);
    }
  }

  /** Span uploads: charged with the LLM calls the spans record (tokens × the model's price). */
  private async traceWithTokens(name: string, traceId: string, apply: () => Promise<void>): Promise<void> {
    let runId: string | undefined;
    let experimentId: string | undefined;
    try {
      const info = await this.inner.traces.get(traceId);
      runId = info.trace_metadata?.[TraceKeys.sourceRun];
      experimentId = info.trace_location.mlflow_experiment.experiment_id;
    } catch {
      // An unknown trace: the inner store words the error.
    }
    const op: Op = { name, kind: 'tracking', target: { trace_id: traceId, ...(experimentId ? { experiment_id: experimentId } : {}) }, ...(runId ? { runId } : {}), settledByApply: true };
    await this.run(op, async () => {
      await apply();
      // Cost the spans as stored (MLflow's JSON or OTLP): charged in this same entry.
      const spans = await this.inner.traces.readSpans(traceId).catch(() => []);
      const total = spans.reduce((s, sp) => s + this.spanCost(sp.attributes ?? {}, sp), 0);
      const delta = total - this.gov.ledger.llmChargedNano(traceId);
      if (delta > 0) op.llmNano = { [traceId]: delta };
    });
  }

  private artifacts(inner: ArtifactRepository): ArtifactRepository {
    const self = this;
    const limit = this.cfg.policies.maxArtifactSizeMb;
    const runOfPath = (p: string): string | undefined => p.replace(/^\/+/, '').split('/')[1];
    const expOfPath = (p: string): string | undefined => p.replace(/^\/+/, '').split('/')[0];
    const sized = (rawPath: string, body: Readable, counted: { bytes: number }): Readable => {
      const max = limit ? limit.limit * 1024 * 1024 : Infinity;
      const counter = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          counted.bytes += chunk.length;
          if (limit?.mode === 'enforce' && counted.bytes > max) cb(policyError('max_artifact_size_mb', `Policy max_artifact_size_mb: '${rawPath}' is larger than ${limit.limit} MB; the upload was discarded.`));
          else cb(null, chunk);
        },
      });
      body.on('error', (e) => counter.destroy(e));
      return body.pipe(counter);
    };
    const multipartBytes = new Map<string, { bytes: number }>();
    const writeOp = (name: string, rawPath: string): Op => {
      const runId = runOfPath(rawPath);
      return { name, kind: 'tracking', target: { path: rawPath, ...(expOfPath(rawPath) ? { experiment_id: expOfPath(rawPath)! } : {}) }, ...(runId && /^[0-9a-f]{32}$/.test(runId) ? { runId } : {}) };
    };
    const afterWrite = async (op: Op, bytes: number) => {
      if (limit && limit.mode === 'warn' && bytes > limit.limit * 1024 * 1024 && op.runId) await self.mark(op.runId, 'max_artifact_size_mb', `artifact '${op.target.path}' is ${(bytes / 1048576).toFixed(1)} MB, over the ${limit.limit} MB limit`, op.target.experiment_id);
    };
    return overlay(wrap(inner, ['delete', 'abortMultipart'] as const, (name, args) => ({ name: `artifacts.${name}`, kind: 'tracking', target: { path: String(args[0] ?? '') } }), self), {
      write: async (rawPath, body) => {
        const counted = { bytes: 0 };
        const op = { ...writeOp('artifacts.write', rawPath), settledByApply: true };
        const n = await self.run(op, async () => {
          const written = await inner.write(rawPath, sized(rawPath, body, counted));
          op.bytes = written;
          return written;
        });
        await afterWrite(op, n);
        return n;
      },
      createMultipart: async (rawPath, numParts) => {
        const r = await self.run(writeOp('artifacts.createMultipart', rawPath), () => inner.createMultipart(rawPath, numParts));
        multipartBytes.set(r.uploadId, { bytes: 0 });
        return r;
      },
      writePart: (uploadId, partNumber, body) => {
        const counted = multipartBytes.get(uploadId) ?? { bytes: 0 };
        multipartBytes.set(uploadId, counted);
        return self.run({ name: 'artifacts.writePart', kind: 'tracking', target: { path: uploadId } }, () => inner.writePart(uploadId, partNumber, sized(`upload ${uploadId}`, body, counted)));
      },
      completeMultipart: async (rawPath, uploadId, parts) => {
        const op = writeOp('artifacts.completeMultipart', rawPath);
        op.bytes = multipartBytes.get(uploadId)?.bytes;
        multipartBytes.delete(uploadId);
        await self.run(op, () => inner.completeMultipart(rawPath, uploadId, parts));
        await afterWrite(op, op.bytes ?? 0);
      },
    });
  }
}

class PolicyError extends MlflowError {
  constructor(
    readonly policy: 'require_tags' | 'allowed_environments' | 'max_artifact_size_mb',
    message: string,
  ) {
    super('PERMISSION_DENIED', message);
  }
}

function policyError(policy: PolicyError['policy'], message: string): PolicyError {
  return new PolicyError(policy, message);
}

/** Runs a check that may also mark (async, warn mode) for its throw only; marks happen after the op. */
function envThrowOnly(check: () => Promise<void> | void): void {
  const r = check();
  if (r) void r.catch(() => undefined);
}

/** A copy of `base` whose named methods go through the governor; the rest call `base`. */
function wrap<T extends object, K extends keyof T & string>(base: T, names: readonly K[], opOf: (name: K, args: unknown[]) => Op, g: Governor): T {
  const replaced: Partial<T> = {};
  for (const name of names) {
    const fn = base[name] as unknown as (...args: unknown[]) => Promise<unknown>;
    if (typeof fn !== 'function') continue;
    (replaced as Record<string, unknown>)[name] = (...args: unknown[]) => g.run(opOf(name, args), () => fn.apply(base, args));
  }
  return overlay(base, replaced);
}

function negated(nano: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(nano).map(([k, v]) => [k, -v]));
}

function overlay<T extends object>(base: T, over: Partial<T>): T {
  return new Proxy(base, {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && prop in over) return (over as Record<string, unknown>)[prop];
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

export { ATTRIBUTES };
