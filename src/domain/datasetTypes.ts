/** GenAI evaluation datasets and registered scorers, as MLflow 3's REST API shapes them. */

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** `mlflow.datasets.Dataset`: tags, schema and profile travel as JSON strings. */
export interface EvalDataset {
  dataset_id: string;
  name: string;
  tags: string;
  schema?: string;
  profile?: string;
  digest: string;
  created_time: number;
  last_update_time: number;
  created_by?: string;
  last_updated_by?: string;
  experiment_ids?: string[];
}

export const RECORD_SOURCE_TYPES = ['UNSPECIFIED', 'TRACE', 'HUMAN', 'DOCUMENT', 'CODE'] as const;
export type RecordSourceType = (typeof RECORD_SOURCE_TYPES)[number];

export interface RecordSource {
  source_type: RecordSourceType;
  source_data: JsonObject;
}

/**
 * One stored record, as `DatasetRecord.to_dict()` reports it. `outputs` absent means none;
 * any other value (including `{}`) is reported.
 */
export interface DatasetRecord {
  dataset_record_id: string;
  dataset_id: string;
  inputs: JsonObject;
  expectations?: JsonObject;
  tags: JsonObject;
  source?: RecordSource;
  source_id?: string;
  source_type?: RecordSourceType;
  created_time: number;
  last_update_time: number;
  created_by?: string;
  last_updated_by?: string;
  outputs?: JsonValue;
}

/** `mlflow.Scorer`: the experiment id is an int32 on the wire. */
export interface ScorerVersion {
  experiment_id: number;
  scorer_name: string;
  scorer_version: number;
  serialized_scorer: string;
  creation_time: number;
  scorer_id: string;
}
