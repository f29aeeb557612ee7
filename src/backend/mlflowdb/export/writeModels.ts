/** Logged models (MLflow 3) and the model registry as MLflow's rows. */
import type { LoggedModel } from '../../../domain/modelTypes';
import type { SourceRegisteredModel } from '../../api/source';
import type { ArtifactPlan } from './artifactPlan';
import { loggedModelStatusInt, metricColumns, stageName } from './encode';
import type { RowWriter } from './mlflowDb';

const WORKSPACE = 'default';

/** Writes a logged model; returns notes on what MLflow's tables cannot hold. */
export function writeLoggedModel(w: RowWriter, m: LoggedModel, artifactUri: string): string[] {
  const skipped: string[] = [];
  const info = m.info;
  const experimentId = Number(info.experiment_id);
  w.insert('logged_models', {
    model_id: info.model_id,
    experiment_id: experimentId,
    name: info.name,
    artifact_location: artifactUri,
    creation_timestamp_ms: info.creation_timestamp_ms,
    last_updated_timestamp_ms: info.last_updated_timestamp_ms,
    status: loggedModelStatusInt(info.status),
    lifecycle_stage: 'active',
    model_type: info.model_type ?? null,
    source_run_id: info.source_run_id ?? null,
    status_message: info.status_message ?? null,
  });
  for (const p of m.data.params) w.insert('logged_model_params', { model_id: info.model_id, experiment_id: experimentId, param_key: p.key, param_value: p.value });
  for (const t of info.tags) w.insert('logged_model_tags', { model_id: info.model_id, experiment_id: experimentId, tag_key: t.key, tag_value: t.value });
  for (const x of m.data.metrics) {
    // A model metric always names its run in MLflow's key; one logged outside a run has none to name.
    const runId = x.run_id ?? info.source_run_id;
    if (!runId) {
      skipped.push(`logged model ${info.model_id}: metric ${x.key} names no run`);
      continue;
    }
    // `metric_value` has no is_nan companion: SQLite stores NaN as NULL, which MLflow's reader
    // rejects (search_logged_models fails with a 500), so a NaN point cannot be exported.
    if (Number.isNaN(x.value)) {
      skipped.push(`logged model ${info.model_id}: NaN value of metric ${x.key} at step ${x.step} (MLflow's logged_model_metrics cannot hold NaN)`);
      continue;
    }
    w.insert(
      'logged_model_metrics',
      {
        model_id: info.model_id,
        metric_name: x.key,
        metric_timestamp_ms: x.timestamp,
        metric_step: x.step,
        metric_value: metricColumns(x.value).value,
        experiment_id: experimentId,
        run_id: runId,
        dataset_uuid: null,
        dataset_name: x.dataset_name ?? null,
        dataset_digest: x.dataset_digest ?? null,
      },
      true,
    );
  }
  return skipped;
}

/** `storage_location` is where MLflow downloads a version from: the logged model's artifacts for a `models:/m-…` source. */
function storageLocation(source: string, modelUris: Map<string, string>, plan: ArtifactPlan): string | null {
  const logged = /^models:\/(m-[0-9a-f]+)\/?$/.exec(source)?.[1];
  if (logged !== undefined) return modelUris.get(logged) ?? null;
  // `models:/<name>/<version>`: MLflow resolves that other version when asked; null falls back to the source.
  if (source.startsWith('models:/')) return null;
  return plan.rebase(source);
}

export function writeRegisteredModel(w: RowWriter, rm: SourceRegisteredModel, modelUris: Map<string, string>, plan: ArtifactPlan): number {
  const { model, versions } = rm;
  w.insert('registered_models', {
    name: model.name,
    creation_time: model.creation_timestamp,
    last_updated_time: model.last_updated_timestamp,
    description: model.description ?? null,
    workspace: WORKSPACE,
  });
  for (const t of model.tags) w.insert('registered_model_tags', { key: t.key, value: t.value, name: model.name, workspace: WORKSPACE });
  for (const v of versions) {
    w.insert('model_versions', {
      name: model.name,
      version: Number(v.version),
      creation_time: v.creation_timestamp,
      last_updated_time: v.last_updated_timestamp,
      description: v.description ?? null,
      user_id: v.user_id ?? null,
      current_stage: stageName(v.current_stage),
      source: plan.rebase(v.source),
      run_id: v.run_id ?? null,
      status: v.status ?? 'READY',
      status_message: null,
      run_link: v.run_link ?? null,
      storage_location: storageLocation(v.source, modelUris, plan),
      workspace: WORKSPACE,
    });
    for (const t of v.tags) w.insert('model_version_tags', { key: t.key, value: t.value, name: model.name, version: Number(v.version), workspace: WORKSPACE });
  }
  for (const a of model.aliases) w.insert('registered_model_aliases', { alias: a.alias, version: Number(a.version), name: model.name, workspace: WORKSPACE });
  return versions.length;
}
