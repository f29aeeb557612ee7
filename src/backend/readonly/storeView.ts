/**
 * An existing MLflow store (an `mlflow.db`, a legacy `mlruns/`) served read-only, in place.
 *
 * The store's metadata is mirrored into a private, throw-away Runlens store (sql.js in a temp
 * folder) by the importer's mirror mode, so search, paging, registry and trace queries are
 * answered by exactly the code that answers them for Runlens's own store. Metric histories are
 * not copied: they are read from the source when asked for (a 10k-run store with 10M points
 * opens in the time its metadata takes), and artifacts are served from where the store keeps
 * them. MLflow may be writing the store meanwhile: a change re-mirrors it into a fresh
 * generation, which replaces the old one atomically for every later request.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Logger } from '../../domain/logger';
import type { DatasetInput, Experiment, Metric, MetricInput, MetricWithRunId, Page, Run, RunInfo, Tag } from '../../domain/types';
import type { ArtifactRepository } from '../api/artifacts';
import type { BackendCapabilities } from '../api/capabilities';
import type { ChangeListener, StoreChange } from '../api/changes';
import type { EvalDatasetStore, ScorerStore } from '../api/evalDatasets';
import type { LoggedModelStore } from '../api/loggedModels';
import type { ModelRegistryStore } from '../api/registry';
import type { TraceStore } from '../api/traces';
import type {
  BulkIntervalRequest,
  ChartSeries,
  DatasetSummary,
  MetricSeriesRequest,
  SearchExperimentsRequest,
  SearchRunsRequest,
  TrackingStore,
} from '../api/tracking';
import type { MlflowSource } from '../api/source';
import { importSource } from '../../store/import/storeImport';
import { LocalStore } from '../../store/localStore';
import { METRIC_HISTORY_MAX_RESULTS } from '../../store/limits';
import { sampleSteps, sortHistory } from '../../store/metricHistory';
import { decodePageToken, encodePageToken } from '../../store/search/pageToken';
import { columnsOf, downsampleSeries } from '../../store/seriesDownsample';
import type { SeriesPoint } from '../../store/seriesFiles';
import { readOnlyConcern, ReadOnlyStoreError, type Exhaustive } from './readOnly';
import { ExperimentIds } from './experimentIds';
import { localPathOf, ViewArtifacts } from './viewArtifacts';
import type { LoggedModel, ModelVersion } from '../../domain/modelTypes';
import type { TraceInfo } from '../../domain/traceTypes';

export interface StoreViewOptions {
  /** What the store is, for messages: "the mlflow.db at /x". */
  description: string;
  /** How to write to it instead, for the read-only refusal. */
  importHint: string;
  openSource: () => Promise<MlflowSource>;
  /** Where `mlflow-artifacts:` URIs point (the artifacts destination `mlflow server` would use). */
  artifactsDestination?: string | undefined;
  /**
   * MLflow's file store lists a version's aliases in search results; its SQL store does not
   * (only get_model_version does). Mirror whichever the source is.
   */
  versionSearchHasAliases?: boolean;
  /** Files and folders whose changes mean the store changed; none: never reloaded. */
  watch?: string[];
  log: Logger;
}

interface Generation {
  store: LocalStore;
  source: MlflowSource;
  artifacts: ViewArtifacts;
  tmp: string;
  /** Per-entity signatures, to tell views what a reload changed. */
  signatures: Map<string, string>;
}

/** Runs whose full histories stay cached (a chart of a sweep asks for each run again and again). */
const HISTORY_CACHE_RUNS = 64;
/** Reads still running on a replaced generation get this long before it is closed. */
const RETIRE_AFTER_MS = 30_000;

type RunReads = Pick<TrackingStore, 'getExperiment' | 'getExperimentByName' | 'searchExperiments' | 'getRun' | 'searchRuns' | 'searchDatasets'>;

export class MlflowStoreView implements TrackingStore {
  readonly capabilities: BackendCapabilities;
  readonly loggedModels: LoggedModelStore;
  readonly registry: ModelRegistryStore;
  readonly traces: TraceStore;
  readonly evalDatasets: EvalDatasetStore;
  readonly scorers: ScorerStore;
  private readonly listeners = new Set<ChangeListener>();
  private readonly history = new Map<string, Map<string, SeriesPoint[]>>();
  private watchers: fs.FSWatcher[] = [];
  private poll: NodeJS.Timeout | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;
  private reloading: Promise<void> | undefined;
  private dirty = false;
  private dirtySince: number | undefined;
  private closed = false;
  private lastBuildMs = 0;
  private lastStamp: string;

