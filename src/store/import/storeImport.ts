/**
 * Copies an existing MLflow store (any `MlflowSource`) into a Runlens store, keeping run ids,
 * trace ids, logged-model ids, experiment names, timestamps, full metric histories, artifacts,
 * registry and traces.
 *
 * Idempotent: experiments and registered models are matched by name, runs, traces and logged
 * models by id, model versions by number; whatever the store already has is left as it is, so a
 * second import of the same source adds nothing. Entities are written as the same journaled ops a
 * client's requests produce, through the store's group commit (many ops in flight, one fsync
 * each batch), and deleted entities are created active and deleted last so their runs, traces and
 * models can still be attached on the way.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ArtifactLocation, MlflowSource, SourceRegisteredModel, SourceRun, SourceTrace } from '../../backend/api/source';
import type { LoggedModel } from '../../domain/modelTypes';
import type { JournalModelMetric } from '../models/modelOps';
import { encodeMetricValue, type JournalDataset, type Op } from '../ops';
import type { JournalMetric, KV } from '../opTypes';
import type { Experiment, Metric } from '../../domain/types';
import type { ImportTarget } from './importTarget';
import { proxyPath } from '../../domain/artifactUri';

export interface ImportSummary {
  experiments: number;
  runs: number;
  metricPoints: number;
  artifacts: number;
  /** Registered models and logged models created. */
  models: number;
  traces: number;
  /** Why something was not imported, with how often (e.g. "run already in the store": 12). */
  skipped: Map<string, number>;
}

export interface ImportOptions {
  /**
   * Mirror the source as it is, for a read-only view of it: experiments matched by id (the
   * target starts empty), the source's artifact locations and trace tags kept (its files are
   * served where they are, nothing is copied), and only the latest metric values (histories are
   * read from the source when asked for).
   */
  mirror?: boolean;
  /** In mirror mode: the target id of a source experiment id (see backend/readonly/experimentIds.ts). */
  experimentId?: (sourceId: string) => number;
  /** Called as entities are written; `total` is known for runs once an experiment's runs are listed. */
  onProgress?: (p: { experiments: number; runs: number; metricPoints: number; artifacts: number; traces: number }) => void;
}

/** Points per journal record: big enough to amortise, small enough to keep a record well under the journal's limits. */
const POINTS_PER_OP = 5000;
/** Ops in flight before waiting for their group commit, so memory stays bounded on a big store. */
const MAX_IN_FLIGHT = 256;

export function formatImportSummary(s: ImportSummary): string {
  return `imported ${s.experiments} experiments, ${s.runs} runs, ${s.metricPoints} metric points, ${s.artifacts} artifacts, ${s.models} models, ${s.traces} traces`;
}

export function formatSkipped(s: ImportSummary): string[] {
  return [...s.skipped].map(([why, n]) => `skipped ${n}: ${why}`);
}

export async function importSource(source: MlflowSource, target: ImportTarget, opts: ImportOptions = {}): Promise<ImportSummary> {
  return new Importer(source, target, opts).run();
}

interface TargetExperiment {
  id: number;
  location: string;
  created: boolean;
}

class Importer {
  private readonly summary: ImportSummary = { experiments: 0, runs: 0, metricPoints: 0, artifacts: 0, models: 0, traces: 0, skipped: new Map() };
  private readonly inFlight: Promise<void>[] = [];
  /** Applied in this order once everything else is in: deleting earlier would refuse the children. */
  private readonly deletions: Op[] = [];

  constructor(
    private readonly source: MlflowSource,
    private readonly target: ImportTarget,
    private readonly opts: ImportOptions,
  ) {}

  async run(): Promise<ImportSummary> {
    const experiments: [Experiment, TargetExperiment][] = [];
    for await (const exp of this.source.experiments()) experiments.push([exp, this.experiment(exp)]);
    for (const [exp, target] of experiments) {
      for await (const model of this.source.loggedModels(exp.experiment_id)) await this.loggedModel(model, target);
      for await (const run of this.source.runs(exp.experiment_id)) await this.run_(run, target);
      for await (const trace of this.source.traces(exp.experiment_id)) await this.trace(trace, target);
      if (exp.lifecycle_stage === 'deleted' && target.created) this.deletions.push({ t: 'exp.lifecycle', id: target.id, stage: 'deleted', time: exp.last_update_time });
    }
    for await (const model of this.source.registeredModels()) await this.registeredModel(model);
    await this.flush();
    for (const op of this.deletions) this.submit(op);
    await this.flush();
    // Views refresh per experiment once, not per op.
    for (const [, target] of experiments) this.target.notify({ kind: 'experiment', experimentId: String(target.id) });
    for (const [why, n] of this.source.skipped?.() ?? []) this.skip(why, n);
    return this.summary;
  }

