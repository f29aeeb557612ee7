/**
 * What an existing MLflow store holds, in MLflow's own wire shapes, read entity by entity.
 *
 * One contract for every place Runlens takes MLflow data from: an `mlflow.db` (MLflow's SQLAlchemy
 * schema), a legacy `mlruns/` file store, and later an MLflow server over REST. The importer turns a
 * source into Runlens ops; the read-only views are a source imported into a store that refuses
 * writes. Readers convert as they read (timestamps in ms, MLflow's stage names, NaN metric values
 * as NaN), so the importer never needs to know where an entity came from.
 */
import type { Readable } from 'node:stream';
import type { Experiment, Metric, Run } from '../../domain/types';
import type { LoggedModel, ModelVersion, RegisteredModel } from '../../domain/modelTypes';
import type { Assessment, SpanDict, TraceInfo } from '../../domain/traceTypes';

export type SourceKind = 'mlflow.db' | 'mlruns' | 'mlflow-server';

/** A run, with the dataset inputs and model inputs/outputs it names; `data.metrics` are the latest values. */
export type SourceRun = Run;

/** A registered model with all its versions (not only the latest per stage) and aliases. */
export interface SourceRegisteredModel {
  model: Omit<RegisteredModel, 'latest_versions'>;
  versions: ModelVersion[];
}

export interface SourceTrace {
  /** `assessments` inside `info` are the trace's current assessments, including overridden ones. */
  info: TraceInfo;
  /** Empty when the source keeps no spans for the trace (e.g. they were never uploaded). */
  spans: SpanDict[];
}

/** Artifact files a source serves itself (e.g. an MLflow server's artifact routes), by relative path. */
export interface RemoteArtifacts {
  /** Every file under the run's (or model's) artifact root, relative with `/`. */
  files(): AsyncIterable<string>;
  open(relPath: string): Promise<Readable>;
}

/** Where a run's (or logged model's) artifacts are, when the source can tell. */
export interface ArtifactLocation {
  /** An absolute local directory; undefined when the artifact URI is remote or cannot be resolved. */
  dir: string | undefined;
  /** The URI the source recorded, for the summary when neither `dir` nor `remote` is set. */
  uri: string;
  /** Set by sources that serve the files themselves (not on this machine). */
  remote?: RemoteArtifacts;
}

/** How a local store's recorded artifact URIs map to this machine. */
export interface SourceOptions {
  /**
   * Where `mlflow-artifacts:` URIs point: the `--artifacts-destination` of the `mlflow server` that
   * served the store. Default: `mlartifacts` beside the `mlflow.db`, or beside the `mlruns/` folder.
   */
  artifactsDestination?: string;
  /** What relative artifact paths (`./mlartifacts/1/…`) are relative to: where MLflow ran. Default: the store's folder. */
  baseDir?: string;
}

export interface MlflowSource {
  readonly kind: SourceKind;
  /** For messages: the path or URL, and what was detected (e.g. the alembic revision). */
  readonly description: string;

  /** Every experiment, active and deleted, with tags. The Default experiment is id "0". */
  experiments(): AsyncIterable<Experiment>;
  /** Every run of an experiment, active and deleted. */
  runs(experimentId: string): AsyncIterable<SourceRun>;
  /** The full history of every metric of a run, in any order; duplicates are kept as the source has them. */
  metricHistory(runId: string): AsyncIterable<Metric[]>;
  runArtifacts(run: SourceRun): ArtifactLocation;

  registeredModels(): AsyncIterable<SourceRegisteredModel>;
  /** MLflow 3 logged models; none for stores from before MLflow 3. */
  loggedModels(experimentId: string): AsyncIterable<LoggedModel>;
  loggedModelArtifacts(model: LoggedModel): ArtifactLocation;
  /** Traces of an experiment, with spans and assessments. */
  traces(experimentId: string): AsyncIterable<SourceTrace>;

  /** What the source itself could not read, with why and how often; merged into the import summary. */
  skipped?(): ReadonlyMap<string, number>;

  close(): Promise<void>;
}

export type { Assessment };
