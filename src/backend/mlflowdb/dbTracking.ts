/**
 * Experiments, runs and metric histories of an `mlflow.db`, shaped as MLflow's SqlAlchemyStore
 * returns them (`SqlRun.to_mlflow_entity`, `_get_run_inputs`): NaN comes back from the `is_nan`
 * column, ids as strings, a run without a `name` takes its `mlflow.runName` tag.
 */
import type { SqlValue } from 'sql.js';
import type { SqlDb } from '../../store/sqlite';
import { placeholders } from '../../store/sqlite';
import { TAG_RUN_NAME, type DatasetInput, type Experiment, type LifecycleStage, type Metric, type RunStatus, type Tag } from '../../domain/types';
import type { SourceRun } from '../api/source';
import type { DbSchema } from './dbSchema';

/** Runs whose children are read with one `IN (…)` query: bounded by SQLite's variable limit. */
const RUN_CHUNK = 500;
const HISTORY_BATCH = 10_000;

export function readExperiments(db: SqlDb, schema: DbSchema): Experiment[] {
  const tags = groupTags(db.rows('SELECT experiment_id, key, value FROM experiment_tags'));
  const rows = db.rows(
    `SELECT experiment_id, name, artifact_location, lifecycle_stage, ${schema.col('experiments', 'creation_time', 'e')}, ${schema.col('experiments', 'last_update_time', 'e')} FROM experiments e ORDER BY experiment_id`,
  );
  return rows.map(([id, name, location, stage, created, updated]) => ({
    experiment_id: String(id),
    name: String(name),
    artifact_location: str(location),
    lifecycle_stage: stage as LifecycleStage,
    creation_time: num(created),
    last_update_time: num(updated),
    tags: tags.get(String(id)) ?? [],
  }));
}

/** Every run of an experiment, active and deleted, a chunk at a time. */
export function* readRuns(db: SqlDb, schema: DbSchema, experimentId: string): Generator<SourceRun[]> {
  const rows = db.rows(
    'SELECT run_uuid, name, user_id, status, start_time, end_time, lifecycle_stage, artifact_uri, experiment_id FROM runs WHERE experiment_id = ? ORDER BY start_time DESC, run_uuid',
    [Number(experimentId)],
  );
  for (let i = 0; i < rows.length; i += RUN_CHUNK) {
    const chunk = rows.slice(i, i + RUN_CHUNK);
    const ids = chunk.map((r) => String(r[0]));
    const inList = `(${placeholders(ids.length)})`;
    const params = groupTags(db.rows(`SELECT run_uuid, key, value FROM params WHERE run_uuid IN ${inList}`, ids));
    const tags = groupTags(db.rows(`SELECT run_uuid, key, value FROM tags WHERE run_uuid IN ${inList}`, ids));
    const metrics = latestMetrics(db, schema, ids, inList);
    const inputs = schema.has('inputs') ? runInputs(db, schema, ids, inList) : undefined;
    yield chunk.map(([id, name, user, status, start, end, stage, artifactUri, expId]) => {
      const runId = String(id);
      const runTags = tags.get(runId) ?? [];
      const runName = str(name) || (runTags.find((t) => t.key === TAG_RUN_NAME)?.value ?? '');
      return {
        info: {
          run_id: runId,
          run_uuid: runId,
          run_name: runName,
          experiment_id: String(expId),
          user_id: str(user),
          status: status as RunStatus,
          start_time: start === null ? null : Number(start),
          end_time: end === null ? null : Number(end),
          artifact_uri: str(artifactUri),
          lifecycle_stage: stage as LifecycleStage,
        },
        data: { metrics: metrics.get(runId) ?? [], params: params.get(runId) ?? [], tags: runTags },
        inputs: { dataset_inputs: inputs?.datasets.get(runId) ?? [], model_inputs: inputs?.modelInputs.get(runId) ?? [] },
        outputs: { model_outputs: inputs?.modelOutputs.get(runId) ?? [] },
      };
    });
  }
}

function latestMetrics(db: SqlDb, schema: DbSchema, ids: string[], inList: string): Map<string, Metric[]> {
  // Databases from before latest_metrics existed: the latest is the highest (step, timestamp, value).
  const sql = schema.has('latest_metrics')
    ? `SELECT run_uuid, key, value, timestamp, step, is_nan FROM latest_metrics WHERE run_uuid IN ${inList}`
    : `SELECT run_uuid, key, value, timestamp, step, is_nan FROM (SELECT m.*, row_number() OVER (PARTITION BY run_uuid, key ORDER BY step DESC, timestamp DESC, value DESC) AS rn FROM metrics m WHERE run_uuid IN ${inList}) WHERE rn = 1`;
  const out = new Map<string, Metric[]>();
  for (const [runId, key, value, timestamp, step, isNan] of db.rows(sql, ids)) {
    push(out, String(runId), metric(key, value, timestamp, step, isNan));
  }
  return out;
}

