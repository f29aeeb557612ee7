/**
 * The workspace's own tracking store: sql.js metadata made durable by persistence.ts, metric
 * histories in series files. Every write validates against current state, applies one op to
 * sql.js synchronously (so concurrent requests cannot interleave between check and write), then
 * resolves once the op's journal record is fsynced.
 */
import type { JournaledFile, JournaledFiles } from '../backend/api/journaledFiles';
import { searchDatasetSummaries } from './datasetSummaries';
import { randomUUID } from 'node:crypto';
import { resolveArtifactLocation, validateArtifactLocation } from './artifactLocation';
import { ArtifactStore } from './artifacts/artifactStore';
import { alreadyExists, doesNotExist, invalidParameter } from '../domain/errors';
import * as limits from './limits';
import type { Logger } from '../domain/logger';
import { historyPage, readColumns, readHistory, sampledHistories } from './metricHistory';
import { LoggedModels } from './models/loggedModels';
import { ModelRegistry } from './models/registry';
import { Traces } from './traces/traceStore';
import { EvalDatasets } from './datasets/evalDatasets';
import { Scorers } from './datasets/scorers';
import { applyOp, type JournalDataset, type Op } from './ops';
import type { JournalMetric, KV } from './opTypes';
import { Persistence, type LazyCreation } from './persistence';
import type { ImportTarget } from './import/importTarget';
import { loadExperiments, loadRuns } from './runReads';
import { dedupeMetrics, validateBatchLimits, validateDatasetInput, validateMetric } from './runValidation';
import { generateRunName } from './runNames';
import { downsampleSeries } from '../domain/seriesDownsample';
import { SeriesPointIndex } from './seriesPointIndex';
import { compileExperimentSearch } from './search/experimentSearch';
import { decodePageToken, pageFromLookahead } from './search/pageToken';
import { compileRunSearch } from './search/runSearch';
import type { SqlDb } from './sqlite';
import type { SqlValue } from 'sql.js';
import { FULL_CAPABILITIES, type BackendCapabilities } from '../backend/api/capabilities';
import type { StoreChange } from '../backend/api/changes';
import type {
  BulkIntervalRequest,
  ChartSeries,
  CreateRunRequest,
  DatasetSummary,
  LogBatchRequest,
  MetricSeriesRequest,
  SearchExperimentsRequest,
  SearchRunsRequest,
  TrackingStore,
  UpdateRunRequest,
} from '../backend/api/tracking';
import { TAG_RUN_NAME, type DatasetInput, type Experiment, type LifecycleStage, type Metric, type MetricInput, type MetricWithRunId, type Page, type Run, type RunInfo, type Tag } from '../domain/types';

export interface LocalStoreOptions {
  /** Store root, e.g. `<workspace>/mlruns`. */
  root: string;
  log: Logger;
  /** Prefix of experiment artifact locations; runs get `<location>/<run_id>/artifacts`. */
  artifactRootUri?: string;
  /** Truncate over-long param/tag values (MLflow's default) instead of rejecting them. */
  truncateLongValues?: boolean;
  checkpointBytes?: number;
  /** Largest single artifact accepted (bytes); unlimited when absent. */
  maxArtifactBytes?: number;
  /** Points of recently written runs kept in the duplicate-point index (see seriesPointIndex.ts). */
  pointIndexCap?: number;
  /** Open a store whose newest snapshot is damaged, from what survives (see StoreDamagedError). */
  recover?: boolean;
  /** Create a store that does not exist yet on its first write, not at open (see persistence.ts). */
  lazy?: LazyCreation;
  /** Leave out the Default experiment a new store gets (a mirror of another store brings its own). */
  noDefaultExperiment?: boolean;
}

interface RunState {
  id: number;
  experiment_id: number;
  lifecycle_stage: LifecycleStage;
}

export class LocalStore implements TrackingStore, JournaledFiles {
  private readonly listeners = new Set<(c: StoreChange) => void>();
  private readonly db: SqlDb;
  readonly loggedModels: LoggedModels;
  readonly registry: ModelRegistry;
  readonly artifacts: ArtifactStore;
  readonly traces: Traces;
  readonly evalDatasets: EvalDatasets;
  readonly scorers: Scorers;
  readonly capabilities: BackendCapabilities = FULL_CAPABILITIES;
  /** Points each run already holds, so identical points are stored once (as MLflow). */
  private readonly points: SeriesPointIndex;