  private constructor(
    private gen: Generation,
    private readonly opts: StoreViewOptions,
    private readonly ids: ExperimentIds,
  ) {
    this.capabilities = { readOnly: true, description: opts.description, importHint: opts.importHint };
    this.lastStamp = stampOf(opts.watch ?? []);
    const refuse = (): Error => this.refusal();
    const store = (): LocalStore => this.gen.store;
    const model = (m: LoggedModel): LoggedModel => (ids.any ? { ...m, info: { ...m.info, experiment_id: ids.toSource(m.info.experiment_id) } } : m);
    const trace = (t: TraceInfo): TraceInfo =>
      ids.any ? { ...t, trace_location: { ...t.trace_location, mlflow_experiment: { experiment_id: ids.toSource(t.trace_location.mlflow_experiment.experiment_id) } } } : t;
    const local = (list: string[]): string[] => list.map((id) => ids.toLocal(id));
    this.loggedModels = readOnlyConcern<LoggedModelStore, LoggedModelReads, LoggedModelWrites>(() => store().loggedModels, LOGGED_MODEL_READS, LOGGED_MODEL_WRITES, refuse, {
      get: async (id) => model(await store().loggedModels.get(id)),
      search: async (req) => {
        const page = await store().loggedModels.search({ ...req, experimentIds: local(req.experimentIds) });
        return { ...page, items: page.items.map(model) };
      },
    });
    const withAliases = async (versions: ModelVersion[]): Promise<ModelVersion[]> => {
      const byModel = new Map<string, { alias: string; version: string }[]>();
      for (const v of versions) if (!byModel.has(v.name)) byModel.set(v.name, (await store().registry.getRegisteredModel(v.name)).aliases);
      return versions.map((v) => ({ ...v, aliases: byModel.get(v.name)!.filter((a) => a.version === v.version).map((a) => a.alias) }));
    };
    this.registry = readOnlyConcern<ModelRegistryStore, RegistryReads, RegistryWrites>(
      () => store().registry,
      REGISTRY_READS,
      REGISTRY_WRITES,
      refuse,
      opts.versionSearchHasAliases
        ? {
            searchModelVersions: async (req) => {
              const page = await store().registry.searchModelVersions(req);
              return { ...page, items: await withAliases(page.items) };
            },
          }
        : {},
    );
    this.traces = readOnlyConcern<TraceStore, TraceReads, TraceWrites>(() => store().traces, TRACE_READS, TRACE_WRITES, refuse, {
      get: async (id) => trace(await store().traces.get(id)),
      getMany: async (list) => (await store().traces.getMany(list)).map(trace),
      search: async (req) => {
        const page = await store().traces.search({ ...req, experimentIds: local(req.experimentIds) });
        return { ...page, items: page.items.map(trace) };
      },
      metrics: (q) => store().traces.metrics({ ...q, experimentIds: q.experimentIds.map((n) => ids.toLocalNumber(n)) }),
      count: (list, filter) => store().traces.count(local(list), filter),
      sessions: (list, limit) => store().traces.sessions(local(list), limit),
    });
    this.evalDatasets = readOnlyConcern<EvalDatasetStore, DatasetReads, DatasetWrites>(() => store().evalDatasets, DATASET_READS, DATASET_WRITES, refuse);
    this.scorers = readOnlyConcern<ScorerStore, ScorerReads, ScorerWrites>(() => store().scorers, SCORER_READS, SCORER_WRITES, refuse);
  }

  static async open(opts: StoreViewOptions): Promise<MlflowStoreView> {
    const t0 = Date.now();
    const ids = new ExperimentIds();
    const gen = await build(opts, ids);
    const view = new MlflowStoreView(gen, opts, ids);
    view.lastBuildMs = Date.now() - t0;
    opts.log.info(`${opts.description}: mirrored read-only in ${view.lastBuildMs} ms`);
    view.startWatching();
    return view;
  }

