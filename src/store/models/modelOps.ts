/**
 * Journaled mutations of logged models (MLflow 3) and the model registry. Like ops.ts: each op
 * carries every value it needs (ids, times, version numbers), callers validate first, and
 * applying never fails half-way (it runs inside the caller's savepoint).
 */
import { MODEL_VERSIONS_TAG } from './modelVersionsTag';
import type { KV } from '../opTypes';
import type { SqlDb } from '../sqlite';

/** [modelId, key, value ('NaN' for NaN), timestamp, step, runId, datasetName, datasetDigest] */
export type JournalModelMetric = [string, string, number | string, number, number, string | null, string | null, string | null];

export type ModelOp =
  | {
      t: 'lm.create';
      id: string;
      exp: number;
      name: string;
      artifactLocation: string;
      time: number;
      modelType: string | null;
      sourceRunId: string | null;
      params: KV[];
      tags: KV[];
    }
  | { t: 'lm.status'; id: string; status: string; time: number }
  | { t: 'lm.delete'; id: string; time: number }
  | { t: 'lm.setTags'; id: string; tags: KV[]; time: number }
  | { t: 'lm.deleteTag'; id: string; key: string; time: number }
  | { t: 'lm.params'; id: string; params: KV[]; time: number }
  | { t: 'lm.metrics'; metrics: JournalModelMetric[] }
  | { t: 'run.outputs'; uuid: string; models: [modelId: string, step: number][] }
  | { t: 'rm.create'; name: string; time: number; description: string | null; userId: string | null; tags: KV[] }
  | { t: 'rm.rename'; name: string; newName: string; time: number }
  | { t: 'rm.update'; name: string; description: string; time: number }
  | { t: 'rm.delete'; name: string }
  | { t: 'rm.setTag'; name: string; key: string; value: string }
  | { t: 'rm.deleteTag'; name: string; key: string }
  | { t: 'rm.setAlias'; name: string; alias: string; version: number; time: number }
  | { t: 'rm.deleteAlias'; name: string; alias: string; time: number }
  | {
      t: 'mv.create';
      name: string;
      version: number;
      time: number;
      description: string | null;
      userId: string | null;
      source: string;
      runId: string | null;
      runLink: string | null;
      storageLocation: string | null;
      modelId: string | null;
      tags: KV[];
      /** New value of the logged model's `mlflow.modelVersions` tag (absent in older journals). */
      modelVersionsTag?: string;
    }
  | { t: 'mv.update'; name: string; version: number; description: string; time: number }
  | { t: 'mv.stage'; name: string; version: number; stage: string; time: number; archive: number[] }
  | { t: 'mv.delete'; name: string; version: number; time: number }
  | { t: 'mv.setTag'; name: string; version: number; key: string; value: string }
  | { t: 'mv.deleteTag'; name: string; version: number; key: string };

/** Stage that marks a deleted version: hidden everywhere, its number never reused. */
export const DELETED_STAGE = 'Deleted_Internal';

