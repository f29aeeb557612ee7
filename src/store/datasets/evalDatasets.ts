/**
 * GenAI evaluation datasets (`mlflow.genai.datasets`): named collections of records (inputs,
 * expectations, outputs) linked to experiments, as MLflow's SQL store keeps them. Validation
 * and merging happen here; each write is one journaled op from datasetOps.ts.
 */
import { randomUUID } from 'node:crypto';
import { doesNotExist, invalidParameter, MlflowError } from '../../domain/errors';
import { decodePageToken, pageFromLookahead } from '../search/pageToken';
import { placeholders, type Params } from '../sqlite';
import type { EvalDatasetStore, SearchDatasetsRequest } from '../../backend/api/evalDatasets';
import type { StoreCore } from '../storeCore';
import type { Page } from '../../domain/types';
import type { DatasetTag, JournalRecord } from './datasetOps';
import { compileDatasetFilter, compileDatasetOrder } from './datasetSearch';
import type { DatasetRecord, EvalDataset, JsonObject, JsonValue } from '../../domain/datasetTypes';
import { pyJson } from '../../domain/pyJsonValue';
import { batchUser, datasetDigest, growSchema, inputKey, isObject, mergeRecord, newRecord, parseRecords } from './recordUpsert';

const SEARCH_MAX_RESULTS = 50000;
const RECORDS_PAGE_DEFAULT = 1000;

interface DatasetRow {
  dataset_id: string;
  name: string;
  digest: string;
  schema: string | null;
  profile: string | null;
  created_time: number;
  last_update_time: number;
  created_by: string | null;
  last_updated_by: string | null;
}

function parseTagsJson(text: string): JsonObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalidParameter(`Invalid JSON in tags field: '${text}'`);
  }
  if (!isObject(parsed)) throw invalidParameter('tags must be a JSON object mapping tag keys to values');
  return parsed;
}

/** Python's `str()` of a JSON value, as `set_dataset_tags` stores non-string values. */
function pyStr(v: JsonValue): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  return typeof v === 'number' ? String(v) : pyJson(v);
}

export class EvalDatasets implements EvalDatasetStore {
  constructor(private readonly core: StoreCore) {}

  private row(id: string): DatasetRow | undefined {
    return this.core.db.get<DatasetRow>('SELECT * FROM eval_datasets WHERE dataset_id = ?', [id]);
  }

  private toWire(r: DatasetRow): EvalDataset {
    const tags: Record<string, string | null> = {};
    for (const [k, v] of this.core.db.rows('SELECT key, value FROM eval_dataset_tags WHERE dataset_id = ? ORDER BY rowid', [r.dataset_id])) {
      tags[String(k)] = v === null ? null : String(v);
    }
    // Built in the proto's field order, so the JSON reads as MLflow's does.
    const d: Partial<EvalDataset> = { dataset_id: r.dataset_id, name: r.name, tags: pyJson(tags) };
    if (r.schema !== null) d.schema = r.schema;
    if (r.profile !== null) d.profile = r.profile;
    Object.assign(d, { digest: r.digest, created_time: r.created_time, last_update_time: r.last_update_time });
    if (r.created_by !== null) d.created_by = r.created_by;
    if (r.last_updated_by !== null) d.last_updated_by = r.last_updated_by;
    return d as EvalDataset;
  }

  async create(name: string, experimentIds: string[], tagsJson: string | undefined): Promise<EvalDataset> {
    const tagObject = tagsJson ? parseTagsJson(tagsJson) : {};
    // Create stores values as the database takes them: strings as-is, null kept.
    const tags = Object.entries(tagObject).map(([k, v]): DatasetTag => [k, v === null ? null : typeof v === 'boolean' ? (v ? '1' : '0') : pyStr(v)]);
    const user = tagObject['mlflow.user'];
    const id = `d-${randomUUID().replace(/-/g, '')}`;
    const time = Date.now();
    const experiments = [...new Set(experimentIds)];
    await this.core.write({
      t: 'ds.create',
      id,
      name,
      digest: datasetDigest(name, time),
      time,
      createdBy: typeof user === 'string' ? user : null,
      tags,
      experimentIds: experiments,
    });
    const d = this.dataset(id);
    if (experiments.length) d.experiment_ids = experiments;
    return d;
  }

  async get(id: string): Promise<EvalDataset> {
    return this.dataset(id);
  }

