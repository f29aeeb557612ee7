/**
 * The sql.js schema. Runs get an integer surrogate key (`runs.id`) that child tables use: it
 * makes search joins 2-2.6x faster than 32-char uuids (shared/reference/storage-bench.md §3).
 * Metric history is not here: only the latest value per key, for search and sorting.
 * Every statement is IF NOT EXISTS and runs on each open, so tables added later (evaluation
 * datasets, scorers) appear in existing stores without a version bump.
 */
export const SCHEMA_VERSION = 1;

export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS experiments (
  experiment_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  artifact_location TEXT NOT NULL,
  lifecycle_stage TEXT NOT NULL,
  creation_time INTEGER,
  last_update_time INTEGER
);
CREATE TABLE IF NOT EXISTS experiment_tags (
  experiment_id INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY (experiment_id, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY,
  run_uuid TEXT NOT NULL UNIQUE,
  experiment_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  user_id TEXT NOT NULL,
  status TEXT NOT NULL,
  start_time INTEGER,
  end_time INTEGER,
  lifecycle_stage TEXT NOT NULL,
  artifact_uri TEXT NOT NULL,
  deleted_time INTEGER,
  series_len INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS runs_by_experiment ON runs (experiment_id, start_time);
-- Ordering by an attribute walks one of these in order and stops at the page (search/runOrder.ts).
CREATE INDEX IF NOT EXISTS runs_by_experiment_name ON runs (experiment_id, name, start_time);
CREATE INDEX IF NOT EXISTS runs_by_experiment_status ON runs (experiment_id, status, start_time);
CREATE INDEX IF NOT EXISTS runs_by_experiment_end ON runs (experiment_id, end_time, start_time);
CREATE INDEX IF NOT EXISTS runs_by_experiment_user ON runs (experiment_id, user_id, start_time);
CREATE TABLE IF NOT EXISTS params (
  run INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (run, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS params_by_key_value ON params (key, value, run);
CREATE TABLE IF NOT EXISTS tags (
  run INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (run, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tags_by_key_value ON tags (key, value, run);
CREATE TABLE IF NOT EXISTS latest_metrics (
  run INTEGER NOT NULL, key TEXT NOT NULL, key_id INTEGER NOT NULL,
  value REAL, timestamp INTEGER NOT NULL, step INTEGER NOT NULL, is_nan INTEGER NOT NULL,
  PRIMARY KEY (run, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS latest_metrics_by_key_value ON latest_metrics (key, value, run);
CREATE TABLE IF NOT EXISTS datasets (
  id INTEGER PRIMARY KEY,
  experiment_id INTEGER NOT NULL,
  name TEXT NOT NULL, digest TEXT NOT NULL,
  source_type TEXT NOT NULL, source TEXT NOT NULL,
  schema TEXT, profile TEXT,
  UNIQUE (experiment_id, name, digest)
);
CREATE TABLE IF NOT EXISTS run_inputs (
  run INTEGER NOT NULL, dataset INTEGER NOT NULL, PRIMARY KEY (run, dataset)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS run_inputs_by_dataset ON run_inputs (dataset, run);
CREATE TABLE IF NOT EXISTS run_input_tags (
  run INTEGER NOT NULL, dataset INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY (run, dataset, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS run_model_inputs (
  run INTEGER NOT NULL, model_id TEXT NOT NULL, PRIMARY KEY (run, model_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS run_model_outputs (
  run INTEGER NOT NULL, model_id TEXT NOT NULL, step INTEGER NOT NULL, PRIMARY KEY (run, model_id)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS logged_models (
  model_id TEXT PRIMARY KEY,
  experiment_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  artifact_location TEXT NOT NULL,
  creation_time INTEGER NOT NULL,
  last_updated_time INTEGER NOT NULL,
  status TEXT NOT NULL,
  lifecycle_stage TEXT NOT NULL,
  model_type TEXT,
  source_run_id TEXT,
  status_message TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS logged_models_by_experiment ON logged_models (experiment_id, creation_time);
CREATE INDEX IF NOT EXISTS logged_models_by_run ON logged_models (source_run_id);
CREATE TABLE IF NOT EXISTS logged_model_tags (
  model_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (model_id, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS logged_model_params (
  model_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (model_id, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS logged_model_metrics (
  model_id TEXT NOT NULL, key TEXT NOT NULL, value REAL, is_nan INTEGER NOT NULL,
  timestamp INTEGER NOT NULL, step INTEGER NOT NULL, run_id TEXT,
  dataset_name TEXT, dataset_digest TEXT
);
CREATE INDEX IF NOT EXISTS logged_model_metrics_by_model ON logged_model_metrics (model_id, key);

CREATE TABLE IF NOT EXISTS registered_models (
  name TEXT PRIMARY KEY,
  creation_time INTEGER NOT NULL,
  last_updated_time INTEGER NOT NULL,
  description TEXT,
  user_id TEXT,
  next_version INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS registered_model_tags (
  name TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (name, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS registered_model_aliases (
  name TEXT NOT NULL, alias TEXT NOT NULL, version INTEGER NOT NULL, PRIMARY KEY (name, alias)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS model_versions (
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  creation_time INTEGER NOT NULL,
  last_updated_time INTEGER NOT NULL,
  description TEXT,
  user_id TEXT,
  current_stage TEXT NOT NULL,
  source TEXT NOT NULL,
  run_id TEXT,
  run_link TEXT,
  storage_location TEXT,
  model_id TEXT,
  PRIMARY KEY (name, version)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS model_versions_by_run ON model_versions (run_id);
CREATE TABLE IF NOT EXISTS model_version_tags (
  name TEXT NOT NULL, version INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (name, version, key)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS traces (
  id INTEGER PRIMARY KEY,
  trace_id TEXT NOT NULL UNIQUE,
  experiment_id INTEGER NOT NULL,
  request_time INTEGER NOT NULL,
  execution_ms INTEGER,
  state TEXT NOT NULL,
  client_request_id TEXT,
  request_preview TEXT,
  response_preview TEXT,
  session_id TEXT,
  user_id TEXT,
  input_tokens INTEGER,
  output_tokens INTEGER,
  total_tokens INTEGER,
  span_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS traces_by_experiment ON traces (experiment_id, request_time);
CREATE INDEX IF NOT EXISTS traces_by_session ON traces (session_id, request_time);
CREATE TABLE IF NOT EXISTS trace_tags (
  trace INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (trace, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS trace_tags_by_key_value ON trace_tags (key, value, trace);
CREATE TABLE IF NOT EXISTS trace_metadata (
  trace INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (trace, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS trace_metadata_by_key_value ON trace_metadata (key, value, trace);
CREATE TABLE IF NOT EXISTS trace_runs (
  trace INTEGER NOT NULL, run_id TEXT NOT NULL, PRIMARY KEY (trace, run_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS trace_runs_by_run ON trace_runs (run_id, trace);
-- Links made before the trace's info arrived (link-to-run while it is still being exported);
-- they move to trace_runs when the trace is created.
CREATE TABLE IF NOT EXISTS trace_pending_runs (
  trace_id TEXT NOT NULL, run_id TEXT NOT NULL, PRIMARY KEY (trace_id, run_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS trace_spans (
  trace INTEGER NOT NULL, span_id TEXT NOT NULL, parent_id TEXT, name TEXT NOT NULL, type TEXT NOT NULL,
  status TEXT NOT NULL, start_us INTEGER NOT NULL, end_us INTEGER,
  PRIMARY KEY (trace, span_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS trace_spans_by_name ON trace_spans (name, trace);
CREATE INDEX IF NOT EXISTS trace_spans_by_type ON trace_spans (type, trace);
CREATE TABLE IF NOT EXISTS trace_span_attrs (
  trace INTEGER NOT NULL, span_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY (trace, span_id, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS trace_span_attrs_by_key_value ON trace_span_attrs (key, value, trace);
CREATE TABLE IF NOT EXISTS assessments (
  assessment_id TEXT PRIMARY KEY,
  trace INTEGER NOT NULL,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  value_text TEXT,
  valid INTEGER NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS assessments_by_trace ON assessments (trace);
CREATE INDEX IF NOT EXISTS assessments_by_name ON assessments (name, kind, trace);

-- GenAI evaluation datasets (MLflow 3), apart from the run-input \`datasets\` above. Record
-- bodies are JSON text; \`input_key\` is the canonical JSON of the inputs, the upsert identity.
CREATE TABLE IF NOT EXISTS eval_datasets (
  dataset_id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  digest TEXT NOT NULL,
  schema TEXT,
  profile TEXT,
  created_time INTEGER NOT NULL,
  last_update_time INTEGER NOT NULL,
  created_by TEXT,
  last_updated_by TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS eval_datasets_by_created ON eval_datasets (created_time);
-- A rowid table: tags list in the order they were first set, as MLflow reports them.
CREATE TABLE IF NOT EXISTS eval_dataset_tags (
  dataset_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT, PRIMARY KEY (dataset_id, key)
);
CREATE TABLE IF NOT EXISTS eval_dataset_experiments (
  dataset_id TEXT NOT NULL, experiment_id TEXT NOT NULL, PRIMARY KEY (dataset_id, experiment_id)
);
CREATE INDEX IF NOT EXISTS eval_dataset_experiments_by_exp ON eval_dataset_experiments (experiment_id, dataset_id);
CREATE TABLE IF NOT EXISTS eval_dataset_records (
  dataset_record_id TEXT PRIMARY KEY,
  dataset_id TEXT NOT NULL,
  input_key TEXT NOT NULL,
  body TEXT NOT NULL,
  created_time INTEGER NOT NULL,
  UNIQUE (dataset_id, input_key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS eval_dataset_records_by_page ON eval_dataset_records (dataset_id, created_time, dataset_record_id);

-- Registered GenAI scorers: one row per (experiment, name), versions below it.
CREATE TABLE IF NOT EXISTS scorers (
  scorer_id TEXT PRIMARY KEY,
  experiment_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  UNIQUE (experiment_id, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS scorer_versions (
  scorer_id TEXT NOT NULL, version INTEGER NOT NULL, serialized TEXT NOT NULL, creation_time INTEGER NOT NULL,
  PRIMARY KEY (scorer_id, version)
) WITHOUT ROWID;
`;