  get artifacts(): ArtifactRepository {
    return this.gen.artifacts;
  }

  private refusal(): Error {
    return new ReadOnlyStoreError(this.opts.description, this.opts.importHint);
  }

  private refuse(): Promise<never> {
    return Promise.reject(this.refusal());
  }

  onDidChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- reads: the mirror answers -------------------------------------------------------

  private get reads(): RunReads {
    return this.gen.store;
  }

  private experimentOut = (e: Experiment): Experiment => (this.ids.any ? { ...e, experiment_id: this.ids.toSource(e.experiment_id) } : e);
  private runOut = (r: Run): Run => (this.ids.any ? { ...r, info: { ...r.info, experiment_id: this.ids.toSource(r.info.experiment_id) } } : r);

  async getExperiment(id: string): Promise<Experiment> {
    return this.experimentOut(await this.reads.getExperiment(this.ids.toLocal(id)));
  }
  async getExperimentByName(name: string): Promise<Experiment | undefined> {
    const e = await this.reads.getExperimentByName(name);
    return e && this.experimentOut(e);
  }
  async searchExperiments(req: SearchExperimentsRequest): Promise<Page<Experiment>> {
    const page = await this.reads.searchExperiments(req);
    return { ...page, items: page.items.map(this.experimentOut) };
  }
  async getRun(runId: string): Promise<Run> {
    return this.runOut(await this.reads.getRun(runId));
  }
  async searchRuns(req: SearchRunsRequest): Promise<Page<Run>> {
    const page = await this.reads.searchRuns({ ...req, experimentIds: req.experimentIds.map((id) => this.ids.toLocal(id)) });
    return { ...page, items: page.items.map(this.runOut) };
  }
  async searchDatasets(experimentIds: string[]): Promise<DatasetSummary[]> {
    const list = await this.reads.searchDatasets(experimentIds.map((id) => this.ids.toLocal(id)));
    return this.ids.any ? list.map((d) => ({ ...d, experiment_id: this.ids.toSource(d.experiment_id) })) : list;
  }

  // ---- metric histories: read from the source -------------------------------------------

  /** Every point of a run's key, sorted as MLflow returns them; a run the store lacks has none. */
  private async points(runId: string, key: string): Promise<SeriesPoint[]> {
    let byKey = this.history.get(runId);
    if (!byKey) {
      byKey = new Map();
      const gen = this.gen;
      const known = await gen.store.getRun(runId).then(
        () => true,
        () => false,
      );
      if (known) {
        for await (const chunk of gen.source.metricHistory(runId)) {
          for (const m of chunk) {
            let list = byKey.get(m.key);
            if (!list) byKey.set(m.key, (list = []));
            list.push({ step: m.step, timestamp: m.timestamp, value: m.value });
          }
        }
        for (const list of byKey.values()) sortHistory(list);
      }
      if (gen === this.gen) {
        this.history.set(runId, byKey);
        if (this.history.size > HISTORY_CACHE_RUNS) this.history.delete(this.history.keys().next().value!);
      }
    }
    return byKey.get(key) ?? [];
  }

  async getMetricHistory(runId: string, key: string, maxResults?: number, pageToken?: string): Promise<Page<Metric>> {
    const offset = decodePageToken(pageToken);
    const points = await this.points(runId, key);
    const end = maxResults === undefined ? points.length : Math.min(points.length, offset + maxResults);
    const page: Page<Metric> = { items: points.slice(offset, end).map((p) => ({ key, value: p.value, timestamp: p.timestamp, step: p.step })) };
    if (end < points.length) page.nextPageToken = encodePageToken(end);
    return page;
  }

  async getMetricHistoryBulkInterval(req: BulkIntervalRequest): Promise<MetricWithRunId[]> {
    const histories = await Promise.all(req.runIds.map(async (runId) => ({ runId, points: await this.points(runId, req.metricKey) })));
    const steps = sampleSteps(
      histories.map((h) => h.points.map((p) => p.step)),
      req.maxResults,
      req.startStep,
      req.endStep,
    );
    const out: MetricWithRunId[] = [];
    for (const h of histories) {
      const chosen = h.points.filter((p) => steps.has(p.step)).sort((a, b) => a.step - b.step || a.timestamp - b.timestamp);
      for (const p of chosen.slice(0, METRIC_HISTORY_MAX_RESULTS)) out.push({ key: req.metricKey, value: p.value, timestamp: p.timestamp, step: p.step, run_id: h.runId });
    }
    return out;
  }

