/** Experiments and runs (params, tags, metric histories, latest metrics, dataset and model inputs) as MLflow's rows. */
import { randomUUID } from 'node:crypto';
import type { Experiment, Metric } from '../../../domain/types';
import type { SourceRun } from '../../api/source';
import type { ArtifactPlan } from './artifactPlan';
import { latestMetrics, lifecycle, metricColumns } from './encode';
import type { RowWriter } from './mlflowDb';

const WORKSPACE = 'default';

export function writeExperiment(w: RowWriter, e: Experiment, plan: ArtifactPlan): void {
  w.insert('experiments', {
    experiment_id: Number(e.experiment_id),
    name: e.name,
    artifact_location: plan.experimentLocation(e.experiment_id, e.artifact_location),
    lifecycle_stage: lifecycle(e.lifecycle_stage),
    creation_time: e.creation_time,
    last_update_time: e.last_update_time,
    workspace: WORKSPACE,
  });
  for (const t of e.tags) w.insert('experiment_tags', { key: t.key, value: t.value, experiment_id: Number(e.experiment_id) });
}

/** Datasets are per experiment in MLflow (keyed by name and digest); runs share one row. */
export class DatasetIds {
  private readonly ids = new Map<string, string>();

  uuidFor(w: RowWriter, experimentId: number, d: SourceRun['inputs']['dataset_inputs'][number]['dataset']): string {
    const key = JSON.stringify([experimentId, d.name, d.digest]);
    let id = this.ids.get(key);
    if (id === undefined) {
      id = randomUUID().replace(/-/g, '');
      this.ids.set(key, id);
      w.insert('datasets', {
        dataset_uuid: id,
        experiment_id: experimentId,
        name: d.name,
        digest: d.digest,
        dataset_source_type: d.source_type,
        dataset_source: d.source,
        dataset_schema: d.schema ?? null,
        dataset_profile: d.profile ?? null,
      });
    }
    return id;
  }
}

function hexId(): string {
  return randomUUID().replace(/-/g, '');
}

/** Writes one run with its full history; returns how many metric points went in (exact duplicates fold into one, as MLflow's key does). */
export function writeRun(w: RowWriter, run: SourceRun, artifactUri: string, history: Metric[], datasets: DatasetIds): number {
  const info = run.info;
  const runId = info.run_id;
  const experimentId = Number(info.experiment_id);
  w.insert('runs', {
    run_uuid: runId,
    name: info.run_name,
    source_type: 'UNKNOWN',
    source_name: '',
    entry_point_name: '',
    user_id: info.user_id,
    status: info.status,
    start_time: info.start_time,
    end_time: info.end_time,
    source_version: '',
    lifecycle_stage: lifecycle(info.lifecycle_stage),
    artifact_uri: artifactUri,
    experiment_id: experimentId,
    // MLflow stamps this when a run is deleted; the source does not say when, and a time we
    // invented would make `mlflow gc --older-than` collect runs on our say-so.
    deleted_time: null,
  });
  for (const p of run.data.params) w.insert('params', { key: p.key, value: p.value, run_uuid: runId });
  for (const t of run.data.tags) w.insert('tags', { key: t.key, value: t.value, run_uuid: runId });

  let points = 0;
  for (const m of history) {
    const { value, isNan } = metricColumns(m.value);
    if (w.insert('metrics', { key: m.key, value, timestamp: m.timestamp, run_uuid: runId, step: m.step, is_nan: isNan }, true)) points++;
  }
  // The history decides the latest value, as MLflow's store does on each write; a key the
  // source lists without any history point still keeps the value it reported.
  const latest = latestMetrics(history);
  for (const m of run.data.metrics) if (!latest.has(m.key)) latest.set(m.key, m);
  for (const m of latest.values()) {
    const { value, isNan } = metricColumns(m.value);
    w.insert('latest_metrics', { key: m.key, value, timestamp: m.timestamp, step: m.step, is_nan: isNan, run_uuid: runId });
  }

  for (const input of run.inputs.dataset_inputs) {
    const inputUuid = hexId();
    const datasetUuid = datasets.uuidFor(w, experimentId, input.dataset);
    w.insert('inputs', { input_uuid: inputUuid, source_type: 'DATASET', source_id: datasetUuid, destination_type: 'RUN', destination_id: runId }, true);
    for (const t of input.tags) w.insert('input_tags', { input_uuid: inputUuid, name: t.key, value: t.value }, true);
  }
  for (const m of run.inputs.model_inputs) {
    w.insert('inputs', { input_uuid: hexId(), source_type: 'RUN_INPUT', source_id: runId, destination_type: 'MODEL_INPUT', destination_id: m.model_id }, true);
  }
  for (const m of run.outputs.model_outputs) {
    w.insert('inputs', { input_uuid: hexId(), source_type: 'RUN_OUTPUT', source_id: runId, destination_type: 'MODEL_OUTPUT', destination_id: m.model_id, step: m.step }, true);
  }
  return points;
}