  // ---- plumbing -------------------------------------------------------------------------

  private skip(why: string, n = 1): void {
    this.summary.skipped.set(why, (this.summary.skipped.get(why) ?? 0) + n);
  }

  /** Applies the op now (sql.js is updated synchronously) and lets its fsync group with others. */
  private submit(op: Op): void {
    const p = this.target.write(op);
    this.inFlight.push(p);
    // A rejection is collected by flush(); this only stops it being reported as unhandled first.
    p.catch(() => undefined);
  }

  private async maybeFlush(): Promise<void> {
    if (this.inFlight.length >= MAX_IN_FLIGHT) await this.flush();
  }

  private async flush(): Promise<void> {
    const pending = this.inFlight.splice(0);
    await Promise.all(pending);
    this.opts.onProgress?.({
      experiments: this.summary.experiments,
      runs: this.summary.runs,
      metricPoints: this.summary.metricPoints,
      artifacts: this.summary.artifacts,
      traces: this.summary.traces,
    });
  }

  // ---- experiments ----------------------------------------------------------------------

  private experiment(exp: Experiment): TargetExperiment {
    const db = this.target.db;
    if (this.opts.mirror) {
      const id = this.opts.experimentId ? this.opts.experimentId(exp.experiment_id) : Number(exp.experiment_id);
      this.submit({ t: 'exp.create', id, name: exp.name, artifactLocation: exp.artifact_location, time: exp.creation_time, tags: exp.tags.map((t): KV => [t.key, t.value]) });
      this.summary.experiments++;
      return { id, location: exp.artifact_location, created: true };
    }
    const existing = db.get<{ experiment_id: number; artifact_location: string }>('SELECT experiment_id, artifact_location FROM experiments WHERE name = ?', [exp.name]);
    if (existing) {
      // Same name: the same experiment, imported before or created by the user; its tags win.
      return { id: existing.experiment_id, location: existing.artifact_location, created: false };
    }
    const wanted = /^\d+$/.test(exp.experiment_id) ? Number(exp.experiment_id) : undefined;
    const free = wanted !== undefined && Number.isSafeInteger(wanted) && db.value('SELECT 1 FROM experiments WHERE experiment_id = ?', [wanted]) === undefined;
    const id = free ? wanted! : Number(db.value('SELECT coalesce(max(experiment_id), 0) + 1 FROM experiments'));
    const location = this.target.artifactLocation(id);
    this.submit({ t: 'exp.create', id, name: exp.name, artifactLocation: location, time: exp.creation_time, tags: exp.tags.map((t): KV => [t.key, t.value]) });
    this.summary.experiments++;
    return { id, location, created: true };
  }

  // ---- runs -----------------------------------------------------------------------------

  private async run_(run: SourceRun, exp: TargetExperiment): Promise<void> {
    const uuid = run.info.run_id;
    if (this.target.db.value('SELECT 1 FROM runs WHERE run_uuid = ?', [uuid]) !== undefined) return this.skip('run already in the store');
    const artifactUri = this.opts.mirror ? run.info.artifact_uri : `${exp.location.replace(/\/+$/, '')}/${uuid}/artifacts`;
    this.submit({
      t: 'run.create',
      uuid,
      exp: exp.id,
      userId: run.info.user_id ?? '',
      name: run.info.run_name ?? '',
      startTime: run.info.start_time,
      artifactUri,
      tags: run.data.tags.map((t): KV => [t.key, t.value]),
    });
    this.summary.runs++;
    if (run.data.params.length) this.submit({ t: 'run.log', uuid, metrics: [], params: run.data.params.map((p): KV => [p.key, p.value]), tags: [] });
    if (this.opts.mirror) this.latest(run);
    else await this.history(run);
    const datasets = run.inputs.dataset_inputs.map((d): JournalDataset => ({
      name: d.dataset.name,
      digest: d.dataset.digest,
      source_type: d.dataset.source_type,
      source: d.dataset.source,
      schema: d.dataset.schema ?? null,
      profile: d.dataset.profile ?? null,
      tags: d.tags.map((t): KV => [t.key, t.value]),
    }));
    const models = run.inputs.model_inputs.map((m) => m.model_id);
    if (datasets.length || models.length) this.submit({ t: 'run.inputs', uuid, datasets, models });
    if (run.outputs.model_outputs.length) this.submit({ t: 'run.outputs', uuid, models: run.outputs.model_outputs.map((m): [string, number] => [m.model_id, m.step]) });
    const update: Op = { t: 'run.update', uuid, status: run.info.status };
    if (run.info.end_time !== null) update.endTime = run.info.end_time;
    this.submit(update);
    if (!this.opts.mirror) await this.copyArtifacts(this.source.runArtifacts(run), artifactUri);
    if (run.info.lifecycle_stage === 'deleted') this.deletions.push({ t: 'run.lifecycle', uuid, stage: 'deleted', time: run.info.end_time ?? run.info.start_time ?? Date.now() });
    await this.maybeFlush();
  }

