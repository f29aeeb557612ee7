/**
 * The model registry: registered models with tags and aliases; numbered versions with stages,
 * tags and a source (a `runs:/` URI, a logged model, or a plain artifact URI). Semantics and
 * messages follow MLflow's SQL registry store: versions count up per model and are never
 * reused; deleting a version hides it (and drops its aliases); deleting a model removes it.
 */
import * as path from 'node:path';
import { alreadyExists, doesNotExist, invalidParameter } from '../../domain/errors';
import type { KV } from '../opTypes';
import { compileEntityFilter, compileEntityOrder, NUMERIC_OPS, STRING_OPS, tagSets, type EntitySearchSpec } from '../search/entitySearch';
import { decodePageToken, pageFromLookahead } from '../search/pageToken';
import type { Params } from '../sqlite';
import type { CreateModelVersionRequest, ModelRegistryStore, RegistrySearchRequest } from '../../backend/api/registry';
import type { StoreCore } from '../storeCore';
import type { Page, Tag } from '../../domain/types';
import { DELETED_STAGE } from './modelOps';
import { MODEL_VERSIONS_TAG, withModelVersion } from './modelVersionsTag';
import { loggedModelIdIn, validateVersionSource } from './versionSource';
import { STAGES, type ModelVersion, type RegisteredModel, type Stage } from '../../domain/modelTypes';

interface VersionRow {
  name: string;
  version: number;
  creation_time: number;
  last_updated_time: number;
  description: string | null;
  user_id: string | null;
  current_stage: string;
  source: string;
  run_id: string | null;
  run_link: string | null;
  storage_location: string | null;
  model_id: string | null;
}

interface ModelRow {
  name: string;
  creation_time: number;
  last_updated_time: number;
  description: string | null;
  user_id: string | null;
  next_version: number;
}

export const REGISTERED_MODEL_SEARCH: EntitySearchSpec = {
  what: 'registered models',
  attributes: { name: { column: 'rm.name', comparators: STRING_OPS } },
  keyValues: tagSets('registered_model_tags', 'kv.name = rm.name'),
};
export const REGISTERED_MODEL_ORDER: Record<string, string> = {
  name: 'rm.name',
  timestamp: 'rm.last_updated_time',
  last_updated_timestamp: 'rm.last_updated_time',
  creation_timestamp: 'rm.creation_time',
};

export const VERSION_SEARCH: EntitySearchSpec = {
  what: 'model versions',
  attributes: {
    name: { column: 'mv.name', comparators: [...STRING_OPS, 'IN'] },
    run_id: { column: 'mv.run_id', comparators: ['=', '!=', 'IN', 'NOT IN'] },
    source_path: { column: 'mv.source', comparators: STRING_OPS },
    version_number: { column: 'mv.version', numeric: true, comparators: NUMERIC_OPS },
  },
  keyValues: tagSets('model_version_tags', 'kv.name = mv.name AND kv.version = mv.version'),
};
export const VERSION_ORDER: Record<string, string> = {
  name: 'mv.name',
  version_number: 'mv.version',
  creation_timestamp: 'mv.creation_time',
  last_updated_timestamp: 'mv.last_updated_time',
  timestamp: 'mv.last_updated_time',
};

const MAX_NAME = 256;

export function canonicalStage(stage: string): Stage {
  const found = STAGES.find((s) => s.toLowerCase() === stage.toLowerCase());
  if (!found) throw invalidParameter(`Invalid Model Version stage: ${stage}. Value must be one of ${STAGES.join(', ')}.`);
  return found;
}


function validateName(name: string | undefined, what = 'name'): string {
  if (!name) throw invalidParameter(`Missing value for required parameter '${what}'.`);
  if (name.length > MAX_NAME) throw invalidParameter(`Registered model name '${name.slice(0, 40)}…' exceeds the maximum length of ${MAX_NAME}.`);
  if (name.includes('/')) throw invalidParameter(`Invalid name '${name}': registered model names cannot contain '/'.`);
  return name;
}

