/**
 * Logged models (MLflow 3): what `mlflow.<flavor>.log_model` creates. A model belongs to an
 * experiment, has its own artifact location (`<experiment location>/models/<id>/artifacts`),
 * params, tags and metrics, and links back to the run that produced it.
 */
import { randomBytes } from 'node:crypto';
import { doesNotExist, invalidParameter } from '../../domain/errors';
import type { JournalMetric, KV } from '../opTypes';
import { generateRunName } from '../runNames';
import { compileEntityFilter, NUMERIC_OPS, STRING_OPS, type EntitySearchSpec } from '../search/entitySearch';
import { decodePageToken, pageFromLookahead } from '../search/pageToken';
import { placeholders, type Params } from '../sqlite';
import type { CreateLoggedModelRequest, LoggedModelStore, SearchLoggedModelsRequest } from '../../backend/api/loggedModels';
import type { StoreCore } from '../storeCore';
import type { MetricInput, Page, Tag } from '../../domain/types';
import type { JournalModelMetric } from './modelOps';
import { LOGGED_MODEL_STATUSES, type LoggedModel, type LoggedModelStatus, type ModelMetric } from '../../domain/modelTypes';

interface ModelRow {
  model_id: string;
  experiment_id: number;
  name: string;
  artifact_location: string;
  creation_time: number;
  last_updated_time: number;
  status: LoggedModelStatus;
  model_type: string | null;
  source_run_id: string | null;
  status_message: string | null;
}

const ATTRIBUTE_COLUMNS: Record<string, string> = {
  name: 'lm.name',
  model_id: 'lm.model_id',
  model_type: 'lm.model_type',
  status: 'lm.status',
  source_run_id: 'lm.source_run_id',
  creation_time: 'lm.creation_time',
  creation_timestamp: 'lm.creation_time',
  creation_timestamp_ms: 'lm.creation_time',
  last_updated_time: 'lm.last_updated_time',
  last_updated_timestamp: 'lm.last_updated_time',
  last_updated_timestamp_ms: 'lm.last_updated_time',
};
const NUMERIC_ATTRIBUTES = new Set(['lm.creation_time', 'lm.last_updated_time']);

export const SEARCH_SPEC: EntitySearchSpec = {
  what: 'logged models',
  attributes: Object.fromEntries(
    Object.entries(ATTRIBUTE_COLUMNS).map(([k, column]) => [
      k,
      NUMERIC_ATTRIBUTES.has(column) ? { column, numeric: true, comparators: NUMERIC_OPS } : { column, comparators: [...STRING_OPS, 'IN', 'NOT IN'] },
    ]),
  ),
  keyValues: Object.fromEntries(
    (
      [
        [['tags', 'tag'], { from: 'logged_model_tags kv', link: 'kv.model_id = lm.model_id', valueColumn: 'kv.value', comparators: STRING_OPS }],
        [['params', 'param', 'parameters'], { from: 'logged_model_params kv', link: 'kv.model_id = lm.model_id', valueColumn: 'kv.value', comparators: STRING_OPS }],
        [['metrics', 'metric'], { from: 'logged_model_metrics kv', link: 'kv.model_id = lm.model_id', valueColumn: 'kv.value', numeric: true, comparators: NUMERIC_OPS }],
      ] as const
    ).flatMap(([names, spec]) => names.map((n) => [n, spec])),
  ),
};

function newModelId(): string {
  return `m-${randomBytes(16).toString('hex')}`;
}

export class LoggedModels implements LoggedModelStore {
  constructor(private readonly core: StoreCore) {}

  private get db(): StoreCore['db'] {
    return this.core.db;
  }

  private row(modelId: string): ModelRow {
    const row = this.db.get<ModelRow>("SELECT * FROM logged_models WHERE model_id = ? AND lifecycle_stage = 'active'", [modelId]);
    if (!row) throw doesNotExist(`Logged model with ID '${modelId}' not found.`);
    return row;
  }

  /** Throws RESOURCE_DOES_NOT_EXIST unless the model exists and is not deleted. */
  requireExists(modelId: string): void {
    this.row(modelId);
  }

