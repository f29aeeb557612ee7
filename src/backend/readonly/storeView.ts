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
import * as path from 'node:path';
import type { DatasetInput, Experiment, Metric, MetricInput, MetricWithRunId, Page, Run, RunInfo, Tag } from '../../domain/types';
import type { ArtifactRepository } from '../api/artifacts';
import type { BackendCapabilities } from '../api/capabilities';
import type { ChangeListener } from '../api/changes';
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
import type { LocalStore } from '../../store/localStore';
import { historyPage, sampledHistories, sortHistory } from '../../store/metricHistory';
import { columnsOf, downsampleSeries } from '../../domain/seriesDownsample';
import type { SeriesPoint } from '../../store/seriesFiles';
import { readOnlyConcern, ReadOnlyStoreError } from './readOnly';
import * as M from './concernMethods';
import { build, changesBetween, retire, stampOf, type Generation, type StoreViewOptions } from './generation';
import { ExperimentIds } from './experimentIds';
import type { LoggedModel, ModelVersion } from '../../domain/modelTypes';
import type { TraceInfo } from '../../domain/traceTypes';

/** Runs whose full histories stay cached (a chart of a sweep asks for each run again and again). */
const HISTORY_CACHE_RUNS = 64;
/** Reads still running on a replaced generation get this long before it is closed. */
const RETIRE_AFTER_MS = 30_000;

type RunReads = Pick<TrackingStore, 'getExperiment' | 'getExperimentByName' | 'searchExperiments' | 'getRun' | 'searchRuns' | 'searchDatasets'>;

export type { StoreViewOptions };

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
    this.loggedModels = readOnlyConcern<LoggedModelStore, M.LoggedModelReads, M.LoggedModelWrites>(() => store().loggedModels, M.LOGGED_MODEL_READS, M.LOGGED_MODEL_WRITES, refuse, {
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
    this.registry = readOnlyConcern<ModelRegistryStore, M.RegistryReads, M.RegistryWrites>(
      () => store().registry,
      M.REGISTRY_READS,
      M.REGISTRY_WRITES,
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
    this.traces = readOnlyConcern<TraceStore, M.TraceReads, M.TraceWrites>(() => store().traces, M.TRACE_READS, M.TRACE_WRITES, refuse, {
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
    this.evalDatasets = readOnlyConcern<EvalDatasetStore, M.DatasetReads, M.DatasetWrites>(() => store().evalDatasets, M.DATASET_READS, M.DATASET_WRITES, refuse);
    this.scorers = readOnlyConcern<ScorerStore, M.ScorerReads, M.ScorerWrites>(() => store().scorers, M.SCORER_READS, M.SCORER_WRITES, refuse);
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
    return historyPage(await this.points(runId, key), key, maxResults, pageToken);
  }

  async getMetricHistoryBulkInterval(req: BulkIntervalRequest): Promise<MetricWithRunId[]> {
    return sampledHistories(await Promise.all(req.runIds.map(async (runId) => ({ runId, points: await this.points(runId, req.metricKey) }))), req);
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
