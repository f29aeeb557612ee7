/**
 * Tracking entities. Field names follow MLflow's protobuf messages (snake_case) on purpose:
 * the server serialises them as they are, so the wire shape is visible in the type.
 */
export type LifecycleStage = 'active' | 'deleted';
export const RUN_STATUSES = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const VIEW_TYPES = ['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL'] as const;
export type ViewType = (typeof VIEW_TYPES)[number];

export interface Tag {
  key: string;
  value: string;
}

export interface Experiment {
  experiment_id: string;
  name: string;
  artifact_location: string;
  lifecycle_stage: LifecycleStage;
  creation_time: number;
  last_update_time: number;
  tags: Tag[];
}

export interface Metric {
  key: string;
  /** May be NaN or ±Infinity: the wire layer encodes those as MLflow does. */
  value: number;
  timestamp: number;
  step: number;
}

/** A metric as logged: optionally linked to a logged model and a dataset (MLflow 3). */
export interface MetricInput extends Metric {
  model_id?: string | undefined;
  dataset_name?: string | undefined;
  dataset_digest?: string | undefined;
}

export interface MetricWithRunId extends Metric {
  run_id: string;
}

export interface RunInfo {
  run_id: string;
  run_uuid: string;
  run_name: string;
  experiment_id: string;
  user_id: string;
  status: RunStatus;
  start_time: number | null;
  end_time: number | null;
  artifact_uri: string;
  lifecycle_stage: LifecycleStage;
}

export interface Dataset {
  name: string;
  digest: string;
  source_type: string;
  source: string;
  schema?: string;
  profile?: string;
}

export interface DatasetInput {
  tags: Tag[];
  dataset: Dataset;
}

export interface Run {
  info: RunInfo;
  data: { metrics: Metric[]; params: Tag[]; tags: Tag[] };
  inputs: { dataset_inputs: DatasetInput[]; model_inputs: { model_id: string }[] };
  outputs: { model_outputs: { model_id: string; step: number }[] };
}

export interface Page<T> {
  items: T[];
  nextPageToken?: string;
}

/** System tags MLflow gives meaning to (mlflow/utils/mlflow_tags.py). */
export const TAG_RUN_NAME = 'mlflow.runName';
export const TAG_PARENT_RUN_ID = 'mlflow.parentRunId';
export const TAG_NOTE = 'mlflow.note.content';
export const TAG_USER = 'mlflow.user';
export const TAG_DATASET_CONTEXT = 'mlflow.data.context';