  private constructor(
    private readonly persistence: Persistence,
    private readonly opts: LocalStoreOptions,
  ) {
    this.db = persistence.db;
    this.points = new SeriesPointIndex(persistence.series, opts.pointIndexCap);
    const core = { db: this.db, write: (op: Op, change?: StoreChange) => this.write(op, change) };
    this.loggedModels = new LoggedModels(core);
    this.registry = new ModelRegistry(core, opts.root);
    this.artifacts = new ArtifactStore(opts.root, { maxArtifactBytes: opts.maxArtifactBytes, beforeWrite: () => persistence.ensureCreated() });
    this.traces = new Traces(core, this.artifacts);
    this.evalDatasets = new EvalDatasets(core);
    this.scorers = new Scorers(core);
  }

  static async open(opts: LocalStoreOptions): Promise<LocalStore> {
    const persistence = await Persistence.open(opts);
    const store = new LocalStore(persistence, opts);
    const swept = store.artifacts.sweepInterruptedUploads();
    if (swept > 0) opts.log.warn(`removed ${swept} artifact upload(s) interrupted before the last shutdown`);
    if (!opts.noDefaultExperiment && store.db.value('SELECT 1 FROM experiments WHERE experiment_id = 0') === undefined) {
      // Not a client's write: a lazy store holds it back until the first one (commitOwn).
      const op: Op = { t: 'exp.create', id: 0, name: 'Default', artifactLocation: store.artifactLocation(0), time: Date.now(), tags: [] };
      applyOp(store.db, op);
      await persistence.commitOwn(op);
    }
    return store;
  }

  /** A file beside the store whose appends ride in the store's journal (see sideFiles.ts). */
  journaledFile(relPath: string): JournaledFile {
    const persistence = this.persistence;
    return {
      size: () => persistence.sideFiles.size(relPath),
      append: (text) => persistence.appendSide(relPath, text),
      epoch: () => persistence.sideFiles.epoch,
      cutTo: (size) => persistence.sideFiles.cutTo(relPath, size),
      refusing: () => persistence.refusing,
    };
  }

  /** False while a lazy store has not been created on disk (nothing written yet). */
  get created(): boolean {
    return this.persistence.created;
  }

  get recovery(): Persistence['recovery'] {
    return this.persistence.recovery;
  }

  /** Forces a compacting checkpoint now (tests, shutdown, benchmarks). */
  checkpoint(): Promise<void> {
    return this.persistence.checkpoint();
  }