  async getMetricSeries(req: MetricSeriesRequest): Promise<ChartSeries> {
    await this.gen.store.getRun(req.runId); // RESOURCE_DOES_NOT_EXIST as the local store
    return downsampleSeries(columnsOf(await this.points(req.runId, req.key)), req.axis, req.buckets, req.from, req.to);
  }

  // ---- writes: refused ------------------------------------------------------------------

  createExperiment(): Promise<string> {
    return this.refuse();
  }
  renameExperiment(): Promise<void> {
    return this.refuse();
  }
  deleteExperiment(): Promise<void> {
    return this.refuse();
  }
  restoreExperiment(): Promise<void> {
    return this.refuse();
  }
  setExperimentTag(): Promise<void> {
    return this.refuse();
  }
  deleteExperimentTag(): Promise<void> {
    return this.refuse();
  }
  createRun(): Promise<Run> {
    return this.refuse();
  }
  updateRun(): Promise<RunInfo> {
    return this.refuse();
  }
  deleteRun(): Promise<void> {
    return this.refuse();
  }
  restoreRun(): Promise<void> {
    return this.refuse();
  }
  logMetric(_runId: string, _metric: MetricInput): Promise<void> {
    return this.refuse();
  }
  logParam(_runId: string, _param: Tag): Promise<void> {
    return this.refuse();
  }
  setTag(_runId: string, _tag: Tag): Promise<void> {
    return this.refuse();
  }
  deleteTag(): Promise<void> {
    return this.refuse();
  }
  logBatch(): Promise<void> {
    return this.refuse();
  }
  logInputs(_runId: string, _datasets: DatasetInput[]): Promise<void> {
    return this.refuse();
  }
  logOutputs(): Promise<void> {
    return this.refuse();
  }

  // ---- reloads --------------------------------------------------------------------------

  private startWatching(): void {
    const paths = this.opts.watch ?? [];
    const onEvent = (): void => this.markDirty();
    for (const p of paths) {
      try {
        const isDir = fs.statSync(p).isDirectory();
        // A database file is replaced and journaled beside itself: watch its folder for its names.
        const w = isDir
          ? fs.watch(p, { recursive: true }, onEvent)
          : fs.watch(path.dirname(p), (_e, name) => {
              if (name && String(name).startsWith(path.basename(p))) onEvent();
            });
        w.on('error', () => undefined);
        this.watchers.push(w);
      } catch {
        // not watchable (gone, or a file system without events): the poll below still sees it
      }
    }
    // Events can be missed (network file systems, editors replacing files): a slow poll catches up.
    if (paths.length) {
      this.poll = setInterval(() => {
        const stamp = stampOf(paths);
        if (stamp === this.lastStamp) return;
        this.lastStamp = stamp;
        this.markDirty();
      }, 2000);
      this.poll.unref();
    }
  }

  private markDirty(): void {
    if (this.closed) return;
    this.dirty = true;
    const now = Date.now();
    this.dirtySince ??= now;
    clearTimeout(this.reloadTimer);
    // Let a burst of writes settle (a store that is slow to mirror is re-mirrored less often),
    // but never wait more than a few seconds past the first change: a training loop never settles.
    const settle = Math.max(300, Math.min(5_000, 2 * this.lastBuildMs));
    const due = Math.min(now + settle, this.dirtySince + settle + 2_000);
    this.reloadTimer = setTimeout(() => {
      this.dirtySince = undefined;
      void this.reload();
    }, Math.max(0, due - now));
    this.reloadTimer.unref();
  }