export function applyModelOp(db: SqlDb, op: ModelOp): void {
  switch (op.t) {
    case 'lm.create':
      db.run(
        `INSERT INTO logged_models (model_id, experiment_id, name, artifact_location, creation_time, last_updated_time, status, lifecycle_stage, model_type, source_run_id)
         VALUES (?, ?, ?, ?, ?, ?, 'LOGGED_MODEL_PENDING', 'active', ?, ?)`,
        [op.id, op.exp, op.name, op.artifactLocation, op.time, op.time, op.modelType, op.sourceRunId],
      );
      for (const [k, v] of op.params) db.run('INSERT OR REPLACE INTO logged_model_params VALUES (?, ?, ?)', [op.id, k, v]);
      for (const [k, v] of op.tags) db.run('INSERT OR REPLACE INTO logged_model_tags VALUES (?, ?, ?)', [op.id, k, v]);
      return;
    case 'lm.status':
      db.run('UPDATE logged_models SET status = ?, last_updated_time = ? WHERE model_id = ?', [op.status, op.time, op.id]);
      return;
    case 'lm.delete':
      db.run("UPDATE logged_models SET lifecycle_stage = 'deleted', last_updated_time = ? WHERE model_id = ?", [op.time, op.id]);
      return;
    case 'lm.setTags':
      for (const [k, v] of op.tags) db.run('INSERT OR REPLACE INTO logged_model_tags VALUES (?, ?, ?)', [op.id, k, v]);
      db.run('UPDATE logged_models SET last_updated_time = ? WHERE model_id = ?', [op.time, op.id]);
      return;
    case 'lm.deleteTag':
      db.run('DELETE FROM logged_model_tags WHERE model_id = ? AND key = ?', [op.id, op.key]);
      db.run('UPDATE logged_models SET last_updated_time = ? WHERE model_id = ?', [op.time, op.id]);
      return;
    case 'lm.params':
      for (const [k, v] of op.params) db.run('INSERT OR REPLACE INTO logged_model_params VALUES (?, ?, ?)', [op.id, k, v]);
      db.run('UPDATE logged_models SET last_updated_time = ? WHERE model_id = ?', [op.time, op.id]);
      return;
    case 'lm.metrics':
      for (const [id, key, value, ts, step, runId, dsName, dsDigest] of op.metrics) {
        const isNan = value === 'NaN' ? 1 : 0;
        db.run('INSERT INTO logged_model_metrics VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', [id, key, isNan ? null : Number(value), isNan, ts, step, runId, dsName, dsDigest]);
      }
      return;
    case 'run.outputs':
      for (const [modelId, step] of op.models) {
        db.run('INSERT OR REPLACE INTO run_model_outputs (run, model_id, step) VALUES ((SELECT id FROM runs WHERE run_uuid = ?), ?, ?)', [op.uuid, modelId, step]);
      }
      return;
    case 'rm.create':
      db.run('INSERT INTO registered_models (name, creation_time, last_updated_time, description, user_id, next_version) VALUES (?, ?, ?, ?, ?, 1)', [
        op.name,
        op.time,
        op.time,
        op.description,
        op.userId,
      ]);
      for (const [k, v] of op.tags) db.run('INSERT OR REPLACE INTO registered_model_tags VALUES (?, ?, ?)', [op.name, k, v]);
      return;
    case 'rm.rename':
      for (const table of ['registered_model_tags', 'registered_model_aliases', 'model_versions', 'model_version_tags']) {
        db.run(`UPDATE ${table} SET name = ? WHERE name = ?`, [op.newName, op.name]);
      }
      db.run('UPDATE model_versions SET last_updated_time = ? WHERE name = ?', [op.time, op.newName]);
      db.run('UPDATE registered_models SET name = ?, last_updated_time = ? WHERE name = ?', [op.newName, op.time, op.name]);
      return;
    case 'rm.update':
      db.run('UPDATE registered_models SET description = ?, last_updated_time = ? WHERE name = ?', [op.description, op.time, op.name]);
      return;
    case 'rm.delete':
      for (const table of ['registered_model_tags', 'registered_model_aliases', 'model_versions', 'model_version_tags', 'registered_models']) {
        db.run(`DELETE FROM ${table} WHERE name = ?`, [op.name]);
      }
      return;
    case 'rm.setTag':
      db.run('INSERT OR REPLACE INTO registered_model_tags VALUES (?, ?, ?)', [op.name, op.key, op.value]);
      return;
    case 'rm.deleteTag':
      db.run('DELETE FROM registered_model_tags WHERE name = ? AND key = ?', [op.name, op.key]);
      return;
    case 'rm.setAlias':
      db.run('INSERT OR REPLACE INTO registered_model_aliases VALUES (?, ?, ?)', [op.name, op.alias, op.version]);
      db.run('UPDATE registered_models SET last_updated_time = ? WHERE name = ?', [op.time, op.name]);
      return;
    case 'rm.deleteAlias':
      db.run('DELETE FROM registered_model_aliases WHERE name = ? AND alias = ?', [op.name, op.alias]);
      db.run('UPDATE registered_models SET last_updated_time = ? WHERE name = ?', [op.time, op.name]);
      return;
    case 'mv.create':
      db.run(
        `INSERT INTO model_versions (name, version, creation_time, last_updated_time, description, user_id, current_stage, source, run_id, run_link, storage_location, model_id)
         VALUES (?, ?, ?, ?, ?, ?, 'None', ?, ?, ?, ?, ?)`,
        [op.name, op.version, op.time, op.time, op.description, op.userId, op.source, op.runId, op.runLink, op.storageLocation, op.modelId],
      );
      for (const [k, v] of op.tags) db.run('INSERT OR REPLACE INTO model_version_tags VALUES (?, ?, ?, ?)', [op.name, op.version, k, v]);
      if (op.modelId && op.modelVersionsTag !== undefined) {
        db.run('INSERT OR REPLACE INTO logged_model_tags VALUES (?, ?, ?)', [op.modelId, MODEL_VERSIONS_TAG, op.modelVersionsTag]);
      }
      db.run('UPDATE registered_models SET next_version = ?, last_updated_time = ? WHERE name = ?', [op.version + 1, op.time, op.name]);
      return;
    case 'mv.update':
      db.run('UPDATE model_versions SET description = ?, last_updated_time = ? WHERE name = ? AND version = ?', [op.description, op.time, op.name, op.version]);
      return;
    case 'mv.stage':
      for (const v of op.archive) {
        db.run("UPDATE model_versions SET current_stage = 'Archived', last_updated_time = ? WHERE name = ? AND version = ?", [op.time, op.name, v]);
      }
      db.run('UPDATE model_versions SET current_stage = ?, last_updated_time = ? WHERE name = ? AND version = ?', [op.stage, op.time, op.name, op.version]);
      db.run('UPDATE registered_models SET last_updated_time = ? WHERE name = ?', [op.time, op.name]);
      return;
    case 'mv.delete':
      db.run('UPDATE model_versions SET current_stage = ?, description = NULL, last_updated_time = ? WHERE name = ? AND version = ?', [
        DELETED_STAGE,
        op.time,
        op.name,
        op.version,
      ]);
      db.run('DELETE FROM model_version_tags WHERE name = ? AND version = ?', [op.name, op.version]);
      db.run('DELETE FROM registered_model_aliases WHERE name = ? AND version = ?', [op.name, op.version]);
      db.run('UPDATE registered_models SET last_updated_time = ? WHERE name = ?', [op.time, op.name]);
      return;
    case 'mv.setTag':
      db.run('INSERT OR REPLACE INTO model_version_tags VALUES (?, ?, ?, ?)', [op.name, op.version, op.key, op.value]);
      return;
    case 'mv.deleteTag':
      db.run('DELETE FROM model_version_tags WHERE name = ? AND version = ? AND key = ?', [op.name, op.version, op.key]);
      return;
  }
}
