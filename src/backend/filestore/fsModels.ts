/**
 * The file store's model registry (`<root>/models/<name>/`, `version-N/`, `aliases/`, `tags/`)
 * and MLflow 3 logged models (`<experiment>/models/<model_id>/`), as MLflow's FileStores read
 * them: versions marked `Deleted_Internal` and deleted logged models are gone.
 */
import * as path from 'node:path';
import type { LoggedModel, ModelMetric, ModelVersion } from '../../domain/modelTypes';
import type { SourceRegisteredModel } from '../api/source';
import { loggedModelStatus, STAGE_DELETED_INTERNAL } from '../transfer/storedEnums';
import { listDirs, optional, readKeyFiles, readLines, readMeta, yamlNum, yamlStr } from './fsFiles';
import { latestOf, parsePyFloat } from './fsTracking';

export function readRegisteredModels(registryRoot: string): SourceRegisteredModel[] {
  const out: SourceRegisteredModel[] = [];
  for (const dirName of listDirs(registryRoot)) {
    const dir = path.join(registryRoot, dirName);
    const meta = readMeta(dir);
    if (!meta || meta.name === undefined) continue;
    const name = yamlStr(meta.name);
    const aliases = readKeyFiles(path.join(dir, 'aliases')).map((a) => ({ alias: a.key, version: a.value.trim() })).sort((a, b) => (a.alias < b.alias ? -1 : 1));
    const model: SourceRegisteredModel['model'] = {
      name,
      creation_timestamp: yamlNum(meta.creation_timestamp),
      last_updated_timestamp: yamlNum(meta.last_updated_timestamp),
      tags: readKeyFiles(path.join(dir, 'tags')),
      aliases,
    };
    optional(model, 'description', meta.description);
    optional(model, 'user_id', meta.user_id);
    const versions: ModelVersion[] = [];
    for (const vName of listDirs(dir).filter((n) => /^version-\d+$/.test(n))) {
      const v = readMeta(path.join(dir, vName));
      if (!v || v.current_stage === STAGE_DELETED_INTERNAL) continue;
      const version = yamlStr(v.version);
      const mv: ModelVersion = {
        name,
        version,
        creation_timestamp: yamlNum(v.creation_timestamp),
        last_updated_timestamp: yamlNum(v.last_updated_timestamp),
        current_stage: yamlStr(v.current_stage),
        source: yamlStr(v.source),
        status: yamlStr(v.status) as ModelVersion['status'],
        tags: readKeyFiles(path.join(dir, vName, 'tags')),
        aliases: aliases.filter((a) => a.version === version).map((a) => a.alias),
      };
      for (const k of ['description', 'user_id', 'run_id', 'run_link', 'model_id'] as const) optional(mv, k, v[k]);
      versions.push(mv);
    }
    versions.sort((a, b) => Number(a.version) - Number(b.version));
    out.push({ model, versions });
  }
  return out;
}

export function readLoggedModels(experimentDir: string): LoggedModel[] {
  const out: LoggedModel[] = [];
  for (const id of listDirs(path.join(experimentDir, 'models'))) {
    const dir = path.join(experimentDir, 'models', id);
    const meta = readMeta(dir);
    if (!meta || meta.model_id === undefined || meta.lifecycle_stage === 'deleted') continue;
    const modelId = yamlStr(meta.model_id);
    const info: LoggedModel['info'] = {
      model_id: modelId,
      experiment_id: yamlStr(meta.experiment_id),
      name: yamlStr(meta.name),
      creation_timestamp_ms: yamlNum(meta.creation_timestamp),
      last_updated_timestamp_ms: yamlNum(meta.last_updated_timestamp),
      artifact_uri: yamlStr(meta.artifact_location),
      status: loggedModelStatus(yamlNum(meta.status)),
      tags: readKeyFiles(path.join(dir, 'tags')),
      registrations: [],
    };
    for (const k of ['model_type', 'source_run_id', 'status_message'] as const) optional(info, k, meta[k]);
    out.push({ info, data: { params: readKeyFiles(path.join(dir, 'params')), metrics: modelMetrics(dir, modelId) } });
  }
  return out.sort((a, b) => a.info.creation_timestamp_ms - b.info.creation_timestamp_ms);
}

/** Per metric and dataset, the latest value of lines `timestamp value step run_id [dataset digest]`. */
function modelMetrics(dir: string, modelId: string): ModelMetric[] {
  const out: ModelMetric[] = [];
  const metricsDir = path.join(dir, 'metrics');
  for (const { key } of readKeyFiles(metricsDir)) {
    const groups = new Map<string, ModelMetric[]>();
    for (const line of readLines(path.join(metricsDir, key))) {
      const parts = line.trim().split(' ');
      if (parts.length !== 4 && parts.length !== 6) throw new Error(`Metric '${key}' is malformed; persisted metric data contained ${parts.length} fields. Expected 4 or 6 fields.`);
      const m: ModelMetric = { key, timestamp: Number.parseInt(parts[0]!, 10), value: parsePyFloat(parts[1]!), step: Number.parseInt(parts[2]!, 10), run_id: parts[3]!, model_id: modelId };
      if (parts.length === 6) {
        m.dataset_name = parts[4]!;
        m.dataset_digest = parts[5]!;
      }
      const g = `${m.dataset_name ?? ''}\u0000${m.dataset_digest ?? ''}`;
      groups.set(g, [...(groups.get(g) ?? []), m]);
    }
    for (const group of groups.values()) {
      const latest = latestOf(group) as ModelMetric | undefined;
      if (latest) out.push(latest);
    }
  }
  return out;
}