  private dataset(id: string): EvalDataset {
    const r = this.row(id);
    if (!r) throw doesNotExist(`Evaluation dataset with id '${id}' not found`);
    return this.toWire(r);
  }

  /** Idempotent, as in MLflow: deleting an unknown dataset succeeds. */
  async delete(id: string): Promise<void> {
    if (this.row(id)) await this.core.write({ t: 'ds.delete', id });
  }

  async search(req: SearchDatasetsRequest): Promise<Page<EvalDataset>> {
    const limit = req.maxResults ?? 1000;
    if (!Number.isInteger(limit) || limit < 1) throw invalidParameter(`Invalid value ${limit === 0 ? 'None' : limit} for parameter 'max_results' supplied. It must be a positive integer`);
    if (limit > SEARCH_MAX_RESULTS) throw invalidParameter(`Invalid value ${limit} for parameter 'max_results' supplied. It must be at most ${SEARCH_MAX_RESULTS}`);
    const offset = decodePageToken(req.pageToken);
    const params: Params = [];
    const where = compileDatasetFilter(req.filter, params);
    if (req.experimentIds.length) {
      where.push(`EXISTS (SELECT 1 FROM eval_dataset_experiments x WHERE x.dataset_id = d.dataset_id AND x.experiment_id IN (${placeholders(req.experimentIds.length)}))`);
      params.push(...req.experimentIds);
    }
    const sql = `SELECT d.* FROM eval_datasets d ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${compileDatasetOrder(req.orderBy)} LIMIT ${limit + 1} OFFSET ${offset}`;
    const rows = this.core.db.all<DatasetRow>(sql, params);
    return pageFromLookahead(rows, limit, offset, (page) => page.map((r) => this.toWire(r)));
  }

  /** Merges tags into the dataset's; null values are skipped, others stored as Python's str(). */
  async setTags(id: string, tagsJson: string): Promise<void> {
    const tagObject = parseTagsJson(tagsJson);
    if (!this.row(id)) throw doesNotExist(`Could not find evaluation dataset with ID ${id}`);
    const tags = Object.entries(tagObject).flatMap(([k, v]): DatasetTag[] => (v === null ? [] : [[k, pyStr(v)]]));
    if (tags.length) await this.core.write({ t: 'ds.setTags', id, tags });
  }

  /** Idempotent: an unknown dataset or tag is no error. */
  async deleteTag(id: string, key: string): Promise<void> {
    if (this.core.db.value('SELECT 1 FROM eval_dataset_tags WHERE dataset_id = ? AND key = ?', [id, key]) === undefined) return;
    await this.core.write({ t: 'ds.deleteTag', id, key });
  }

  private storedRecord(id: string, key: string): DatasetRecord | undefined {
    const body = this.core.db.value('SELECT body FROM eval_dataset_records WHERE dataset_id = ? AND input_key = ?', [id, key]);
    return body === undefined ? undefined : (JSON.parse(String(body)) as DatasetRecord);
  }

  private recordCount(id: string): number {
    return Number(this.core.db.value('SELECT count(*) FROM eval_dataset_records WHERE dataset_id = ?', [id]));
  }

  /** Records with the same inputs as a stored (or earlier in the batch) record update it. */
  async upsertRecords(id: string, recordsJson: string): Promise<{ inserted: number; updated: number }> {
    const records = parseRecords(recordsJson);
    const ds = this.row(id);
    // MLflow's store fails here on the records' foreign key, as a 400 BAD_REQUEST.
    if (!ds) throw new MlflowError('BAD_REQUEST', `Evaluation dataset with id '${id}' not found`);
    const now = Date.now();
    const pending = new Map<string, DatasetRecord>();
    let inserted = 0;
    let updated = 0;
    records.forEach((rec, i) => {
      const inputs = rec.inputs ?? {};
      if (!isObject(inputs)) throw invalidParameter(`Invalid record at index ${i}: 'inputs' must be a JSON object.`);
      const key = inputKey(inputs);
      const old = pending.get(key) ?? this.storedRecord(id, key);
      if (old) {
        pending.set(key, mergeRecord(old, rec, now, i));
        updated++;
      } else {
        pending.set(key, newRecord(id, rec, inputs, now, i));
        inserted++;
      }
    });
    const journal: JournalRecord[] = [...pending].map(([key, record]) => ({ key, record }));
    const total = this.recordCount(id) + inserted;
    const schema = growSchema(ds.schema, records);
    await this.core.write({
      t: 'ds.records',
      id,
      records: journal,
      time: now,
      digest: datasetDigest(ds.name, now),
      lastUpdatedBy: batchUser(records),
      ...(schema !== undefined ? { schema } : {}),
      ...(total > 0 ? { profile: pyJson({ num_records: total }) } : {}),
    });
    return { inserted, updated };
  }

