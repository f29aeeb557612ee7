/**
 * What the server and the UI read and write through: one backend, a concern per member. The
 * local sql.js store implements it; a remote MLflow server and read-only views of an existing
 * mlflow.db or legacy mlruns/ will too. Every method is asynchronous, so a backend may answer
 * from memory, from disk or over the network; none of these modules imports an implementation.
 */
import type { DatasetInput, Experiment, Metric, MetricInput, MetricWithRunId, Page, Run, RunInfo, RunStatus, Tag, ViewType } from '../../domain/types';
import type { ChartSeries, SeriesAxis } from '../../domain/seriesDownsample';
import type { ArtifactRepository } from './artifacts';
import type { BackendCapabilities } from './capabilities';
import type { ChangeSource } from './changes';
import type { EvalDatasetStore, ScorerStore } from './evalDatasets';
import type { GovernanceApi } from './governance';
import type { LoggedModelStore } from './loggedModels';
import type { ModelRegistryStore } from './registry';
import type { TraceStore } from './traces';

export type { ChartPoint, ChartSeries, SeriesAxis } from '../../domain/seriesDownsample';

/** One distinct (experiment, dataset, digest, input context) among runs' inputs (MLflow's SearchDatasets). */
export interface DatasetSummary {
  experiment_id: string;
  name: string;
  digest: string;
  context?: string;
}

export interface CreateRunRequest {
  /**
   * The new run's id (32 lowercase hex), when the caller chose it: a decorator that records the
   * run before it exists (the governance audit). Never taken from a client request.
   */
  runId?: string | undefined;
  experimentId?: string | undefined;
  userId?: string | undefined;
  runName?: string | undefined;
  startTime?: number | undefined;
  tags?: Tag[] | undefined;
}

export interface UpdateRunRequest {
  status?: RunStatus | undefined;
  endTime?: number | undefined;
  runName?: string | undefined;
}

export interface SearchRunsRequest {
  experimentIds: string[];
  filter?: string | undefined;
  viewType?: ViewType | undefined;
  maxResults?: number | undefined;
  orderBy?: string[] | undefined;
  pageToken?: string | undefined;
}

export interface SearchExperimentsRequest {
  filter?: string | undefined;
  viewType?: ViewType | undefined;
  maxResults?: number | undefined;
  orderBy?: string[] | undefined;
  pageToken?: string | undefined;
}

export interface LogBatchRequest {
  metrics?: MetricInput[] | undefined;
  params?: Tag[] | undefined;
  tags?: Tag[] | undefined;
}

export interface BulkIntervalRequest {
  runIds: string[];
  metricKey: string;
  startStep?: number | undefined;
  endStep?: number | undefined;
  maxResults: number;
}

export interface MetricSeriesRequest {
  runId: string;
  key: string;
  axis: SeriesAxis;
  /** Most points to return; longer series are bucketed with a min/max envelope. */
  buckets: number;
  from?: number | undefined;
  to?: number | undefined;
}

export interface TrackingStore extends ChangeSource {
  createExperiment(name: string, artifactLocation?: string, tags?: Tag[]): Promise<string>;
  getExperiment(experimentId: string): Promise<Experiment>;
  getExperimentByName(name: string): Promise<Experiment | undefined>;
  searchExperiments(req: SearchExperimentsRequest): Promise<Page<Experiment>>;
  renameExperiment(experimentId: string, newName: string): Promise<void>;
  deleteExperiment(experimentId: string): Promise<void>;
  restoreExperiment(experimentId: string): Promise<void>;
  setExperimentTag(experimentId: string, key: string, value: string): Promise<void>;
  deleteExperimentTag(experimentId: string, key: string): Promise<void>;

  createRun(req: CreateRunRequest): Promise<Run>;
  getRun(runId: string): Promise<Run>;
  updateRun(runId: string, req: UpdateRunRequest): Promise<RunInfo>;
  deleteRun(runId: string): Promise<void>;
  restoreRun(runId: string): Promise<void>;
  logMetric(runId: string, metric: MetricInput): Promise<void>;
  logParam(runId: string, param: Tag): Promise<void>;
  setTag(runId: string, tag: Tag): Promise<void>;
  deleteTag(runId: string, key: string): Promise<void>;
  logBatch(runId: string, req: LogBatchRequest): Promise<void>;
  logInputs(runId: string, datasets: DatasetInput[], modelIds: string[]): Promise<void>;
  logOutputs(runId: string, models: { modelId: string; step: number }[]): Promise<void>;
  searchRuns(req: SearchRunsRequest): Promise<Page<Run>>;
  /** Distinct datasets the experiments' runs took as input, with their contexts (MLflow's SearchDatasets). */
  searchDatasets(experimentIds: string[]): Promise<DatasetSummary[]>;

  getMetricHistory(runId: string, key: string, maxResults?: number, pageToken?: string): Promise<Page<Metric>>;
  getMetricHistoryBulkInterval(req: BulkIntervalRequest): Promise<MetricWithRunId[]>;
  /** A chart-ready, downsampled series (Runlens extension; not an MLflow RPC). */
  getMetricSeries(req: MetricSeriesRequest): Promise<ChartSeries>;

  readonly loggedModels: LoggedModelStore;
  readonly registry: ModelRegistryStore;
  readonly artifacts: ArtifactRepository;
  readonly traces: TraceStore;
  /** GenAI evaluation datasets and registered scorers (MLflow 3). */
  readonly evalDatasets: EvalDatasetStore;
  readonly scorers: ScorerStore;

  readonly capabilities: BackendCapabilities;
  /** Set on a backend served with a governance file (src/governance/): costs, budgets, audit. */
  readonly governance?: GovernanceApi | undefined;
  close(): Promise<void>;
}
