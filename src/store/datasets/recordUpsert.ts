/**
 * The pure half of `upsert_dataset_records`: validating incoming record dicts, merging them
 * into stored records (keyed by their inputs), and growing the dataset schema, all as MLflow's
 * SQL store does. The store turns the result into one journaled op.
 */
import { createHash, randomUUID } from 'node:crypto';
import { invalidParameter } from '../../domain/errors';
import { RECORD_SOURCE_TYPES, type DatasetRecord, type JsonObject, type JsonValue, type RecordSource, type RecordSourceType } from '../../domain/datasetTypes';
import { pyJson } from '../../domain/pyJsonValue';

const MLFLOW_USER = 'mlflow.user';

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The upsert identity: the inputs as canonical (sorted-key) JSON, hashed as MLflow does. */
export function inputKey(inputs: JsonObject): string {
  return createHash('sha256').update(pyJson(inputs, true)).digest('hex');
}

/** MLflow's dataset digest: the first 8 hex digits of sha256("<name>:<last_update_time>"). */
export function datasetDigest(name: string, time: number): string {
  return createHash('sha256').update(`${name}:${time}`).digest('hex').slice(0, 8);
}

function optionalObject(rec: JsonObject, field: string, i: number): JsonObject | null | undefined {
  const v = rec[field];
  if (v === undefined || v === null) return v;
  if (!isObject(v)) throw invalidParameter(`Invalid record at index ${i}: '${field}' must be a JSON object.`);
  return v;
}

function parseSource(v: JsonValue | undefined, i: number): RecordSource | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v) || typeof v.source_type !== 'string' || Object.keys(v).some((k) => k !== 'source_type' && k !== 'source_data')) {
    throw invalidParameter(`Invalid record at index ${i}: 'source' must be an object with 'source_type' and optional 'source_data'.`);
  }
  const type = v.source_type.toUpperCase();
  if (!(RECORD_SOURCE_TYPES as readonly string[]).includes(type)) {
    throw invalidParameter(`Invalid dataset record source type: ${type}. Valid source types: ['UNSPECIFIED', 'TRACE', 'HUMAN', 'DOCUMENT', 'CODE']`);
  }
  const data = v.source_data ?? {};
  if (!isObject(data)) throw invalidParameter(`Invalid record at index ${i}: 'source.source_data' must be a JSON object.`);
  return { source_type: type as RecordSourceType, source_data: data };
}

/** Parses the request's `records` JSON: a list of record objects. */
export function parseRecords(text: string): JsonObject[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalidParameter('Invalid JSON in records field');
  }
  if (!Array.isArray(parsed) || !parsed.every(isObject)) throw invalidParameter('records must be a JSON list of record objects');
  return parsed as JsonObject[];
}

/** A stored record in `to_dict()` key order, so the wire JSON matches MLflow's. */
function ordered(r: DatasetRecord): DatasetRecord {
  const out: Partial<DatasetRecord> = { dataset_record_id: r.dataset_record_id, dataset_id: r.dataset_id, inputs: r.inputs };
  if (r.expectations !== undefined) out.expectations = r.expectations;
  out.tags = r.tags;
  if (r.source !== undefined) out.source = r.source;
  if (r.source_id !== undefined) out.source_id = r.source_id;
  if (r.source_type !== undefined) out.source_type = r.source_type;
  out.created_time = r.created_time;
  out.last_update_time = r.last_update_time;
  if (r.created_by !== undefined) out.created_by = r.created_by;
  if (r.last_updated_by !== undefined) out.last_updated_by = r.last_updated_by;
  if (r.outputs !== undefined) out.outputs = r.outputs;
  return out as DatasetRecord;
}

function userOf(tags: JsonObject | null | undefined): string | undefined {
  const u = tags?.[MLFLOW_USER];
  return typeof u === 'string' ? u : u === undefined || u === null ? undefined : String(u);
}

export function newRecord(datasetId: string, rec: JsonObject, inputs: JsonObject, now: number, i: number): DatasetRecord {
  const tags = optionalObject(rec, 'tags', i);
  const expectations = optionalObject(rec, 'expectations', i);
  const source = parseSource(rec.source, i);
  const user = userOf(tags);
  const r: DatasetRecord = {
    dataset_record_id: `dr-${randomUUID().replace(/-/g, '')}`,
    dataset_id: datasetId,
    inputs,
    tags: tags ?? {},
    created_time: now,
    last_update_time: now,
  };
  // A record without an `outputs` key stores `{}`; an explicit null stores none.
  const outputs = 'outputs' in rec ? rec.outputs : {};
  if (outputs !== null && outputs !== undefined) r.outputs = outputs;
  if (expectations) r.expectations = expectations;
  if (source) {
    r.source = source;
    const id = source.source_type === 'TRACE' ? source.source_data.trace_id : source.source_data.source_id;
    if (typeof id === 'string') r.source_id = id;
    r.source_type = source.source_type;
  }
  if (user !== undefined) r.created_by = r.last_updated_by = user;
  return ordered(r);
}

/** `SqlEvaluationDatasetRecord.merge`: outputs replaced, expectations and tags merged. */
export function mergeRecord(old: DatasetRecord, rec: JsonObject, now: number, i: number): DatasetRecord {
  const tags = optionalObject(rec, 'tags', i);
  const expectations = optionalObject(rec, 'expectations', i);
  const r: DatasetRecord = { ...old, last_update_time: now };
  if ('outputs' in rec) {
    if (rec.outputs === null || rec.outputs === undefined) delete r.outputs;
    else r.outputs = rec.outputs;
  }
  if (expectations && Object.keys(expectations).length) r.expectations = { ...(old.expectations ?? {}), ...expectations };
  if (tags && Object.keys(tags).length) r.tags = { ...old.tags, ...tags };
  const user = userOf(tags);
  if (user !== undefined) r.last_updated_by = user;
  return ordered(r);
}

/** The last `mlflow.user` tag in the batch: it becomes the dataset's `last_updated_by` (or none). */
export function batchUser(records: JsonObject[]): string | null {
  let user: string | null = null;
  for (const rec of records) {
    const u = userOf(isObject(rec.tags) ? rec.tags : undefined);
    if (u !== undefined) user = u;
  }
  return user;
}

function fieldType(v: JsonValue): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'float';
  if (typeof v === 'string') return 'string';
  if (Array.isArray(v)) return 'array';
  return 'object';
}

/** `_update_dataset_schema`: field types of inputs, outputs and expectations, first seen wins. */
export function growSchema(existing: string | null, records: JsonObject[]): string | undefined {
  if (records.length === 0 && !existing) return undefined;
  const schema: JsonObject = existing ? (JSON.parse(existing) as JsonObject) : { inputs: {}, outputs: {}, expectations: {}, version: '1.0' };
  const addKeys = (section: string, values: JsonValue | undefined): void => {
    const target = schema[section];
    if (!isObject(values) || !isObject(target)) return;
    for (const [k, v] of Object.entries(values)) if (!(k in target)) target[k] = fieldType(v);
  };
  for (const rec of records) {
    addKeys('inputs', rec.inputs);
    const outputs = rec.outputs;
    if (outputs !== undefined && outputs !== null) {
      if (isObject(outputs)) addKeys('outputs', outputs);
      else if (!schema.outputs || (isObject(schema.outputs) && Object.keys(schema.outputs).length === 0)) schema.outputs = fieldType(outputs);
    }
    addKeys('expectations', rec.expectations);
  }
  return pyJson(schema);
}