function validateAlias(alias: string): void {
  if (!alias) throw invalidParameter("Missing value for required parameter 'alias'.");
  if (alias.length > 255) throw invalidParameter(`Alias '${alias.slice(0, 40)}…' exceeds the maximum length of 255 characters.`);
  if (!/^[\w-]+$/.test(alias)) throw invalidParameter(`Invalid alias name: '${alias}'. Names may only contain alphanumerics, underscores (_) and dashes (-).`);
  if (alias.toLowerCase() === 'latest') throw invalidParameter("'latest' alias name (case insensitive) is reserved.");
  if (/^v\d+$/i.test(alias)) throw invalidParameter(`Version alias name '${alias}' is reserved.`);
}

function parseVersion(version: string | number | undefined): number {
  const text = String(version ?? '');
  if (!/^\d+$/.test(text)) throw invalidParameter(`Parameter 'version' must be an integer, got '${text}'.`);
  return Number(text);
}

function tagKV(t: Tag): KV {
  if (!t.key) throw invalidParameter('Tag keys must be non-empty.');
  if (t.key.length > 250) throw invalidParameter(`Tag key '${t.key.slice(0, 40)}…' exceeds the maximum length of 250.`);
  return [t.key, t.value ?? ''];
}

export class ModelRegistry implements ModelRegistryStore {
  constructor(
    private readonly core: StoreCore,
    /** Absolute directory of the local artifact root, to validate local version sources. */
    private readonly artifactRootDir: string,
  ) {}

  private get db(): StoreCore['db'] {
    return this.core.db;
  }

  private modelRow(name: string): ModelRow {
    const row = this.db.get<ModelRow>('SELECT * FROM registered_models WHERE name = ?', [name]);
    if (!row) throw doesNotExist(`Registered Model with name=${name} not found`);
    return row;
  }

  private versionRow(name: string, version: number): VersionRow {
    const row = this.db.get<VersionRow>('SELECT * FROM model_versions WHERE name = ? AND version = ? AND current_stage != ?', [name, version, DELETED_STAGE]);
    if (!row) throw doesNotExist(`Model Version (name=${name}, version=${version}) not found`);
    return row;
  }

  // ---- registered models ------------------------------------------------------------------

  async createRegisteredModel(name: string | undefined, tags: Tag[], description?: string, userId?: string): Promise<RegisteredModel> {
    const valid = validateName(name);
    if (this.db.value('SELECT 1 FROM registered_models WHERE name = ?', [valid]) !== undefined) {
      throw alreadyExists(`Registered Model (name=${valid}) already exists.`);
    }
    await this.core.write({ t: 'rm.create', name: valid, time: Date.now(), description: description ?? null, userId: userId ?? null, tags: tags.map(tagKV) });
    return this.getRegisteredModel(valid);
  }

  async getRegisteredModel(name: string | undefined): Promise<RegisteredModel> {
    return this.loadModels([this.modelRow(validateName(name))])[0]!;
  }

  async renameRegisteredModel(name: string | undefined, newName: string | undefined): Promise<RegisteredModel> {
    const from = this.modelRow(validateName(name)).name;
    const to = validateName(newName, 'new_name');
    if (to !== from && this.db.value('SELECT 1 FROM registered_models WHERE name = ?', [to]) !== undefined) {
      throw alreadyExists(`Registered Model (name=${to}) already exists.`);
    }
    await this.core.write({ t: 'rm.rename', name: from, newName: to, time: Date.now() });
    return this.getRegisteredModel(to);
  }

  async updateRegisteredModel(name: string | undefined, description: string | undefined): Promise<RegisteredModel> {
    const row = this.modelRow(validateName(name));
    await this.core.write({ t: 'rm.update', name: row.name, description: description ?? '', time: Date.now() });
    return this.getRegisteredModel(row.name);
  }

  async deleteRegisteredModel(name: string | undefined): Promise<void> {
    const row = this.modelRow(validateName(name));
    await this.core.write({ t: 'rm.delete', name: row.name });
  }

  async setRegisteredModelTag(name: string | undefined, key: string, value: string): Promise<void> {
    const row = this.modelRow(validateName(name));
    const [k, v] = tagKV({ key, value });
    await this.core.write({ t: 'rm.setTag', name: row.name, key: k, value: v });
  }