  async create(req: CreateLoggedModelRequest): Promise<LoggedModel> {
    if (!req.experimentId) throw invalidParameter("Missing value for required parameter 'experiment_id'.");
    const exp = this.db.get<{ experiment_id: number; artifact_location: string; lifecycle_stage: string }>(
      'SELECT experiment_id, artifact_location, lifecycle_stage FROM experiments WHERE experiment_id = ?',
      [/^\d+$/.test(req.experimentId) ? Number(req.experimentId) : -1],
    );
    if (!exp) throw doesNotExist(`No Experiment with id=${req.experimentId} exists`);
    if (exp.lifecycle_stage !== 'active') {
      throw invalidParameter(`The experiment ${req.experimentId} must be in the 'active' state. Current state is ${exp.lifecycle_stage}.`);
    }
    // As MLflow's server, source_run_id is recorded as given: the run is not looked up.
    const params = this.validateParams(req.params);
    const tags = req.tags.map((t) => this.validateTag(t));
    const id = newModelId();
    const name = req.name || generateRunName();
    await this.core.write({
      t: 'lm.create',
      id,
      exp: exp.experiment_id,
      name,
      artifactLocation: `${exp.artifact_location.replace(/\/+$/, '')}/models/${id}/artifacts`,
      time: Date.now(),
      modelType: req.modelType || null,
      sourceRunId: req.sourceRunId || null,
      params,
      tags,
    });
    return this.get(id);
  }

  private validateParams(params: Tag[]): KV[] {
    return params.map((p) => {
      if (!p.key) throw invalidParameter('Logged model param keys must be non-empty.');
      return [p.key, p.value ?? ''];
    });
  }

  private validateTag(t: Tag): KV {
    if (!t.key) throw invalidParameter('Logged model tag keys must be non-empty.');
    return [t.key, t.value ?? ''];
  }

  async get(modelId: string): Promise<LoggedModel> {
    return this.load([this.row(modelId)])[0]!;
  }

  async finalize(modelId: string, status: string): Promise<LoggedModel> {
    this.row(modelId);
    if (!(LOGGED_MODEL_STATUSES as readonly string[]).includes(status) || status === 'LOGGED_MODEL_PENDING') {
      throw invalidParameter(`Invalid status '${status}' for finalizing a logged model: expected LOGGED_MODEL_READY or LOGGED_MODEL_UPLOAD_FAILED.`);
    }
    await this.core.write({ t: 'lm.status', id: modelId, status, time: Date.now() });
    return this.get(modelId);
  }

  async delete(modelId: string): Promise<void> {
    this.row(modelId);
    await this.core.write({ t: 'lm.delete', id: modelId, time: Date.now() });
  }

  async setTags(modelId: string, tags: Tag[]): Promise<void> {
    this.row(modelId);
    await this.core.write({ t: 'lm.setTags', id: modelId, tags: tags.map((t) => this.validateTag(t)), time: Date.now() });
  }

  async deleteTag(modelId: string, key: string): Promise<void> {
    this.row(modelId);
    if (this.db.value('SELECT 1 FROM logged_model_tags WHERE model_id = ? AND key = ?', [modelId, key]) === undefined) {
      throw doesNotExist(`No tag with key '${key}' found for logged model '${modelId}'.`);
    }
    await this.core.write({ t: 'lm.deleteTag', id: modelId, key, time: Date.now() });
  }

  async logParams(modelId: string, params: Tag[]): Promise<void> {
    this.row(modelId);
    await this.core.write({ t: 'lm.params', id: modelId, params: this.validateParams(params), time: Date.now() });
  }

  /**
   * Metrics logged to a run with `model_id` are copied onto the model, in the same journal
   * record: each validated row with the request metric it came from.
   */
  journalMetrics(runId: string, metrics: [JournalMetric, MetricInput][]): JournalModelMetric[] {
    const out: JournalModelMetric[] = [];
    const checked = new Set<string>();
    // MLflow keeps one row per (model_id, key, timestamp, step, run_id) (its primary key): a
    // metric sent again, in this request or an earlier one, is not stored twice.
    const seen = new Set<string>();
    for (const [[key, value, timestamp, step], input] of metrics) {
      if (!input.model_id) continue;
      if (!checked.has(input.model_id)) this.row(input.model_id);
      checked.add(input.model_id);
      const pk = JSON.stringify([input.model_id, key, timestamp, step]);
      if (seen.has(pk)) continue;
      seen.add(pk);
      const stored = this.db.value(
        'SELECT 1 FROM logged_model_metrics WHERE model_id = ? AND key = ? AND timestamp = ? AND step = ? AND run_id IS ?',
        [input.model_id, key, timestamp, step, runId],
      );
      if (stored !== undefined) continue;
      out.push([input.model_id, key, value, timestamp, step, runId, input.dataset_name ?? null, input.dataset_digest ?? null]);
    }
    return out;
  }

