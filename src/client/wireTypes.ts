/** The MLflow REST shapes the extension reads (snake_case, as on the wire). */
export interface WireKeyValue {
  key: string;
  value: string;
}

export interface WireMetric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

export type WireRunStatus = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';

export interface WireRunInfo {
  run_id: string;
  run_name?: string;
  experiment_id: string;
  user_id?: string;
  status: WireRunStatus;
  start_time?: number;
  end_time?: number;
  artifact_uri?: string;
  lifecycle_stage: 'active' | 'deleted';
}

export interface WireDatasetInput {
  tags?: WireKeyValue[];
  dataset: { name: string; digest: string; source_type?: string; source?: string; schema?: string; profile?: string };
}

export interface WireRun {
  info: WireRunInfo;
  data: { metrics?: WireMetric[]; params?: WireKeyValue[]; tags?: WireKeyValue[] };
  inputs?: { dataset_inputs?: WireDatasetInput[] };
  /** MLflow 3: the logged models the run produced (`log_model`). */
  outputs?: { model_outputs?: { model_id: string; step: number }[] };
}

export interface WireExperiment {
  experiment_id: string;
  name: string;
  artifact_location?: string;
  lifecycle_stage: 'active' | 'deleted';
  creation_time?: number;
  last_update_time?: number;
  tags?: WireKeyValue[];
}

export interface WireFileInfo {
  path: string;
  is_dir: boolean;
  file_size?: number;
}

export interface WireRegisteredModel {
  name: string;
  description?: string;
  latest_versions?: WireModelVersion[];
  aliases?: { alias: string; version: string }[];
  tags?: WireKeyValue[];
}

export interface WireModelVersion {
  name: string;
  version: string;
  current_stage?: string;
  status?: string;
  run_id?: string;
  source?: string;
  aliases?: string[];
  creation_timestamp?: number;
  last_updated_timestamp?: number;
  description?: string;
  user_id?: string;
  tags?: WireKeyValue[];
  /** MLflow 3: the logged model this version was registered from. */
  model_id?: string;
}

export type ViewType = 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';

export function tagValue(run: WireRun, key: string): string | undefined {
  return run.data.tags?.find((t) => t.key === key)?.value;
}

export const PARENT_RUN_TAG = 'mlflow.parentRunId';
export const NOTE_TAG = 'mlflow.note.content';

/** One event of the change feed (`/runlens/api/changes`), or what a poller of a server without it reports. */
export type ChangeEvent =
  | { kind: 'experiment'; experimentId: string }
  | { kind: 'run'; runId: string; experimentId: string; created?: boolean }
  | { kind: 'trace'; traceId: string; experimentId: string };

/** `/runlens/api/metric-series`: doubles JSON cannot carry arrive as "NaN"/"Infinity" strings. */
export interface WireChartSeries {
  total_points: number;
  downsampled: boolean;
  points: { x: number; value: number | string; min: number | string; max: number | string; count: number }[];
  /** Only this many points were read (a history longer than a client reads, from a server without Runlens' routes): the chart shows its first points. */
  first_points?: number;
}

// --- traces (MLflow 3 TraceInfoV3 / Assessment, and Runlens' span dicts) ---
export type { Assessment as WireAssessment, SessionSummary as WireSessionSummary, SpanDict as WireSpan, TraceInfo as WireTraceInfo } from '../domain/traceTypes';
export type { DatasetRecord as WireDatasetRecord, EvalDataset as WireEvalDataset } from '../domain/datasetTypes';