  onDidChange(listener: (change: StoreChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Flushes and closes. `checkpoint: false` skips the snapshot (next start replays the journal). */
  async close(opts: { checkpoint?: boolean } = {}): Promise<void> {
    await this.persistence.close(opts);
  }

  /** What `importSource` writes through (see import/importTarget.ts). */
  importTarget(): ImportTarget {
    return {
      db: this.db,
      write: (op) => this.write(op),
      notify: (change) => {
        for (const l of this.listeners) l(change);
      },
      artifacts: this.artifacts,
      traces: this.traces,
      artifactLocation: (id) => this.artifactLocation(id),
    };
  }

  // ---- plumbing -------------------------------------------------------------------------

  private artifactLocation(experimentId: number): string {
    const root = (this.opts.artifactRootUri ?? 'mlflow-artifacts:').replace(/\/+$/, '');
    return `${root}/${experimentId}`;
  }

  private get truncate(): boolean {
    return this.opts.truncateLongValues ?? true;
  }

  private async write(op: Op, change?: StoreChange): Promise<void> {
    // 503 while a full disk refuses writes; it lifts by itself once the journal can write again.
    this.persistence.ensureWritable();
    const series = applyOp(this.db, op);
    if (series) this.points.added(series);
    await this.persistence.commit(op, series);
    if (change) for (const l of this.listeners) l(change);
  }

  private experimentRow(experimentId: string): { id: number; lifecycle_stage: LifecycleStage } {
    // As MLflow's SQL store (`_parse_experiment_id`: Python's int()): not an integer is a 400,
    // an integer without an experiment a 404.
    if (!/^\s*[+-]?\d+\s*$/.test(experimentId)) {
      throw invalidParameter(`Invalid experiment ID '${experimentId}'. Experiment ID must be a valid integer.`);
    }
    const id = Number(experimentId);
    const row = Number.isSafeInteger(id)
      ? this.db.get<{ lifecycle_stage: LifecycleStage }>('SELECT lifecycle_stage FROM experiments WHERE experiment_id = ?', [id])
      : undefined;
    if (!row) throw doesNotExist(`No Experiment with id=${experimentId} exists`);
    return { id, lifecycle_stage: row.lifecycle_stage };
  }

  private activeExperiment(experimentId: string): number {
    const e = this.experimentRow(experimentId);
    if (e.lifecycle_stage !== 'active') {
      throw invalidParameter(`The experiment ${experimentId} must be in the 'active' state. Current state is ${e.lifecycle_stage}.`);
    }
    return e.id;
  }

  private runState(runId: string): RunState {
    const row = this.db.get<RunState>('SELECT id, experiment_id, lifecycle_stage FROM runs WHERE run_uuid = ?', [runId]);
    if (!row) throw doesNotExist(`Run with id=${runId} not found`);
    return row;
  }

  private activeRun(runId: string): RunState {
    const run = this.runState(runId);
    if (run.lifecycle_stage !== 'active') {
      throw invalidParameter(`The run ${runId} must be in the 'active' state. Current state is ${run.lifecycle_stage}.`);
    }
    return run;
  }

  private seriesLength(run: RunState): number {
    return Number(this.db.value('SELECT series_len FROM runs WHERE id = ?', [run.id]));
  }

  private runChange(runId: string, run: RunState, created = false): StoreChange {
    return { kind: 'run', runId, experimentId: String(run.experiment_id), ...(created ? { created } : {}) };
  }

  private tagKV(tag: Tag): KV {
    limits.validateEntityKey('tag', tag.key);
    return [tag.key, limits.fitValue(tag.key, tag.value ?? '', limits.MAX_TAG_VAL_LENGTH, this.truncate)];
  }

  // ---- experiments ----------------------------------------------------------------------

  async createExperiment(name: string, artifactLocation?: string, tags: Tag[] = []): Promise<string> {
    limits.validateExperimentName(name);
    if (this.db.value('SELECT 1 FROM experiments WHERE name = ?', [name]) !== undefined) {
      throw alreadyExists(`Experiment(name=${name}) already exists.`);
    }
    if (artifactLocation) {
      validateArtifactLocation(artifactLocation);
      if (artifactLocation.includes('?')) {
        throw invalidParameter(`Invalid artifact location '${artifactLocation}': URLs with query parameters are not supported.`);
      }
      artifactLocation = resolveArtifactLocation(artifactLocation, process.cwd());
    }
    const kv = tags.map((t): KV => {
      limits.validateEntityKey('tag', t.key);
      limits.validateLength('tag value', t.value ?? '', limits.MAX_EXPERIMENT_TAG_VAL_LENGTH);
      return [t.key, t.value ?? ''];
    });
    const id = Number(this.db.value('SELECT coalesce(max(experiment_id), 0) + 1 FROM experiments'));
    await this.write(
      { t: 'exp.create', id, name, artifactLocation: artifactLocation || this.artifactLocation(id), time: Date.now(), tags: kv },
      { kind: 'experiment', experimentId: String(id) },
    );
    return String(id);
  }

  async getExperiment(experimentId: string): Promise<Experiment> {
    return loadExperiments(this.db, [this.experimentRow(experimentId).id])[0]!;
  }

  async getExperimentByName(name: string): Promise<Experiment | undefined> {
    const id = this.db.value("SELECT experiment_id FROM experiments WHERE name = ? ORDER BY lifecycle_stage = 'active' DESC LIMIT 1", [name]);
    return id === undefined ? undefined : loadExperiments(this.db, [Number(id)])[0];
  }

  async searchExperiments(req: SearchExperimentsRequest): Promise<Page<Experiment>> {
    const limit = req.maxResults ?? 1000;
    if (!Number.isInteger(limit) || limit < 1 || limit > limits.SEARCH_EXPERIMENTS_MAX_RESULTS) {
      throw invalidParameter(`Invalid value ${limit} for parameter 'max_results' supplied. It must be at most ${limits.SEARCH_EXPERIMENTS_MAX_RESULTS}.`);
    }
    const offset = decodePageToken(req.pageToken);
    const q = compileExperimentSearch({ filter: req.filter, orderBy: req.orderBy, viewType: req.viewType ?? 'ACTIVE_ONLY', limit, offset });
    const ids = this.db.rows(q.sql, q.params).map((r) => r[0] as number);
    return pageFromLookahead(ids, limit, offset, (page) => loadExperiments(this.db, page));
  }

  async renameExperiment(experimentId: string, newName: string): Promise<void> {
    const e = this.experimentRow(experimentId);
    limits.validateExperimentName(newName);
    if (e.lifecycle_stage !== 'active') throw invalidParameter('Cannot rename a non-active experiment.');
    const clash = this.db.value('SELECT experiment_id FROM experiments WHERE name = ?', [newName]);
    if (clash !== undefined && clash !== e.id) throw alreadyExists(`Experiment(name=${newName}) already exists.`);
    await this.write({ t: 'exp.rename', id: e.id, name: newName, time: Date.now() }, { kind: 'experiment', experimentId });
  }

  async deleteExperiment(experimentId: string): Promise<void> {
    const e = this.experimentRow(experimentId);
    if (e.lifecycle_stage !== 'active') throw doesNotExist(`No Experiment with id=${experimentId} exists`);
    await this.write({ t: 'exp.lifecycle', id: e.id, stage: 'deleted', time: Date.now() }, { kind: 'experiment', experimentId });
  }

  async restoreExperiment(experimentId: string): Promise<void> {
    const e = this.experimentRow(experimentId);
    if (e.lifecycle_stage !== 'deleted') throw doesNotExist(`No Experiment with id=${experimentId} exists`);
    await this.write({ t: 'exp.lifecycle', id: e.id, stage: 'active', time: Date.now() }, { kind: 'experiment', experimentId });
  }

  async setExperimentTag(experimentId: string, key: string, value: string): Promise<void> {
    limits.validateEntityKey('tag', key);
    limits.validateLength('value', value, limits.MAX_EXPERIMENT_TAG_VAL_LENGTH);
    const id = this.activeExperiment(experimentId);
    await this.write({ t: 'exp.setTag', id, key, value }, { kind: 'experiment', experimentId });
  }

  async deleteExperimentTag(experimentId: string, key: string): Promise<void> {
    const id = this.activeExperiment(experimentId);
    if (this.db.value('SELECT 1 FROM experiment_tags WHERE experiment_id = ? AND key = ?', [id, key]) === undefined) {
      throw doesNotExist(`No tag with name: ${key} in experiment with id ${experimentId}`);
    }
    await this.write({ t: 'exp.deleteTag', id, key }, { kind: 'experiment', experimentId });
  }

  // ---- runs -----------------------------------------------------------------------------

  async createRun(req: CreateRunRequest): Promise<Run> {
    const experimentId = req.experimentId || '0';
    const exp = this.activeExperiment(experimentId);
    const tags = (req.tags ?? []).map((t) => this.tagKV(t));
    const nameTag = tags.find(([k]) => k === TAG_RUN_NAME)?.[1];
    if (req.runName && nameTag && req.runName !== nameTag) {
      throw invalidParameter(
        `Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='${req.runName}', mlflow.runName='${nameTag}').`,
      );
    }
    const name = req.runName || nameTag || generateRunName();
    if (!nameTag) tags.push([TAG_RUN_NAME, name]);
    if (req.runId !== undefined && (!/^[0-9a-f]{32}$/.test(req.runId) || this.db.value('SELECT 1 FROM runs WHERE run_uuid = ?', [req.runId]) !== undefined)) {
      throw invalidParameter(`Run id '${req.runId}' is not a new run id (32 lowercase hex digits, unused).`);
    }
    const uuid = req.runId ?? randomUUID().replace(/-/g, '');
    const artifactLocation = String(this.db.value('SELECT artifact_location FROM experiments WHERE experiment_id = ?', [exp]));
    await this.write(
      {
        t: 'run.create',
        uuid,
        exp,
        userId: req.userId ?? '',
        name,
        startTime: req.startTime ?? Date.now(),
        artifactUri: `${artifactLocation.replace(/\/+$/, '')}/${uuid}/artifacts`,
        tags,
      },
      { kind: 'run', runId: uuid, experimentId, created: true },
    );
    return this.getRun(uuid);
  }

  async getRun(runId: string): Promise<Run> {
    return loadRuns(this.db, [this.runState(runId).id])[0]!;
  }

  async updateRun(runId: string, req: UpdateRunRequest): Promise<RunInfo> {
    const run = this.activeRun(runId);
    const op: Op = { t: 'run.update', uuid: runId };
    if (req.status !== undefined) op.status = req.status;
    if (req.endTime !== undefined) op.endTime = req.endTime;
    if (req.runName) op.name = limits.fitValue(TAG_RUN_NAME, req.runName, limits.MAX_TAG_VAL_LENGTH, this.truncate);
    await this.write(op, this.runChange(runId, run));
    return (await this.getRun(runId)).info;
  }

  async deleteRun(runId: string): Promise<void> {
    const run = this.runState(runId);
    await this.write({ t: 'run.lifecycle', uuid: runId, stage: 'deleted', time: Date.now() }, this.runChange(runId, run));
  }

  async restoreRun(runId: string): Promise<void> {
    const run = this.runState(runId);
    await this.write({ t: 'run.lifecycle', uuid: runId, stage: 'active', time: Date.now() }, this.runChange(runId, run));
  }

  async logMetric(runId: string, metric: MetricInput): Promise<void> {
    await this.logBatch(runId, { metrics: [metric] });
  }

  async logParam(runId: string, param: Tag): Promise<void> {
    const run = this.activeRun(runId);
    limits.validateEntityKey('param', param.key);
    const value = limits.fitValue(param.key, param.value ?? '', limits.MAX_PARAM_VAL_LENGTH, this.truncate);
    const old = this.db.value('SELECT value FROM params WHERE run = ? AND key = ?', [run.id, param.key]);
    if (old !== undefined && old !== value) {
      throw invalidParameter(
        `Changing param values is not allowed. Param with key='${param.key}' was already logged with value='${String(old)}' ` +
          `for run ID='${runId}'. Attempted logging new value '${value}'.`,
      );
    }
    if (old !== undefined) return;
    await this.write({ t: 'run.log', uuid: runId, metrics: [], params: [[param.key, value]], tags: [] }, this.runChange(runId, run));
  }

  async setTag(runId: string, tag: Tag): Promise<void> {
    await this.logBatch(runId, { tags: [tag] });
  }

  async deleteTag(runId: string, key: string): Promise<void> {
    const run = this.activeRun(runId);
    if (this.db.value('SELECT 1 FROM tags WHERE run = ? AND key = ?', [run.id, key]) === undefined) {
      throw doesNotExist(`No tag with name: ${key} in run with id ${runId}`);
    }
    await this.write({ t: 'run.deleteTag', uuid: runId, key }, this.runChange(runId, run));
  }

  async logBatch(runId: string, req: LogBatchRequest): Promise<void> {
    const metrics = req.metrics ?? [];
    const params = req.params ?? [];
    const tags = req.tags ?? [];
    limits.validateRunId(runId);
    validateBatchLimits(metrics.length, params.length, tags.length);
    const run = this.activeRun(runId);
    const paramKVs: KV[] = [];
    const seenParams = new Map<string, string>();
    const duplicates = new Set<string>();
    for (const p of params) {
      limits.validateEntityKey('param', p.key);
      if (seenParams.has(p.key)) duplicates.add(p.key);
      seenParams.set(p.key, limits.fitValue(p.key, p.value ?? '', limits.MAX_PARAM_VAL_LENGTH, this.truncate));
    }
    if (duplicates.size > 0) {
      throw invalidParameter(
        `Duplicate parameter keys have been submitted: ${JSON.stringify([...duplicates])}. Please ensure the request contains only one param value per param key.`,
      );
    }
    const conflicts: { key: string; old_value: string; new_value: string }[] = [];
    for (const [key, value] of seenParams) {
      const old = this.db.value('SELECT value FROM params WHERE run = ? AND key = ?', [run.id, key]);
      if (old === undefined) paramKVs.push([key, value]);
      else if (old !== value) conflicts.push({ key, old_value: String(old), new_value: value });
    }
    if (conflicts.length > 0) {
      const shown = conflicts.map((c) => `{'key': '${c.key}', 'old_value': '${c.old_value}', 'new_value': '${c.new_value}'}`).join(', ');
      throw invalidParameter(`Changing param values is not allowed. Params were already logged='[${shown}]' for run ID='${runId}'.`);
    }
    const validated = metrics.map((m): [JournalMetric, MetricInput] => [validateMetric(m), m]);
    // A point identical to one the run already has (or to an earlier one in this request) is
    // not stored again; the model-tagged copies still go to the logged model below, as MLflow's
    // log_batch writes logged_model_metrics whether or not the run-level rows were new.
    const metricRows = this.points.newPoints(runId, this.seriesLength(run), dedupeMetrics(validated.map(([row]) => row)), (key) => {
      const id = this.db.value('SELECT key_id FROM latest_metrics WHERE run = ? AND key = ?', [run.id, key]);
      return id === undefined ? undefined : Number(id);
    });
    const modelMetrics = this.loggedModels.journalMetrics(runId, validated);
    const tagKVs = tags.map((t) => this.tagKV(t));
    if (metricRows.length === 0 && paramKVs.length === 0 && tagKVs.length === 0 && modelMetrics.length === 0) return;
    const op: Op = { t: 'run.log', uuid: runId, metrics: metricRows, params: paramKVs, tags: tagKVs };
    if (modelMetrics.length) op.modelMetrics = modelMetrics;
    await this.write(op, this.runChange(runId, run));
  }

  async logInputs(runId: string, datasets: DatasetInput[], modelIds: string[]): Promise<void> {
    const run = this.activeRun(runId);
    if (datasets.length > limits.MAX_DATASETS_PER_BATCH) {
      throw invalidParameter(`A batch logging request can contain at most ${limits.MAX_DATASETS_PER_BATCH} datasets. Got ${datasets.length} datasets.`);
    }
    const rows: JournalDataset[] = datasets.map((d) => validateDatasetInput(d));
    if (rows.length === 0 && modelIds.length === 0) return;
    await this.write({ t: 'run.inputs', uuid: runId, datasets: rows, models: modelIds }, this.runChange(runId, run));
  }

  /** Records models a run produced (`mlflow.log_model` links the logged model to its run). */
  async logOutputs(runId: string, models: { modelId: string; step: number }[]): Promise<void> {
    const run = this.activeRun(runId);
    for (const m of models) this.loggedModels.requireExists(m.modelId);
    if (models.length === 0) return;
    await this.write({ t: 'run.outputs', uuid: runId, models: models.map((m) => [m.modelId, m.step]) }, this.runChange(runId, run));
  }

  async searchRuns(req: SearchRunsRequest): Promise<Page<Run>> {
    const limit = req.maxResults ?? limits.SEARCH_RUNS_DEFAULT_MAX_RESULTS;
    if (!Number.isInteger(limit) || limit < 1 || limit > limits.SEARCH_RUNS_MAX_RESULTS) {
      throw invalidParameter(`Invalid value ${limit} for parameter 'max_results' supplied. It must be at most ${limits.SEARCH_RUNS_MAX_RESULTS}.`);
    }
    const experimentIds = req.experimentIds.map((id) => {
      if (!/^\d+$/.test(id)) throw invalidParameter(`Invalid experiment ID: '${id}'`);
      return Number(id);
    });
    const offset = decodePageToken(req.pageToken);
    const q = compileRunSearch(
      { experimentIds, filter: req.filter, viewType: req.viewType ?? 'ACTIVE_ONLY', orderBy: req.orderBy, limit, offset },
      {
        countUpTo: (sql, params, cap) => Number(this.db.value(`SELECT count(*) FROM (${sql} LIMIT ${cap})`, params)),
        column: (sql, params) => this.db.rows(sql, params).map((r) => r[0] as SqlValue),
      },
    );
    const ids = this.db.rows(q.sql, q.params).map((r) => r[0] as number);
    return pageFromLookahead(ids, limit, offset, (page) => loadRuns(this.db, page));
  }

  // ---- metric history -------------------------------------------------------------------

  /** As MLflow's SQL store, a run that does not exist has an empty history (no error). */
  async getMetricHistory(runId: string, key: string, maxResults?: number, pageToken?: string): Promise<Page<Metric>> {
    const run = this.db.get<{ id: number }>('SELECT id FROM runs WHERE run_uuid = ?', [runId]);
    return historyPage(run ? readHistory(this.db, this.persistence.series, run.id, runId, key) : [], key, maxResults, pageToken);
  }

  async getMetricSeries(req: MetricSeriesRequest): Promise<ChartSeries> {
    const run = this.runState(req.runId);
    return downsampleSeries(readColumns(this.db, this.persistence.series, run.id, req.runId, req.key), req.axis, req.buckets, req.from, req.to);
  }

  async searchDatasets(experimentIds: string[]): Promise<DatasetSummary[]> {
    return searchDatasetSummaries(this.db, experimentIds);
  }

  async getMetricHistoryBulkInterval(req: BulkIntervalRequest): Promise<MetricWithRunId[]> {
    // Runs that do not exist contribute nothing, as in MLflow's SQL store.
    const histories = req.runIds.map((runId) => {
      const run = this.db.get<{ id: number }>('SELECT id FROM runs WHERE run_uuid = ?', [runId]);
      return { runId, points: run ? readHistory(this.db, this.persistence.series, run.id, runId, req.metricKey) : [] };
    });
    return sampledHistories(histories, req);
  }
}