  /** Re-mirrors the store now (tests; the watcher calls it after changes). */
  async reload(): Promise<void> {
    if (this.reloading) {
      this.dirty = true;
      return this.reloading;
    }
    this.dirty = false;
    this.reloading = (async () => {
      const t0 = Date.now();
      let next: Generation;
      try {
        next = await build(this.opts, this.ids);
      } catch (err) {
        // Caught mid-write or briefly unreadable: keep serving the last good mirror, try again later.
        this.opts.log.warn(`${this.opts.description}: could not re-read it (${(err as Error).message}); still serving the previous state`);
        return;
      }
      if (this.closed) return void retire(next);
      const old = this.gen;
      this.gen = next;
      this.history.clear();
      this.lastBuildMs = Date.now() - t0;
      this.opts.log.debug(`${this.opts.description}: re-mirrored in ${this.lastBuildMs} ms`);
      for (const change of changesBetween(old.signatures, next.signatures)) {
        const shown = { ...change, experimentId: this.ids.toSource(change.experimentId) };
        for (const l of this.listeners) l(shown);
      }
      setTimeout(() => void retire(old), RETIRE_AFTER_MS).unref();
    })().finally(() => {
      this.reloading = undefined;
      if (this.dirty && !this.closed) this.markDirty();
    });
    return this.reloading;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reloadTimer);
    clearInterval(this.poll);
    for (const w of this.watchers) w.close();
    await this.reloading?.catch(() => undefined);
    await retire(this.gen);
  }
}

// ---- building a generation -------------------------------------------------------------

const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