interface RunInputs {
  datasets: Map<string, DatasetInput[]>;
  modelInputs: Map<string, { model_id: string }[]>;
  modelOutputs: Map<string, { model_id: string; step: number }[]>;
}

function runInputs(db: SqlDb, schema: DbSchema, ids: string[], inList: string): RunInputs {
  const datasets = new Map<string, DatasetInput[]>();
  if (schema.has('datasets')) {
    const rows = db.rows(
      `SELECT i.input_uuid, i.destination_id, d.dataset_uuid, d.name, d.digest, d.dataset_source_type, d.dataset_source, d.dataset_schema, d.dataset_profile
       FROM inputs i JOIN datasets d ON i.source_id = d.dataset_uuid
       WHERE i.destination_type = 'RUN' AND i.destination_id IN ${inList} ORDER BY i.destination_id`,
      ids,
    );
    const inputTags = schema.has('input_tags') && rows.length > 0
      ? groupTags(db.rows(`SELECT input_uuid, name, value FROM input_tags WHERE input_uuid IN (${placeholders(rows.length)})`, rows.map((r) => r[0]!)))
      : new Map<string, Tag[]>();
    // MLflow keys a run's inputs by dataset: two inputs of one dataset are one entry with both tag sets.
    const byRun = new Map<string, Map<string, DatasetInput>>();
    for (const [inputId, runId, datasetId, name, digest, sourceType, source, dsSchema, profile] of rows) {
      const perRun = byRun.get(String(runId)) ?? new Map<string, DatasetInput>();
      byRun.set(String(runId), perRun);
      let entry = perRun.get(String(datasetId));
      if (!entry) {
        entry = { tags: [], dataset: { name: str(name), digest: str(digest), source_type: str(sourceType), source: str(source) } };
        if (dsSchema !== null) entry.dataset.schema = String(dsSchema);
        if (profile !== null) entry.dataset.profile = String(profile);
        perRun.set(String(datasetId), entry);
      }
      entry.tags.push(...(inputTags.get(String(inputId)) ?? []));
    }
    for (const [runId, perRun] of byRun) datasets.set(runId, [...perRun.values()]);
  }
  const modelInputs = new Map<string, { model_id: string }[]>();
  const modelOutputs = new Map<string, { model_id: string; step: number }[]>();
  const step = schema.hasColumn('inputs', 'step') ? 'step' : '0';
  const models = db.rows(
    `SELECT source_type, source_id, destination_id, ${step} FROM inputs
     WHERE ((source_type = 'RUN_INPUT' AND destination_type = 'MODEL_INPUT') OR (source_type = 'RUN_OUTPUT' AND destination_type = 'MODEL_OUTPUT')) AND source_id IN ${inList}`,
    ids,
  );
  for (const [type, runId, modelId, s] of models) {
    if (type === 'RUN_INPUT') push(modelInputs, String(runId), { model_id: String(modelId) });
    else push(modelOutputs, String(runId), { model_id: String(modelId), step: num(s) });
  }
  return { datasets, modelInputs, modelOutputs };
}

/** The full history of every metric of a run, in batches. */
export function* readMetricHistory(db: SqlDb, runId: string): Generator<Metric[]> {
  const stmt = db.raw.prepare('SELECT key, value, timestamp, step, is_nan FROM metrics WHERE run_uuid = ?');
  try {
    stmt.bind([runId]);
    let batch: Metric[] = [];
    while (stmt.step()) {
      const [key, value, timestamp, step, isNan] = stmt.get();
      batch.push(metric(key, value, timestamp, step, isNan));
      if (batch.length >= HISTORY_BATCH) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  } finally {
    stmt.free();
  }
}

function metric(key: SqlValue | undefined, value: SqlValue | undefined, timestamp: SqlValue | undefined, step: SqlValue | undefined, isNan: SqlValue | undefined): Metric {
  return { key: String(key), value: isNan ? NaN : Number(value), timestamp: num(timestamp), step: num(step) };
}

export function groupTags(rows: SqlValue[][]): Map<string, Tag[]> {
  const out = new Map<string, Tag[]>();
  for (const [owner, key, value] of rows) push(out, String(owner), { key: String(key), value: str(value) });
  return out;
}

export function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

export function str(v: SqlValue | undefined): string {
  return v === null || v === undefined ? '' : String(v);
}

export function num(v: SqlValue | undefined): number {
  return v === null || v === undefined ? 0 : Number(v);
}
