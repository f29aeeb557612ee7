/**
 * Trace messages between proto-JSON and the store: TraceInfoV3 and Assessment bodies in,
 * spans out as OpenTelemetry proto JSON (what GetTrace / BatchGetTraces carry).
 */
import { invalidParameter } from '../domain/errors';
import { attributeValue } from '../domain/spanDict';
import type { AssessmentField, NewAssessment, StartTraceRequest } from '../backend/api/traces';
import { ASSESSMENT_SOURCE_TYPES, TRACE_STATES, type Assessment, type SpanDict, type TraceState } from '../domain/traceTypes';

type Json = Record<string, unknown>;

function object(v: unknown, name: string): Json {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw invalidParameter(`Invalid value for '${name}': expected an object.`);
  return v as Json;
}

function optString(o: Json, key: string, where: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalidParameter(`Invalid value ${JSON.stringify(v)} for '${where}.${key}': expected a string.`);
  return v;
}

/** A proto map<string,string>: values must be strings (numbers are stringified, as protobuf JSON parsing does not). */
function stringMap(v: unknown, name: string): Record<string, string> {
  const o = object(v, name);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(o)) {
    if (typeof val !== 'string') throw invalidParameter(`Invalid value ${JSON.stringify(val)} for '${name}.${k}': expected a string.`);
    out[k] = val;
  }
  return out;
}

/** google.protobuf.Timestamp JSON (RFC 3339) → epoch ms. */
export function parseTimestamp(v: unknown, name: string): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'string') {
    const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(v);
    if (m) {
      const ms = Date.parse(`${m[1]}${m[3]}`);
      if (Number.isFinite(ms)) return ms + Math.floor(Number(`0.${m[2] ?? '0'}`) * 1000);
    }
  }
  throw invalidParameter(`Invalid timestamp ${JSON.stringify(v)} for '${name}': expected RFC 3339, e.g. "2025-01-31T12:00:00.123Z".`);
}

/** google.protobuf.Duration JSON ("1.5s") → ms. */
export function parseDuration(v: unknown, name: string): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'string' && /^-?\d+(\.\d{1,9})?s$/.test(v)) return Math.round(Number(v.slice(0, -1)) * 1000);
  throw invalidParameter(`Invalid duration ${JSON.stringify(v)} for '${name}': expected seconds such as "0.25s".`);
}

function parseSource(v: unknown, where: string): Assessment['source'] {
  const o = object(v, `${where}.source`);
  const type = (optString(o, 'source_type', `${where}.source`) ?? 'SOURCE_TYPE_UNSPECIFIED').toUpperCase();
  if (!(ASSESSMENT_SOURCE_TYPES as readonly string[]).includes(type)) {
    throw invalidParameter(`Invalid assessment source type '${type}'. Expected one of ${ASSESSMENT_SOURCE_TYPES.join(', ')}.`);
  }
  const id = optString(o, 'source_id', `${where}.source`);
  return { source_type: type as Assessment['source']['source_type'], ...(id !== undefined ? { source_id: id } : {}) };
}

/** The parts of an Assessment message a client may set. */
export function parseAssessment(v: unknown, where = 'assessment'): NewAssessment & { trace_id?: string | undefined } {
  const o = object(v, where);
  const out: NewAssessment & { trace_id?: string | undefined } = {
    assessment_name: optString(o, 'assessment_name', where) ?? '',
    source: parseSource(o.source, where),
  };
  const str = (key: 'span_id' | 'rationale' | 'overrides' | 'trace_id' | 'assessment_id'): void => {
    const s = optString(o, key, where);
    if (s !== undefined && s !== '') out[key] = s;
  };
  str('span_id');
  str('rationale');
  str('overrides');
  str('trace_id');
  str('assessment_id');
  if (o.feedback !== undefined && o.feedback !== null) out.feedback = object(o.feedback, `${where}.feedback`) as Assessment['feedback'];
  if (o.expectation !== undefined && o.expectation !== null) out.expectation = object(o.expectation, `${where}.expectation`) as Assessment['expectation'];
  if (o.error !== undefined && o.error !== null) out.error = object(o.error, `${where}.error`) as Assessment['error'];
  if (o.metadata !== undefined) out.metadata = stringMap(o.metadata, `${where}.metadata`);
  if (typeof o.valid === 'boolean') out.valid = o.valid;
  const created = parseTimestamp(o.create_time, `${where}.create_time`);
  if (created !== undefined) out.create_time = new Date(created).toISOString();
  return out;
}

const MASK_FIELDS: Record<string, AssessmentField> = {
  assessment_name: 'assessment_name',
  assessmentname: 'assessment_name',
  feedback: 'feedback',
  expectation: 'expectation',
  rationale: 'rationale',
  metadata: 'metadata',
  valid: 'valid',
  span_id: 'span_id',
  spanid: 'span_id',
};