async function build(opts: StoreViewOptions, ids: ExperimentIds): Promise<Generation> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-view-'));
  let store: LocalStore | undefined;
  let source: MlflowSource | undefined;
  try {
    // Nothing here needs to survive a crash (the real store is the source), so the mirror never
    // snapshots: a snapshot would block the server for 1–2 ms per MB of a big store, for nothing.
    store = await LocalStore.open({ root: tmp, log: quiet, noDefaultExperiment: true, truncateLongValues: false, checkpointBytes: Number.MAX_SAFE_INTEGER });
    source = await opts.openSource();
    await importSource(source, store.importTarget(), { mirror: true, experimentId: (id) => ids.local(id) });
    const target = store.importTarget();
    const roots = target.db.rows("SELECT artifact_location FROM experiments UNION SELECT artifact_location FROM logged_models").map((r) => String(r[0]));
    const localRoots = roots.map((r) => localPathOf(r)).filter((r): r is string => r !== undefined);
    const refuse = (): Error => new ReadOnlyStoreError(opts.description, opts.importHint);
    return { store, source, tmp, artifacts: new ViewArtifacts(opts.artifactsDestination, localRoots, refuse), signatures: signaturesOf(store) };
  } catch (err) {
    await source?.close().catch(() => undefined);
    await store?.close({ checkpoint: false }).catch(() => undefined);
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

async function retire(gen: Generation): Promise<void> {
  await gen.source.close().catch(() => undefined);
  await gen.store.close({ checkpoint: false }).catch(() => undefined);
  fs.rmSync(gen.tmp, { recursive: true, force: true });
}

/** One line per experiment, run and trace: what a view shows of it, to diff two generations. */
function signaturesOf(store: LocalStore): Map<string, string> {
  const db = store.importTarget().db;
  const out = new Map<string, string>();
  for (const r of db.rows('SELECT experiment_id, name, lifecycle_stage, last_update_time FROM experiments')) out.set(`e\u0000${r[0]}`, r.slice(1).join('\u0000'));
  const runs = db.rows(
    `SELECT r.run_uuid, r.experiment_id, r.status, r.end_time, r.lifecycle_stage, r.name,
            (SELECT count(*) || ':' || coalesce(sum(step), 0) || ':' || coalesce(sum(timestamp), 0) || ':' || coalesce(sum(value), 0) FROM latest_metrics m WHERE m.run = r.id),
            (SELECT count(*) FROM params p WHERE p.run = r.id), (SELECT count(*) || ':' || coalesce(sum(length(value)), 0) FROM tags t WHERE t.run = r.id)
       FROM runs r`,
  );
  for (const r of runs) out.set(`r\u0000${r[0]}\u0000${r[1]}`, r.slice(2).join('\u0000'));
  for (const r of db.rows('SELECT trace_id, experiment_id, state, execution_ms FROM traces')) out.set(`t\u0000${r[0]}\u0000${r[1]}`, r.slice(2).join('\u0000'));
  return out;
}

function changesBetween(before: Map<string, string>, after: Map<string, string>): StoreChange[] {
  const out: StoreChange[] = [];
  for (const [key, sig] of after) {
    if (before.get(key) === sig) continue;
    const [kind, id, exp] = key.split('\u0000') as [string, string, string | undefined];
    if (kind === 'e') out.push({ kind: 'experiment', experimentId: id });
    else if (kind === 'r') out.push({ kind: 'run', runId: id, experimentId: exp!, ...(before.has(key) ? {} : { created: true }) });
    else out.push({ kind: 'trace', traceId: id, experimentId: exp! });
  }
  // Something gone (MLflow's gc): its experiment's list changed.
  for (const key of before.keys()) {
    if (after.has(key)) continue;
    const [kind, id, exp] = key.split('\u0000') as [string, string, string | undefined];
    out.push({ kind: 'experiment', experimentId: kind === 'e' ? id : exp! });
  }
  return out;
}

function stampOf(paths: string[]): string {
  return paths
    .flatMap((p) => [p, `${p}-wal`])
    .map((p) => {
      try {
        const s = fs.statSync(p);
        return `${s.size}:${s.mtimeMs}`;
      } catch {
        return '-';
      }
    })
    .join('|');
}

// ---- which methods of each concern read ------------------------------------------------

const LOGGED_MODEL_READS = ['get', 'search'] as const;
const LOGGED_MODEL_WRITES = ['create', 'finalize', 'delete', 'setTags', 'deleteTag', 'logParams'] as const;
type LoggedModelReads = (typeof LOGGED_MODEL_READS)[number];
type LoggedModelWrites = (typeof LOGGED_MODEL_WRITES)[number];

const REGISTRY_READS = ['getRegisteredModel', 'getVersionByAlias', 'searchRegisteredModels', 'getLatestVersions', 'getModelVersion', 'getDownloadUri', 'searchModelVersions'] as const;
const REGISTRY_WRITES = [
  'createRegisteredModel',
  'renameRegisteredModel',
  'updateRegisteredModel',
  'deleteRegisteredModel',
  'setRegisteredModelTag',
  'deleteRegisteredModelTag',
  'setAlias',
  'deleteAlias',
  'createModelVersion',
  'updateModelVersion',
  'transitionStage',
  'deleteModelVersion',
  'setModelVersionTag',
  'deleteModelVersionTag',
] as const;
type RegistryReads = (typeof REGISTRY_READS)[number];
type RegistryWrites = (typeof REGISTRY_WRITES)[number];

const TRACE_READS = ['get', 'getMany', 'search', 'metrics', 'count', 'sessions', 'getAssessment', 'traceForUpload', 'spanSummaries', 'payloadPath', 'readSpans', 'readSpansNoting'] as const;
const TRACE_WRITES = ['start', 'endV2', 'delete', 'setTag', 'deleteTag', 'linkToRun', 'createAssessment', 'updateAssessment', 'deleteAssessment', 'acceptTracesJson', 'ingest'] as const;
type TraceReads = (typeof TRACE_READS)[number];
type TraceWrites = (typeof TRACE_WRITES)[number];

const DATASET_READS = ['get', 'search', 'records', 'experimentIds'] as const;
const DATASET_WRITES = ['create', 'delete', 'setTags', 'deleteTag', 'upsertRecords', 'deleteRecords', 'addToExperiments', 'removeFromExperiments'] as const;
type DatasetReads = (typeof DATASET_READS)[number];
type DatasetWrites = (typeof DATASET_WRITES)[number];

const SCORER_READS = ['list', 'listLatest', 'versions', 'get'] as const;
const SCORER_WRITES = ['register', 'delete'] as const;
type ScorerReads = (typeof SCORER_READS)[number];
type ScorerWrites = (typeof SCORER_WRITES)[number];

// Compile-time: every method of every concern is a read or a write above.
const exhaustive: [
  Exhaustive<LoggedModelStore, LoggedModelReads, LoggedModelWrites>,
  Exhaustive<ModelRegistryStore, RegistryReads, RegistryWrites>,
  Exhaustive<TraceStore, TraceReads, TraceWrites>,
  Exhaustive<EvalDatasetStore, DatasetReads, DatasetWrites>,
  Exhaustive<ScorerStore, ScorerReads, ScorerWrites>,
] = [true, true, true, true, true];
void exhaustive;