  /** A page of records in (created_time, id) order; the token is the last row's cursor. */
  async records(id: string, maxResults: number | undefined, pageToken: string | undefined): Promise<{ records: DatasetRecord[]; nextPageToken?: string }> {
    const limit = maxResults || RECORDS_PAGE_DEFAULT;
    const params: Params = [id];
    let where = 'dataset_id = ?';
    let offset = 0;
    if (pageToken) {
      const cursor = /^(-?\d+):(.+)$/s.exec(Buffer.from(pageToken, 'base64').toString('utf8'));
      if (cursor) {
        where += ' AND (created_time > ? OR (created_time = ? AND dataset_record_id > ?))';
        params.push(Number(cursor[1]), Number(cursor[1]), cursor[2]!);
      } else if (/^\d+$/.test(pageToken)) {
        offset = Number(pageToken);
      } else {
        throw invalidParameter(`Invalid page token '${pageToken}'`);
      }
    }
    const rows = this.core.db.rows(
      `SELECT body, created_time, dataset_record_id FROM eval_dataset_records WHERE ${where} ORDER BY created_time, dataset_record_id LIMIT ${limit + 1} OFFSET ${offset}`,
      params,
    );
    const page = rows.slice(0, limit);
    const out: { records: DatasetRecord[]; nextPageToken?: string } = { records: page.map((r) => JSON.parse(String(r[0])) as DatasetRecord) };
    if (rows.length > limit) {
      const last = page[page.length - 1]!;
      out.nextPageToken = Buffer.from(`${String(last[1])}:${String(last[2])}`, 'utf8').toString('base64');
    }
    return out;
  }

  /** Deletes the listed records that exist; the profile's count drops (to "null" at zero). */
  async deleteRecords(id: string, recordIds: string[]): Promise<number> {
    const existing = [...new Set(recordIds)].filter(
      (r) => this.core.db.value('SELECT 1 FROM eval_dataset_records WHERE dataset_id = ? AND dataset_record_id = ?', [id, r]) !== undefined,
    );
    if (existing.length === 0) return 0;
    const ds = this.row(id);
    let profile: string | undefined;
    if (ds) {
      const before = ds.profile ? (JSON.parse(ds.profile) as { num_records?: number } | null) : null;
      const left = Math.max(0, (before?.num_records ?? 0) - existing.length);
      profile = pyJson(left > 0 ? { num_records: left } : null);
    }
    await this.core.write({ t: 'ds.deleteRecords', id, recordIds: existing, ...(profile !== undefined ? { profile } : {}) });
    return existing.length;
  }

  async experimentIds(id: string): Promise<string[]> {
    return this.linked(id);
  }

  /** Linked experiment ids, oldest link first; an unknown dataset has none. */
  private linked(id: string): string[] {
    return this.core.db.rows('SELECT experiment_id FROM eval_dataset_experiments WHERE dataset_id = ? ORDER BY rowid', [id]).map((r) => String(r[0]));
  }

  async addToExperiments(id: string, experimentIds: string[]): Promise<EvalDataset> {
    if (!this.row(id)) throw doesNotExist(`Dataset '${id}' not found`);
    for (const e of experimentIds) {
      const known = /^\d+$/.test(e) && this.core.db.value('SELECT 1 FROM experiments WHERE experiment_id = ?', [Number(e)]) !== undefined;
      if (!known) throw doesNotExist(`No Experiment with id=${e}`);
    }
    const fresh = [...new Set(experimentIds.map((e) => String(Number(e))))].filter((e) => !this.linked(id).includes(e));
    await this.core.write({ t: 'ds.link', id, experimentIds: fresh, time: Date.now() });
    return this.get(id);
  }

  /** Idempotent: experiments the dataset is not linked to are skipped. */
  async removeFromExperiments(id: string, experimentIds: string[]): Promise<EvalDataset> {
    if (!this.row(id)) throw doesNotExist(`Dataset '${id}' not found`);
    const linked = new Set(this.linked(id));
    const gone = [...new Set(experimentIds)].filter((e) => linked.has(e));
    if (gone.length) await this.core.write({ t: 'ds.unlink', id, experimentIds: gone, time: Date.now() });
    return this.get(id);
  }
}