  async deleteRegisteredModelTag(name: string | undefined, key: string): Promise<void> {
    const row = this.modelRow(validateName(name));
    await this.core.write({ t: 'rm.deleteTag', name: row.name, key });
  }

  async setAlias(name: string | undefined, alias: string, version: string): Promise<void> {
    const row = this.modelRow(validateName(name));
    validateAlias(alias);
    const v = this.versionRow(row.name, parseVersion(version)).version;
    await this.core.write({ t: 'rm.setAlias', name: row.name, alias, version: v, time: Date.now() });
  }

  async deleteAlias(name: string | undefined, alias: string): Promise<void> {
    const row = this.modelRow(validateName(name));
    await this.core.write({ t: 'rm.deleteAlias', name: row.name, alias, time: Date.now() });
  }

  async getVersionByAlias(name: string | undefined, alias: string): Promise<ModelVersion> {
    const row = this.modelRow(validateName(name));
    const version = this.db.value('SELECT version FROM registered_model_aliases WHERE name = ? AND alias = ?', [row.name, alias]);
    if (version === undefined) throw invalidParameter(`Registered model alias ${alias} not found.`);
    return this.getModelVersion(row.name, String(version));
  }

  async searchRegisteredModels(req: RegistrySearchRequest): Promise<Page<RegisteredModel>> {
    const limit = req.maxResults ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw invalidParameter(`Invalid value for request parameter max_results. It must be at most 1000, but got value ${limit}`);
    }
    const params: Params = [];
    const where = compileEntityFilter(REGISTERED_MODEL_SEARCH, req.filter, params);
    const order = compileEntityOrder('registered models', req.orderBy, REGISTERED_MODEL_ORDER);
    if (!order.some((o) => o.startsWith('rm.name '))) order.push('rm.name ASC');
    const offset = decodePageToken(req.pageToken);
    const rows = this.db.all<ModelRow>(
      `SELECT rm.* FROM registered_models rm ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order.join(', ')} LIMIT ? OFFSET ?`,
      [...params, limit + 1, offset],
    );
    return pageFromLookahead(rows, limit, offset, (page) => this.loadModels(page));
  }

  /** The newest version in each stage (all stages when `stages` is empty). */
  async getLatestVersions(name: string | undefined, stages: string[]): Promise<ModelVersion[]> {
    const row = this.modelRow(validateName(name));
    return this.latestVersions(row.name, stages.length ? new Set(stages.map(canonicalStage)) : undefined);
  }

  /** For a model known to exist. */
  private latestVersions(name: string, wanted: Set<Stage> | undefined): ModelVersion[] {
    const rows = this.db.all<VersionRow>('SELECT * FROM model_versions WHERE name = ? AND current_stage != ? ORDER BY version', [name, DELETED_STAGE]);
    const latest = new Map<string, VersionRow>();
    for (const r of rows) if (!wanted || wanted.has(r.current_stage as Stage)) latest.set(r.current_stage, r);
    return this.loadVersions([...latest.values()].sort((a, b) => a.version - b.version));
  }

  // ---- model versions ---------------------------------------------------------------------

  /** Where the version's files are: a logged model's location, a run's artifact path, or the source itself. */
  private storageLocation(source: string, modelId: string | undefined): string | null {
    const loggedId = loggedModelIdIn(source) ?? (source.startsWith('models:/') ? modelId : undefined);
    if (loggedId) {
      const loc = this.db.value('SELECT artifact_location FROM logged_models WHERE model_id = ?', [loggedId]);
      if (loc === undefined) throw doesNotExist(`Logged model with ID '${loggedId}' not found.`);
      return String(loc);
    }
    const registered = /^models:\/([^/]+)\/(\d+)\/?$/.exec(source);
    if (registered) {
      const other = this.versionRow(registered[1]!, Number(registered[2]));
      return other.storage_location ?? other.source;
    }
    const runs = /^runs:\/([^/]+)\/?(.*)$/.exec(source);
    if (runs) {
      // A run that does not exist (MLflow accepts it) leaves the source itself as the location.
      const uri = this.db.value('SELECT artifact_uri FROM runs WHERE run_uuid = ?', [runs[1]!]);
      if (uri === undefined) return null;
      return runs[2] ? `${String(uri).replace(/\/+$/, '')}/${runs[2]}` : String(uri);
    }
    return null;
  }

  private validateSource(source: string, runId: string | undefined, modelId: string | undefined): void {
    validateVersionSource(source, runId, modelId, {
      runArtifactUri: (id) => this.db.value('SELECT artifact_uri FROM runs WHERE run_uuid = ?', [id]) as string | undefined,
      runArtifactDir: (id) => {
        const exp = this.db.value('SELECT experiment_id FROM runs WHERE run_uuid = ?', [id]);
        return exp === undefined ? undefined : path.join(this.artifactRootDir, String(exp), id, 'artifacts');
      },
      modelArtifactLocation: (id) => this.db.value('SELECT artifact_location FROM logged_models WHERE model_id = ?', [id]) as string | undefined,
      artifactRootDir: this.artifactRootDir,
    });
  }

  async createModelVersion(req: CreateModelVersionRequest): Promise<ModelVersion> {
    const model = this.modelRow(validateName(req.name));
    this.validateSource(req.source, req.runId, req.modelId);
    const storage = this.storageLocation(req.source, req.modelId);
    // As MLflow: a version promoted from a logged model inherits the run that produced it.
    const loggedId = loggedModelIdIn(req.source) ?? req.modelId;
    const runId = req.runId || (loggedId ? (this.db.value('SELECT source_run_id FROM logged_models WHERE model_id = ?', [loggedId]) as string | null | undefined) : undefined);
    const version = model.next_version;
    // As MLflow's server: the logged model a version comes from lists it in mlflow.modelVersions.
    const modelExists = req.modelId ? this.db.value('SELECT 1 FROM logged_models WHERE model_id = ?', [req.modelId]) !== undefined : false;
    const currentTag = modelExists
      ? (this.db.value('SELECT value FROM logged_model_tags WHERE model_id = ? AND key = ?', [req.modelId!, MODEL_VERSIONS_TAG]) as string | undefined)
      : undefined;
    await this.core.write({
      t: 'mv.create',
      name: model.name,
      version,
      time: Date.now(),
      description: req.description ?? null,
      userId: req.userId ?? null,
      source: req.source,
      runId: runId || null,
      runLink: req.runLink || null,
      storageLocation: storage,
      modelId: req.modelId || null,
      tags: req.tags.map(tagKV),
      ...(modelExists ? { modelVersionsTag: withModelVersion(currentTag, model.name, version) } : {}),
    });
    return this.getModelVersion(model.name, String(version));
  }

  async getModelVersion(name: string | undefined, version: string | undefined): Promise<ModelVersion> {
    return this.loadVersions([this.versionRow(validateName(name), parseVersion(version))])[0]!;
  }

  async updateModelVersion(name: string | undefined, version: string | undefined, description: string | undefined): Promise<ModelVersion> {
    const row = this.versionRow(validateName(name), parseVersion(version));
    await this.core.write({ t: 'mv.update', name: row.name, version: row.version, description: description ?? '', time: Date.now() });
    return this.getModelVersion(row.name, String(row.version));
  }

  async transitionStage(name: string | undefined, version: string | undefined, stage: string, archiveExisting: boolean): Promise<ModelVersion> {
    const row = this.versionRow(validateName(name), parseVersion(version));
    const target = canonicalStage(stage);
    if (archiveExisting && target !== 'Staging' && target !== 'Production') {
      throw invalidParameter(
        `Model version transition cannot archive existing model versions because '${target}' is not an Active stage. Valid stages are Staging, Production`,
      );
    }
    const archive = archiveExisting
      ? this.db
          .rows('SELECT version FROM model_versions WHERE name = ? AND version != ? AND current_stage = ?', [row.name, row.version, target])
          .map((r) => r[0] as number)
      : [];
    await this.core.write({ t: 'mv.stage', name: row.name, version: row.version, stage: target, time: Date.now(), archive });
    return this.getModelVersion(row.name, String(row.version));
  }

  async deleteModelVersion(name: string | undefined, version: string | undefined): Promise<void> {
    const row = this.versionRow(validateName(name), parseVersion(version));
    await this.core.write({ t: 'mv.delete', name: row.name, version: row.version, time: Date.now() });
  }

  async setModelVersionTag(name: string | undefined, version: string | undefined, key: string, value: string): Promise<void> {
    const row = this.versionRow(validateName(name), parseVersion(version));
    const [k, v] = tagKV({ key, value });
    await this.core.write({ t: 'mv.setTag', name: row.name, version: row.version, key: k, value: v });
  }

  async deleteModelVersionTag(name: string | undefined, version: string | undefined, key: string): Promise<void> {
    const row = this.versionRow(validateName(name), parseVersion(version));
    await this.core.write({ t: 'mv.deleteTag', name: row.name, version: row.version, key });
  }

  async getDownloadUri(name: string | undefined, version: string | undefined): Promise<string> {
    const row = this.versionRow(validateName(name), parseVersion(version));
    return row.storage_location ?? row.source;
  }

  async searchModelVersions(req: RegistrySearchRequest): Promise<Page<ModelVersion>> {
    const limit = req.maxResults ?? 10_000;
    if (!Number.isInteger(limit) || limit < 1 || limit > 200_000) {
      throw invalidParameter(`Invalid value for request parameter max_results. It must be at most 200000, but got value ${limit}`);
    }
    const params: Params = [DELETED_STAGE];
    const where = ['mv.current_stage != ?', ...compileEntityFilter(VERSION_SEARCH, req.filter, params)];
    const order = compileEntityOrder('model versions', req.orderBy, VERSION_ORDER);
    if (order.length === 0) order.push('mv.last_updated_time DESC');
    for (const tie of ['mv.name ASC', 'mv.version DESC']) if (!order.some((o) => o.split(' ')[0] === tie.split(' ')[0])) order.push(tie);
    const offset = decodePageToken(req.pageToken);
    const rows = this.db.all<VersionRow>(`SELECT mv.* FROM model_versions mv WHERE ${where.join(' AND ')} ORDER BY ${order.join(', ')} LIMIT ? OFFSET ?`, [
      ...params,
      limit + 1,
      offset,
    ]);
    // As MLflow's SQL store: versions found by a search carry no aliases (get_model_version and
    // the registered model's own `aliases` do), so the same store reads the same through both servers.
    return pageFromLookahead(rows, limit, offset, (page) => this.loadVersions(page).map((v) => ({ ...v, aliases: [] })));
  }

  // ---- hydration --------------------------------------------------------------------------

  private loadVersions(rows: VersionRow[]): ModelVersion[] {
    return rows.map((r) => {
      const v: ModelVersion = {
        name: r.name,
        version: String(r.version),
        creation_timestamp: r.creation_time,
        last_updated_timestamp: r.last_updated_time,
        current_stage: r.current_stage,
        source: r.source,
        status: 'READY',
        tags: this.db.all<Tag>('SELECT key, value FROM model_version_tags WHERE name = ? AND version = ? ORDER BY key', [r.name, r.version]),
        aliases: this.db.rows('SELECT alias FROM registered_model_aliases WHERE name = ? AND version = ? ORDER BY alias', [r.name, r.version]).map((a) => a[0] as string),
      };
      if (r.user_id) v.user_id = r.user_id;
      if (r.description) v.description = r.description;
      if (r.run_id) v.run_id = r.run_id;
      if (r.run_link) v.run_link = r.run_link;
      if (r.model_id) v.model_id = r.model_id;
      return v;
    });
  }

  private loadModels(rows: ModelRow[]): RegisteredModel[] {
    return rows.map((r) => {
      const m: RegisteredModel = {
        name: r.name,
        creation_timestamp: r.creation_time,
        last_updated_timestamp: r.last_updated_time,
        latest_versions: this.latestVersions(r.name, undefined),
        tags: this.db.all<Tag>('SELECT key, value FROM registered_model_tags WHERE name = ? ORDER BY key', [r.name]),
        aliases: this.db
          .rows('SELECT alias, version FROM registered_model_aliases WHERE name = ? ORDER BY alias', [r.name])
          .map(([alias, version]) => ({ alias: alias as string, version: String(version) })),
      };
      if (r.user_id) m.user_id = r.user_id;
      if (r.description) m.description = r.description;
      return m;
    });
  }
}