  /** Only the latest value per key: what search and the run's data need (see ImportOptions.mirror). */
  private latest(run: SourceRun): void {
    const metrics = run.data.metrics.map((m): JournalMetric => [m.key, encodeMetricValue(m.value), m.timestamp, m.step]);
    if (metrics.length) this.submit({ t: 'run.log', uuid: run.info.run_id, metrics, params: [], tags: [] });
    this.summary.metricPoints += metrics.length;
  }

  /** The run's full history; identical points once, as MLflow stores them (and as logBatch does). */
  private async history(run: SourceRun): Promise<void> {
    const uuid = run.info.run_id;
    const seen = new Set<string>();
    let batch: JournalMetric[] = [];
    let any = false;
    const add = (m: Metric): void => {
      const value = encodeMetricValue(m.value);
      const id = `${m.key}\u0000${m.step}\u0000${m.timestamp}\u0000${value}`;
      if (seen.has(id)) return;
      seen.add(id);
      batch.push([m.key, value, m.timestamp, m.step]);
    };
    const send = async (): Promise<void> => {
      if (!batch.length) return;
      this.submit({ t: 'run.log', uuid, metrics: batch, params: [], tags: [] });
      this.summary.metricPoints += batch.length;
      batch = [];
      await this.maybeFlush();
    };
    for await (const chunk of this.source.metricHistory(uuid)) {
      for (const m of chunk) {
        any = true;
        add(m);
        if (batch.length >= POINTS_PER_OP) await send();
      }
    }
    // A store whose history rows are gone still has the latest values: keep those.
    if (!any) for (const m of run.data.metrics) add(m);
    await send();
  }

  // ---- artifacts ------------------------------------------------------------------------

  /** Copies a directory tree under an `mlflow-artifacts:` location of this store, file by file (each fsynced). */
  private async copyArtifacts(from: ArtifactLocation, toUri: string): Promise<void> {
    const prefix = proxyPath(toUri);
    if (from.remote) {
      if (prefix === undefined) return this.skip('artifacts of an experiment whose location is not in this store');
      for await (const rel of from.remote.files()) {
        await this.target.artifacts.write(`${prefix}/${rel}`, await from.remote.open(rel));
        this.summary.artifacts++;
      }
      return;
    }
    if (!from.dir) {
      if (from.uri) this.skip(`artifacts not on this machine (${schemeOf(from.uri)})`);
      return;
    }
    if (!fs.existsSync(from.dir)) return;
    if (prefix === undefined) return this.skip('artifacts of an experiment whose location is not in this store');
    for (const rel of listFiles(from.dir)) {
      await this.target.artifacts.write(`${prefix}/${rel}`, fs.createReadStream(path.join(from.dir, rel)));
      this.summary.artifacts++;
    }
  }

  // ---- logged models --------------------------------------------------------------------

  private async loggedModel(model: LoggedModel, exp: TargetExperiment): Promise<void> {
    const info = model.info;
    if (this.target.db.value('SELECT 1 FROM logged_models WHERE model_id = ?', [info.model_id]) !== undefined) return this.skip('logged model already in the store');
    const artifactLocation = this.opts.mirror ? info.artifact_uri : `${exp.location.replace(/\/+$/, '')}/models/${info.model_id}/artifacts`;
    this.submit({
      t: 'lm.create',
      id: info.model_id,
      exp: exp.id,
      name: info.name,
      artifactLocation,
      time: info.creation_timestamp_ms,
      modelType: info.model_type ?? null,
      sourceRunId: info.source_run_id ?? null,
      params: model.data.params.map((p): KV => [p.key, p.value]),
      tags: info.tags.map((t): KV => [t.key, t.value]),
    });
    this.submit({ t: 'lm.status', id: info.model_id, status: info.status, time: info.last_updated_timestamp_ms });
    const metrics = model.data.metrics.map((m): JournalModelMetric => [
      info.model_id,
      m.key,
      encodeMetricValue(m.value),
      m.timestamp,
      m.step,
      m.run_id ?? null,
      m.dataset_name ?? null,
      m.dataset_digest ?? null,
    ]);
    if (metrics.length) this.submit({ t: 'lm.metrics', metrics });
    this.summary.models++;
    if (!this.opts.mirror) await this.copyArtifacts(this.source.loggedModelArtifacts(model), artifactLocation);
    await this.maybeFlush();
  }

  // ---- traces ---------------------------------------------------------------------------

