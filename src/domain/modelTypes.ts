/** Logged models (MLflow 3) and model-registry entities, shaped like MLflow's protobuf messages. */
import type { Tag } from './types';

export const LOGGED_MODEL_STATUSES = ['LOGGED_MODEL_PENDING', 'LOGGED_MODEL_READY', 'LOGGED_MODEL_UPLOAD_FAILED'] as const;
export type LoggedModelStatus = (typeof LOGGED_MODEL_STATUSES)[number];

export interface ModelMetric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
  run_id?: string;
  dataset_name?: string;
  dataset_digest?: string;
  model_id: string;
}

export interface LoggedModel {
  info: {
    model_id: string;
    experiment_id: string;
    name: string;
    creation_timestamp_ms: number;
    last_updated_timestamp_ms: number;
    artifact_uri: string;
    status: LoggedModelStatus;
    model_type?: string;
    source_run_id?: string;
    status_message?: string;
    tags: Tag[];
    registrations: { name: string; version: string }[];
  };
  data: { params: Tag[]; metrics: ModelMetric[] };
}

export const STAGES = ['None', 'Staging', 'Production', 'Archived'] as const;
export type Stage = (typeof STAGES)[number];

export interface ModelVersion {
  name: string;
  version: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  user_id?: string;
  current_stage: string;
  description?: string;
  source: string;
  run_id?: string;
  /** Runlens registers synchronously (always READY); an imported MLflow store may hold the others. */
  status: 'READY' | 'PENDING_REGISTRATION' | 'FAILED_REGISTRATION';
  tags: Tag[];
  run_link?: string;
  aliases: string[];
  model_id?: string;
}

export interface RegisteredModel {
  name: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  user_id?: string;
  description?: string;
  latest_versions: ModelVersion[];
  tags: Tag[];
  aliases: { alias: string; version: string }[];
}
