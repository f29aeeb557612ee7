/**
 * The model registry and MLflow 3 logged models of an `mlflow.db`, as MLflow's SQL stores return
 * them: versions deleted internally (`Deleted_Internal`) are gone, aliases come from their own
 * table, a logged model's status is the integer MLflow stores.
 */
import type { SqlDb } from '../../store/sqlite';
import { placeholders } from '../../store/sqlite';
import type { Tag } from '../../domain/types';
import type { LoggedModel, ModelMetric, ModelVersion } from '../../domain/modelTypes';
import type { SourceRegisteredModel } from '../api/source';
import { loggedModelStatus, STAGE_DELETED_INTERNAL } from '../transfer/storedEnums';
import type { DbSchema } from './dbSchema';
import { groupTags, num, push, str } from './dbTracking';

export function readRegisteredModels(db: SqlDb, schema: DbSchema): SourceRegisteredModel[] {
  if (!schema.has('registered_models')) return [];
  const modelTags = schema.has('registered_model_tags') ? groupTags(db.rows('SELECT name, key, value FROM registered_model_tags')) : new Map<string, Tag[]>();
  const aliases = new Map<string, { alias: string; version: string }[]>();
  if (schema.has('registered_model_aliases')) {
    for (const [name, alias, version] of db.rows('SELECT name, alias, version FROM registered_model_aliases ORDER BY alias')) {
      push(aliases, String(name), { alias: String(alias), version: String(version) });
    }
  }
  const versionTags = new Map<string, Tag[]>();
  if (schema.has('model_version_tags')) {
    for (const [name, version, key, value] of db.rows('SELECT name, version, key, value FROM model_version_tags')) {
      push(versionTags, `${String(name)}\u0000${String(version)}`, { key: String(key), value: str(value) });
    }
  }
  const versions = new Map<string, ModelVersion[]>();
  if (schema.has('model_versions')) {
    const rows = db.rows(
      `SELECT name, version, creation_time, last_updated_time, description, user_id, current_stage, source, run_id, status, run_link FROM model_versions
       WHERE current_stage IS NULL OR current_stage != ? ORDER BY name, version`,
      [STAGE_DELETED_INTERNAL],
    );
    for (const [name, version, created, updated, description, user, stage, source, runId, status, runLink] of rows) {
      const n = String(name);
      const v = String(version);
      const mv: ModelVersion = {
        name: n,
        version: v,
        creation_timestamp: num(created),
        last_updated_timestamp: num(updated),
        current_stage: str(stage),
        source: str(source),
        status: str(status) as ModelVersion['status'],
        tags: versionTags.get(`${n}\u0000${v}`) ?? [],
        aliases: (aliases.get(n) ?? []).filter((a) => a.version === v).map((a) => a.alias),
      };
      if (description !== null) mv.description = String(description);
      if (user !== null) mv.user_id = String(user);
      if (runId !== null) mv.run_id = String(runId);
      if (runLink !== null) mv.run_link = String(runLink);
      push(versions, n, mv);
    }
  }
  return db.rows('SELECT name, creation_time, last_updated_time, description FROM registered_models ORDER BY name').map(([name, created, updated, description]) => {
    const n = String(name);
    const model: SourceRegisteredModel['model'] = {
      name: n,
      creation_timestamp: num(created),
      last_updated_timestamp: num(updated),
      tags: modelTags.get(n) ?? [],
      aliases: aliases.get(n) ?? [],
    };
    if (description !== null) model.description = String(description);
    return { model, versions: versions.get(n) ?? [] };
  });
}

/** An experiment's logged models; deleted ones are left out, as every MLflow read leaves them out. */
export function readLoggedModels(db: SqlDb, schema: DbSchema, experimentId: string): LoggedModel[] {
  if (!schema.has('logged_models')) return [];
  const rows = db.rows(
    `SELECT model_id, experiment_id, name, artifact_location, creation_timestamp_ms, last_updated_timestamp_ms, status, model_type, source_run_id, status_message
     FROM logged_models WHERE experiment_id = ? ${schema.hasColumn('logged_models', 'lifecycle_stage') ? "AND lifecycle_stage != 'deleted'" : ''} ORDER BY creation_timestamp_ms, model_id`,
    [Number(experimentId)],
  );
  if (rows.length === 0) return [];
  const ids = rows.map((r) => String(r[0]));
  const inList = `(${placeholders(ids.length)})`;
  const tags = schema.has('logged_model_tags') ? groupTags(db.rows(`SELECT model_id, tag_key, tag_value FROM logged_model_tags WHERE model_id IN ${inList}`, ids)) : new Map<string, Tag[]>();
  const params = schema.has('logged_model_params') ? groupTags(db.rows(`SELECT model_id, param_key, param_value FROM logged_model_params WHERE model_id IN ${inList}`, ids)) : new Map<string, Tag[]>();
  const metrics = new Map<string, ModelMetric[]>();
  if (schema.has('logged_model_metrics')) {
    const mrows = db.rows(
      `SELECT model_id, metric_name, metric_timestamp_ms, metric_step, metric_value, run_id, dataset_name, dataset_digest FROM logged_model_metrics WHERE model_id IN ${inList}`,
      ids,
    );
    for (const [modelId, key, ts, step, value, runId, dsName, dsDigest] of mrows) {
      const m: ModelMetric = { key: String(key), value: value === null ? NaN : Number(value), timestamp: num(ts), step: num(step), model_id: String(modelId) };
      if (runId !== null) m.run_id = String(runId);
      if (dsName !== null) m.dataset_name = String(dsName);
      if (dsDigest !== null) m.dataset_digest = String(dsDigest);
      push(metrics, String(modelId), m);
    }
  }
  return rows.map(([id, expId, name, location, created, updated, status, type, runId, message]) => {
    const modelId = String(id);
    const info: LoggedModel['info'] = {
      model_id: modelId,
      experiment_id: String(expId),
      name: str(name),
      creation_timestamp_ms: num(created),
      last_updated_timestamp_ms: num(updated),
      artifact_uri: str(location),
      status: loggedModelStatus(num(status)),
      tags: tags.get(modelId) ?? [],
      // MLflow's stores keep no registrations on a logged model; versions name the model instead.
      registrations: [],
    };
    if (type !== null) info.model_type = String(type);
    if (runId !== null) info.source_run_id = String(runId);
    if (message !== null) info.status_message = String(message);
    return { info, data: { params: params.get(modelId) ?? [], metrics: metrics.get(modelId) ?? [] } };
  });
}
