/**
 * A Runlens store read as an `MlflowSource`, so `runlens export` writes it with the same writer
 * any other source would use. Only the `TrackingStore` interface's reads are used (searches with
 * paging, never the sql.js tables), and every sub-store result is awaited: those sub-stores are
 * becoming asynchronous, and awaiting a plain value costs nothing.
 */
import * as path from 'node:path';
import type { TrackingStore } from '../api/tracking';
import type { Experiment, Metric } from '../../domain/types';
import type { LoggedModel, ModelVersion } from '../../domain/modelTypes';
import type { ArtifactLocation, MlflowSource, SourceRegisteredModel, SourceRun, SourceTrace } from '../api/source';
import { proxyPath } from '../../domain/artifactUri';

/** Page sizes within each search's own cap (MLflow's limits, which the store enforces). */
const PAGE = { experiments: 1000, runs: 1000, metrics: 100_000, registeredModels: 100, versions: 1000, loggedModels: 100, traces: 500 } as const;

/** `mlflow-artifacts:/1/abc/artifacts` (host optional) → `1/abc/artifacts`; other URIs are not the store's. */
const proxiedPath = proxyPath;

/** Follows page tokens until a page comes back without one. */
async function* paged<T>(fetchPage: (token: string | undefined) => Promise<{ items: T[]; nextPageToken?: string | undefined }>): AsyncIterable<T[]> {
  let token: string | undefined;
  do {
    const page = await fetchPage(token);
    if (page.items.length > 0) yield page.items;
    token = page.nextPageToken || undefined;
  } while (token !== undefined);
}

export class StoreSource implements MlflowSource {
  readonly kind = 'mlflow-server' as const;
  /** Artifact directories are resolved while runs and models are listed, so the sync accessors can answer. */
  private readonly dirs = new Map<string, string | undefined>();
  private readonly metricKeys = new Map<string, string[]>();

  constructor(
    private readonly store: TrackingStore,
    readonly description: string,
  ) {}

  async *experiments(): AsyncIterable<Experiment> {
    for await (const items of paged((pageToken) => this.store.searchExperiments({ viewType: 'ALL', maxResults: PAGE.experiments, pageToken, orderBy: ['experiment_id ASC'] }))) {
      yield* items;
    }
  }

  async *runs(experimentId: string): AsyncIterable<SourceRun> {
    const pages = paged((pageToken) => this.store.searchRuns({ experimentIds: [experimentId], viewType: 'ALL', maxResults: PAGE.runs, pageToken, orderBy: ['attributes.start_time ASC'] }));
    for await (const items of pages) {
      for (const run of items) {
        this.metricKeys.set(run.info.run_id, [...new Set(run.data.metrics.map((m) => m.key))]);
        this.dirs.set(`run:${run.info.run_id}`, await this.localDir(run.info.artifact_uri));
        yield run;
      }
    }
  }

  async *metricHistory(runId: string): AsyncIterable<Metric[]> {
    const keys = this.metricKeys.get(runId) ?? [...new Set((await this.store.getRun(runId)).data.metrics.map((m) => m.key))];
    for (const key of keys) {
      yield* paged((pageToken) => this.store.getMetricHistory(runId, key, PAGE.metrics, pageToken));
    }
  }

  runArtifacts(run: SourceRun): ArtifactLocation {
    return { dir: this.dirs.get(`run:${run.info.run_id}`), uri: run.info.artifact_uri };
  }

  async *registeredModels(): AsyncIterable<SourceRegisteredModel> {
    const registry = this.store.registry;
    for await (const models of paged(async (pageToken) => await registry.searchRegisteredModels({ maxResults: PAGE.registeredModels, pageToken, orderBy: ['name ASC'] }))) {
      for (const { latest_versions: _latest, ...model } of models) {
        const versions: ModelVersion[] = [];
        const filter = `name = '${model.name.replace(/'/g, "''")}'`;
        for await (const page of paged(async (pageToken) => await registry.searchModelVersions({ filter, maxResults: PAGE.versions, pageToken }))) versions.push(...page);
        versions.sort((a, b) => Number(a.version) - Number(b.version));
        yield { model, versions };
      }
    }
  }

  async *loggedModels(experimentId: string): AsyncIterable<LoggedModel> {
    const models = this.store.loggedModels;
    for await (const items of paged(async (pageToken) => await models.search({ experimentIds: [experimentId], maxResults: PAGE.loggedModels, pageToken }))) {
      for (const model of items) {
        this.dirs.set(`model:${model.info.model_id}`, await this.localDir(model.info.artifact_uri));
        yield model;
      }
    }
  }

  loggedModelArtifacts(model: LoggedModel): ArtifactLocation {
    return { dir: this.dirs.get(`model:${model.info.model_id}`), uri: model.info.artifact_uri };
  }

  async *traces(experimentId: string): AsyncIterable<SourceTrace> {
    const traces = this.store.traces;
    const pages = paged(async (pageToken) => await traces.search({ experimentIds: [experimentId], maxResults: PAGE.traces, pageToken, orderBy: ['timestamp_ms ASC'] }));
    for await (const infos of pages) {
      for (const info of infos) yield { info, spans: await traces.readSpans(info.trace_id) };
    }
  }

  /** The store keeps artifacts under its own `mlflow-artifacts:` root; anything else it cannot read. */
  private async localDir(uri: string): Promise<string | undefined> {
    const rel = proxiedPath(uri);
    if (rel === undefined || rel === '') return undefined;
    const root = this.store.artifacts.localRoot;
    if (root === undefined || rel.split('/').includes('..')) return undefined;
    return path.join(root, ...rel.split('/'));
  }

  async close(): Promise<void> {
    // The store belongs to the caller, who closes it (and releases its lock).
  }
}
