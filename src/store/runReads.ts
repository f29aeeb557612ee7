/** Read-side queries: hydrate runs and experiments from sql.js rows into proto-shaped entities. */
import type { SqlDb } from './sqlite';
import type { DatasetInput, Experiment, LifecycleStage, Metric, Run, RunStatus, Tag } from '../domain/types';

const CHUNK = 500;

function chunks<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

function placeholders(n: number): string {
  return new Array<string>(n).fill('?').join(', ');
}

interface RunRow {
  id: number;
  run_uuid: string;
  experiment_id: number;
  name: string;
  user_id: string;
  status: RunStatus;
  start_time: number | null;
  end_time: number | null;
  lifecycle_stage: LifecycleStage;
  artifact_uri: string;
}

function group<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Full runs (info, latest metrics, params, tags, inputs) in the order of `ids`. */
export function loadRuns(db: SqlDb, ids: number[]): Run[] {
  const rows = new Map<number, RunRow>();
  const params = new Map<number, Tag[]>();
  const tags = new Map<number, Tag[]>();
  const metrics = new Map<number, Metric[]>();
  const inputs = new Map<number, Map<number, DatasetInput>>();
  const models = new Map<number, { model_id: string }[]>();
  const outputs = new Map<number, { model_id: string; step: number }[]>();
  for (const part of chunks(ids)) {
    const ph = placeholders(part.length);
    // Positional rows: building an object per row costs more than the query at 1000 runs.
    for (const [id, runUuid, experimentId, name, userId, status, startTime, endTime, stage, artifactUri] of db.rows(
      `SELECT id, run_uuid, experiment_id, name, user_id, status, start_time, end_time, lifecycle_stage, artifact_uri FROM runs WHERE id IN (${ph})`,
      part,
    )) {
      rows.set(id as number, {
        id: id as number,
        run_uuid: runUuid as string,
        experiment_id: experimentId as number,
        name: name as string,
        user_id: userId as string,
        status: status as RunStatus,
        start_time: startTime as number | null,
        end_time: endTime as number | null,
        lifecycle_stage: stage as LifecycleStage,
        artifact_uri: artifactUri as string,
      });
    }
    for (const [run, key, value] of db.rows(`SELECT run, key, value FROM params WHERE run IN (${ph})`, part)) {
      group(params, run as number, { key: key as string, value: value as string });
    }
    for (const [run, key, value] of db.rows(`SELECT run, key, value FROM tags WHERE run IN (${ph})`, part)) {
      group(tags, run as number, { key: key as string, value: value as string });
    }
    for (const [run, key, value, timestamp, step, isNan] of db.rows(
      `SELECT run, key, value, timestamp, step, is_nan FROM latest_metrics WHERE run IN (${ph})`,
      part,
    )) {
      group(metrics, run as number, {
        key: key as string,
        value: isNan ? NaN : (value as number),
        timestamp: timestamp as number,
        step: step as number,
      });
    }
    for (const row of db.all<{ run: number; dataset: number; name: string; digest: string; source_type: string; source: string; schema: string | null; profile: string | null }>(
      `SELECT ri.run, ri.dataset, d.name, d.digest, d.source_type, d.source, d.schema, d.profile
         FROM run_inputs ri JOIN datasets d ON d.id = ri.dataset WHERE ri.run IN (${ph})`,
      part,
    )) {
      let byDataset = inputs.get(row.run);
      if (!byDataset) inputs.set(row.run, (byDataset = new Map()));
      const dataset: DatasetInput['dataset'] = { name: row.name, digest: row.digest, source_type: row.source_type, source: row.source };
      if (row.schema !== null) dataset.schema = row.schema;
      if (row.profile !== null) dataset.profile = row.profile;
      byDataset.set(row.dataset, { tags: [], dataset });
    }
    for (const [run, dataset, key, value] of db.rows(`SELECT run, dataset, key, value FROM run_input_tags WHERE run IN (${ph})`, part)) {
      inputs
        .get(run as number)
        ?.get(dataset as number)
        ?.tags.push({ key: key as string, value: value as string });
    }
    for (const [run, modelId] of db.rows(`SELECT run, model_id FROM run_model_inputs WHERE run IN (${ph})`, part)) {
      group(models, run as number, { model_id: modelId as string });
    }
    for (const [run, modelId, step] of db.rows(`SELECT run, model_id, step FROM run_model_outputs WHERE run IN (${ph})`, part)) {
      group(outputs, run as number, { model_id: modelId as string, step: step as number });
    }
  }
  const runs: Run[] = [];
  for (const id of ids) {
    const r = rows.get(id);
    if (!r) continue;
    runs.push({
      info: {
        run_id: r.run_uuid,
        run_uuid: r.run_uuid,
        run_name: r.name,
        experiment_id: String(r.experiment_id),
        user_id: r.user_id,
        status: r.status,
        start_time: r.start_time,
        end_time: r.end_time,
        artifact_uri: r.artifact_uri,
        lifecycle_stage: r.lifecycle_stage,
      },
      data: { metrics: metrics.get(id) ?? [], params: params.get(id) ?? [], tags: tags.get(id) ?? [] },
      inputs: { dataset_inputs: [...(inputs.get(id)?.values() ?? [])], model_inputs: models.get(id) ?? [] },
      outputs: { model_outputs: outputs.get(id) ?? [] },
    });
  }
  return runs;
}

interface ExperimentRow {
  experiment_id: number;
  name: string;
  artifact_location: string;
  lifecycle_stage: LifecycleStage;
  creation_time: number;
  last_update_time: number;
}

/** Experiments with tags, in the order of `ids`. */
export function loadExperiments(db: SqlDb, ids: number[]): Experiment[] {
  const rows = new Map<number, ExperimentRow>();
  const tags = new Map<number, Tag[]>();
  for (const part of chunks(ids)) {
    const ph = placeholders(part.length);
    for (const r of db.all<ExperimentRow>(`SELECT * FROM experiments WHERE experiment_id IN (${ph})`, part)) rows.set(r.experiment_id, r);
    for (const [id, key, value] of db.rows(`SELECT experiment_id, key, value FROM experiment_tags WHERE experiment_id IN (${ph})`, part)) {
      group(tags, id as number, { key: key as string, value: value as string });
    }
  }
  return ids.flatMap((id) => {
    const r = rows.get(id);
    if (!r) return [];
    return [
      {
        experiment_id: String(r.experiment_id),
        name: r.name,
        artifact_location: r.artifact_location,
        lifecycle_stage: r.lifecycle_stage,
        creation_time: r.creation_time,
        last_update_time: r.last_update_time,
        tags: tags.get(id) ?? [],
      },
    ];
  });
}