  async search(req: SearchLoggedModelsRequest): Promise<Page<LoggedModel>> {
    const limit = req.maxResults ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw invalidParameter(`Invalid value ${limit} for parameter 'max_results': it must be between 1 and 1000.`);
    if (req.experimentIds.length === 0) throw invalidParameter("Missing value for required parameter 'experiment_ids'.");
    const ids = req.experimentIds.map((id) => {
      if (!/^\d+$/.test(id)) throw invalidParameter(`Invalid experiment ID: '${id}'`);
      return Number(id);
    });
    const params: Params = [...ids];
    const where = [`lm.experiment_id IN (${placeholders(ids.length)})`, "lm.lifecycle_stage = 'active'"];
    where.push(...compileEntityFilter(SEARCH_SPEC, req.filter, params));
    if (req.datasets?.length) {
      const parts = req.datasets.map((d) => {
        params.push(d.name);
        if (d.digest) params.push(d.digest);
        return `(m.dataset_name = ?${d.digest ? ' AND m.dataset_digest = ?' : ''})`;
      });
      where.push(`EXISTS (SELECT 1 FROM logged_model_metrics m WHERE m.model_id = lm.model_id AND (${parts.join(' OR ')}))`);
    }
    const order: string[] = [];
    const orderParams: Params = [];
    for (const o of req.orderBy ?? []) {
      const dir = o.ascending ? 'ASC' : 'DESC';
      const metric = /^metrics?\.(.+)$/.exec(o.field);
      if (metric) {
        // The metric's latest value (by step, then timestamp), optionally for one dataset;
        // models without it sort last in both directions.
        let sub = 'SELECT m.value FROM logged_model_metrics m WHERE m.model_id = lm.model_id AND m.key = ?';
        const subParams: Params = [metric[1]!];
        if (o.datasetName) {
          sub += ' AND m.dataset_name = ?';
          subParams.push(o.datasetName);
        }
        if (o.datasetDigest) {
          sub += ' AND m.dataset_digest = ?';
          subParams.push(o.datasetDigest);
        }
        sub = `(${sub} ORDER BY m.step DESC, m.timestamp DESC LIMIT 1)`;
        order.push(`${sub} IS NULL`, `${sub} ${dir}`);
        orderParams.push(...subParams, ...subParams);
        continue;
      }
      const column = ATTRIBUTE_COLUMNS[o.field];
      if (!column) throw invalidParameter(`Invalid order_by field '${o.field}' for logged models.`);
      order.push(`${column} ${dir}`);
    }
    order.push('lm.creation_time DESC', 'lm.model_id ASC');
    const offset = decodePageToken(req.pageToken);
    const rows = this.db.all<ModelRow>(
      `SELECT lm.* FROM logged_models lm WHERE ${where.join(' AND ')} ORDER BY ${order.join(', ')} LIMIT ? OFFSET ?`,
      [...params, ...orderParams, limit + 1, offset],
    );
    return pageFromLookahead(rows, limit, offset, (page) => this.load(page));
  }

  private load(rows: ModelRow[]): LoggedModel[] {
    return rows.map((r) => {
      const tags = this.db.all<Tag>('SELECT key, value FROM logged_model_tags WHERE model_id = ? ORDER BY key', [r.model_id]);
      const params = this.db.all<Tag>('SELECT key, value FROM logged_model_params WHERE model_id = ? ORDER BY key', [r.model_id]);
      const metrics = this.db
        .rows('SELECT key, value, is_nan, timestamp, step, run_id, dataset_name, dataset_digest FROM logged_model_metrics WHERE model_id = ? ORDER BY rowid', [r.model_id])
        .map(([key, value, isNan, timestamp, step, runId, dsName, dsDigest]) => {
          const m: ModelMetric = { key: key as string, value: isNan ? NaN : (value as number), timestamp: timestamp as number, step: step as number, model_id: r.model_id };
          if (runId) m.run_id = runId as string;
          if (dsName) m.dataset_name = dsName as string;
          if (dsDigest) m.dataset_digest = dsDigest as string;
          return m;
        });
      const registrations = this.db
        .rows("SELECT name, version FROM model_versions WHERE model_id = ? AND current_stage != 'Deleted_Internal' ORDER BY name, version", [r.model_id])
        .map(([name, version]) => ({ name: name as string, version: String(version) }));
      const info: LoggedModel['info'] = {
        model_id: r.model_id,
        experiment_id: String(r.experiment_id),
        name: r.name,
        creation_timestamp_ms: r.creation_time,
        last_updated_timestamp_ms: r.last_updated_time,
        artifact_uri: r.artifact_location,
        status: r.status,
        tags,
        registrations,
      };
      if (r.model_type) info.model_type = r.model_type;
      if (r.source_run_id) info.source_run_id = r.source_run_id;
      if (r.status_message) info.status_message = r.status_message;
      return { info, data: { params, metrics } };
    });
  }
}