/** google.protobuf.FieldMask JSON: `"a,bC"` (camelCase) or `{"paths": [...]}`. */
export function parseUpdateMask(v: unknown): AssessmentField[] {
  if (v === undefined || v === null || v === '') return [];
  const paths = typeof v === 'string' ? v.split(',') : Array.isArray((v as Json).paths) ? ((v as Json).paths as unknown[]).map(String) : undefined;
  if (!paths) throw invalidParameter(`Invalid update_mask ${JSON.stringify(v)}: expected "field,field" or {"paths": [...]}.`);
  return paths.map((p) => {
    const f = MASK_FIELDS[p.trim().toLowerCase()];
    if (!f) throw invalidParameter(`Invalid update_mask path '${p}'. Updatable fields: assessment_name, feedback, expectation, rationale, metadata, valid, span_id.`);
    return f;
  });
}

export function parseStartTrace(body: Json): StartTraceRequest {
  const trace = object(body.trace, 'trace');
  const info = object(trace.trace_info, 'trace.trace_info');
  if (Object.keys(info).length === 0) {
    throw invalidParameter("Missing value for required parameter 'trace.trace_info'. This server implements StartTraceV3 (MLflow 3 clients).");
  }
  const where = 'trace.trace_info';
  const traceId = optString(info, 'trace_id', where);
  if (!traceId) throw invalidParameter(`Missing value for required parameter '${where}.trace_id'.`);
  const location = object(info.trace_location, `${where}.trace_location`);
  const type = optString(location, 'type', `${where}.trace_location`) ?? 'MLFLOW_EXPERIMENT';
  if (type !== 'MLFLOW_EXPERIMENT') throw invalidParameter(`Unsupported trace location type '${type}': this server stores traces in MLflow experiments.`);
  const experimentId = optString(object(location.mlflow_experiment, `${where}.trace_location.mlflow_experiment`), 'experiment_id', `${where}.trace_location.mlflow_experiment`);
  if (!experimentId) throw invalidParameter(`Missing value for required parameter '${where}.trace_location.mlflow_experiment.experiment_id'.`);
  const state = (optString(info, 'state', where) ?? 'STATE_UNSPECIFIED').toUpperCase();
  if (!(TRACE_STATES as readonly string[]).includes(state)) throw invalidParameter(`Invalid trace state '${state}'. Expected one of ${TRACE_STATES.join(', ')}.`);
  const rawAssessments = info.assessments ?? [];
  if (!Array.isArray(rawAssessments)) throw invalidParameter(`Invalid value for '${where}.assessments': expected a list.`);
  return {
    traceId,
    experimentId,
    requestTimeMs: parseTimestamp(info.request_time, `${where}.request_time`) ?? Date.now(),
    durationMs: parseDuration(info.execution_duration, `${where}.execution_duration`),
    state: state as TraceState,
    clientRequestId: optString(info, 'client_request_id', where),
    requestPreview: optString(info, 'request_preview', where),
    responsePreview: optString(info, 'response_preview', where),
    metadata: stringMap(info.trace_metadata, `${where}.trace_metadata`),
    tags: stringMap(info.tags, `${where}.tags`),
    assessments: rawAssessments.map((a, i) => parseAssessment(a, `${where}.assessments[${i}]`)),
  };
}

// ---- spans out ------------------------------------------------------------------------------

function anyValue(v: unknown): Json {
  if (typeof v === 'string') return { string_value: v };
  if (typeof v === 'boolean') return { bool_value: v };
  if (typeof v === 'number') return Number.isInteger(v) ? { int_value: String(v) } : { double_value: v };
  if (Array.isArray(v)) return { array_value: { values: v.map(anyValue) } };
  if (v && typeof v === 'object') return { kvlist_value: { values: Object.entries(v).map(([key, value]) => ({ key, value: anyValue(value) })) } };
  return {};
}

/** One stored span as OpenTelemetry proto JSON; attribute values decoded, as the client re-encodes them. */
export function spanToOtelJson(span: SpanDict): Json {
  const keyValues = (attrs: Record<string, unknown>, decode: boolean): Json[] =>
    Object.keys(attrs).map((key) => ({ key, value: anyValue(decode ? attributeValue(attrs, key) : attrs[key]) }));
  const out: Json = {
    trace_id: span.trace_id,
    span_id: span.span_id,
    name: span.name,
    start_time_unix_nano: String(span.start_time_unix_nano),
    attributes: keyValues(span.attributes, true),
    events: span.events.map((e) => ({ name: e.name, time_unix_nano: String(e.time_unix_nano), attributes: keyValues(e.attributes ?? {}, false) })),
    status: { code: span.status.code.startsWith('STATUS_CODE_') ? span.status.code : `STATUS_CODE_${span.status.code}`, message: span.status.message ?? '' },
  };
  if (span.parent_span_id) out.parent_span_id = span.parent_span_id;
  if (span.end_time_unix_nano !== null && span.end_time_unix_nano !== undefined) out.end_time_unix_nano = String(span.end_time_unix_nano);
  if (span.trace_state) out.trace_state = span.trace_state;
  return out;
}
