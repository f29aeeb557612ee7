/**
 * A legacy `mlruns/` file store (MLflow's FileStore, tracking and registry in one folder) read as
 * an MlflowSource. Only reads: nothing is created, locked or moved, so MLflow may keep using it.
 */
import * as path from 'node:path';
import type { Experiment, Metric } from '../../domain/types';
import type { LoggedModel } from '../../domain/modelTypes';
import { resolveArtifactDir, type ArtifactRoots } from '../transfer/artifactDirs';
import type { ArtifactLocation, MlflowSource, SourceOptions, SourceRegisteredModel, SourceRun, SourceTrace } from '../api/source';
import { readLoggedModels, readRegisteredModels } from './fsModels';
import { readTraces } from './fsTraces';
import { readExperiments, readMetricHistory, readRun, runDirs, type FsExperiment } from './fsTracking';

export class FileStoreSource implements MlflowSource {
  readonly kind = 'mlruns' as const;
  readonly description: string;
  private readonly roots: ArtifactRoots;
  private experimentDirs: Map<string, string> | undefined;
  /** Run folders seen by `runs()`, so a history read does not search every experiment. */
  private readonly runDirCache = new Map<string, string>();

  constructor(
    private readonly root: string,
    opts: SourceOptions = {},
  ) {
    const parent = path.dirname(root);
    this.roots = { baseDir: opts.baseDir ?? parent, artifactsDestination: opts.artifactsDestination ?? path.join(parent, 'mlartifacts') };
    this.description = `MLflow file store at ${root}`;
  }

  private scan(): FsExperiment[] {
    const found = readExperiments(this.root);
    this.experimentDirs = new Map(found.map((e) => [e.experiment.experiment_id, e.dir]));
    return found;
  }

  private experimentDir(id: string): string | undefined {
    if (!this.experimentDirs?.has(id)) this.scan();
    return this.experimentDirs!.get(id);
  }

  async *experiments(): AsyncIterable<Experiment> {
    for (const e of this.scan()) yield e.experiment;
  }

  async *runs(experimentId: string): AsyncIterable<SourceRun> {
    const dir = this.experimentDir(experimentId);
    if (dir === undefined) return;
    for (const runDir of runDirs(dir)) {
      const run = readRun(runDir, dir);
      if (!run) continue;
      this.runDirCache.set(run.info.run_id, runDir);
      yield run;
    }
  }

  async *metricHistory(runId: string): AsyncIterable<Metric[]> {
    const dir = this.runDir(runId);
    if (dir !== undefined) yield* readMetricHistory(dir);
  }

  private runDir(runId: string): string | undefined {
    const cached = this.runDirCache.get(runId);
    if (cached !== undefined) return cached;
    for (const e of this.scan()) {
      const candidate = path.join(e.dir, runId);
      if (readRun(candidate, e.dir)) return candidate;
    }
    return undefined;
  }

  runArtifacts(run: SourceRun): ArtifactLocation {
    return resolveArtifactDir(run.info.artifact_uri, this.roots);
  }

  async *registeredModels(): AsyncIterable<SourceRegisteredModel> {
    yield* readRegisteredModels(path.join(this.root, 'models'));
  }

  async *loggedModels(experimentId: string): AsyncIterable<LoggedModel> {
    const dir = this.experimentDir(experimentId);
    if (dir !== undefined) yield* readLoggedModels(dir);
  }

  loggedModelArtifacts(model: LoggedModel): ArtifactLocation {
    return resolveArtifactDir(model.info.artifact_uri, this.roots);
  }

  async *traces(experimentId: string): AsyncIterable<SourceTrace> {
    const dir = this.experimentDir(experimentId);
    if (dir !== undefined) yield* readTraces(dir, (uri) => resolveArtifactDir(uri, this.roots).dir);
  }

  async close(): Promise<void> {}
}