  private async trace(trace: SourceTrace, exp: TargetExperiment): Promise<void> {
    const info = trace.info;
    if (this.target.db.value('SELECT 1 FROM traces WHERE trace_id = ?', [info.trace_id]) !== undefined) return this.skip('trace already in the store');
    // The trace's info must be journaled before its spans and assessments refer to it.
    await this.flush();
    const requestTime = Date.parse(info.request_time);
    if (this.opts.mirror) {
      // As the source has it, tags included (its artifact location: clients read spans from there).
      await this.target.write({
        t: 'tr.upsert',
        id: info.trace_id,
        exp: exp.id,
        time: Number.isFinite(requestTime) ? requestTime : 0,
        durationMs: parseDuration(info.execution_duration) ?? null,
        state: info.state,
        clientRequestId: info.client_request_id ?? null,
        requestPreview: info.request_preview ?? null,
        responsePreview: info.response_preview ?? null,
        metadata: Object.entries(info.trace_metadata),
        tags: Object.entries(info.tags),
        assessments: info.assessments.map((a) => ({ ...a, trace_id: info.trace_id })),
      });
      if (trace.spans.length) await this.target.traces.acceptTracesJson(info.trace_id, Buffer.from(JSON.stringify({ spans: trace.spans })));
      this.summary.traces++;
      return;
    }
    await this.target.traces.start({
      traceId: info.trace_id,
      experimentId: String(exp.id),
      requestTimeMs: Number.isFinite(requestTime) ? requestTime : 0,
      durationMs: parseDuration(info.execution_duration),
      state: info.state,
      clientRequestId: info.client_request_id,
      requestPreview: info.request_preview,
      responsePreview: info.response_preview,
      metadata: info.trace_metadata,
      tags: info.tags,
      assessments: [],
    });
    if (trace.spans.length) await this.target.traces.acceptTracesJson(info.trace_id, Buffer.from(JSON.stringify({ spans: trace.spans })));
    for (const assessment of info.assessments) this.submit({ t: 'as.put', trace: info.trace_id, assessment: { ...assessment, trace_id: info.trace_id } });
    this.summary.traces++;
    await this.maybeFlush();
  }

  // ---- registry -------------------------------------------------------------------------

  private async registeredModel({ model, versions }: SourceRegisteredModel): Promise<void> {
    const db = this.target.db;
    const exists = db.value('SELECT 1 FROM registered_models WHERE name = ?', [model.name]) !== undefined;
    if (!exists) {
      this.submit({
        t: 'rm.create',
        name: model.name,
        time: model.creation_timestamp,
        description: model.description ?? null,
        userId: model.user_id ?? null,
        tags: model.tags.map((t): KV => [t.key, t.value]),
      });
      this.summary.models++;
    }
    for (const v of [...versions].sort((a, b) => Number(a.version) - Number(b.version))) {
      const version = Number(v.version);
      if (db.value('SELECT 1 FROM model_versions WHERE name = ? AND version = ?', [model.name, version]) !== undefined) {
        this.skip('model version already in the store');
        continue;
      }
      this.submit({
        t: 'mv.create',
        name: model.name,
        version,
        time: v.creation_timestamp,
        description: v.description ?? null,
        userId: v.user_id ?? null,
        source: v.source,
        runId: v.run_id ?? null,
        runLink: v.run_link ?? null,
        storageLocation: null,
        modelId: v.model_id ?? null,
        tags: v.tags.map((t): KV => [t.key, t.value]),
      });
      if (v.current_stage && v.current_stage !== 'None') {
        this.submit({ t: 'mv.stage', name: model.name, version, stage: v.current_stage, time: v.last_updated_timestamp, archive: [] });
      }
    }
    for (const a of model.aliases) {
      if (db.value('SELECT 1 FROM registered_model_aliases WHERE name = ? AND alias = ?', [model.name, a.alias]) !== undefined) continue;
      this.submit({ t: 'rm.setAlias', name: model.name, alias: a.alias, version: Number(a.version), time: model.last_updated_timestamp });
    }
    await this.maybeFlush();
  }
}

/** `"0.125s"` (protobuf Duration JSON) → ms. */
function parseDuration(d: string | undefined): number | undefined {
  if (!d) return undefined;
  const m = /^(-?\d+(?:\.\d+)?)s$/.exec(d);
  return m ? Math.round(Number(m[1]) * 1000) : undefined;
}


function schemeOf(uri: string): string {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(uri);
  return m ? `${m[1]}:` : uri;
}

/** Files under a directory, relative with `/`; symlinks are not followed (an import never reads outside the source tree). */
function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(child);
      else if (e.isFile()) out.push(child);
    }
  };
  walk('');
  return out.sort();
}
