/**
 * Traces of an `mlflow.db` as MLflow's SqlAlchemyStore returns them (`SqlTraceInfo` and
 * `SqlAssessments.to_mlflow_entity`): 2.x rows (no previews) read as v3 trace infos, metadata the
 * newest schema promoted to columns (session, token usage, cost) put back as metadata, spans from
 * the `spans` table when the trace says they live there, else from the trace's `traces.json`.
 */
import type { SqlValue } from 'sql.js';
import type { SqlDb } from '../../store/sqlite';
import { placeholders } from '../../store/sqlite';
import { pyFloat } from '../../domain/pyJson';
import { checkSpanDict } from '../../store/traces/spanCodec';
import { durationJson, timestampJson } from '../../store/traces/traceRows';
import { TraceKeys, type Assessment, type AssessmentError, type AssessmentSourceType, type SpanDict, type TraceInfo } from '../../domain/traceTypes';
import type { SourceTrace } from '../api/source';
import { parseSpanJson, traceState } from '../transfer/traceArtifacts';
import type { DbSchema } from './dbSchema';
import { push, str } from './dbTracking';

const TRACE_CHUNK = 200;
const TRACKING_STORE = 'TRACKING_STORE';
const TOKEN_COLUMNS = ['input_tokens', 'output_tokens', 'total_tokens', 'cache_read_input_tokens', 'cache_creation_input_tokens', 'cache_creation_input_tokens_above_1hr'];
const COST_COLUMNS = ['input_cost', 'output_cost', 'total_cost'];
const PROMOTED_METADATA = new Set(['mlflow.trace.session', TraceKeys.tokenUsage, 'mlflow.trace.cost']);

/** Every trace of an experiment, a chunk at a time; `artifactSpans` reads a trace's uploaded spans. */
export function* readTraces(db: SqlDb, schema: DbSchema, experimentId: string, artifactSpans: (artifactLocation: string | undefined) => SpanDict[]): Generator<SourceTrace[]> {
  if (!schema.has('trace_info')) return;
  const t = 'trace_info';
  const extra = [...TOKEN_COLUMNS, ...COST_COLUMNS, 'session_id', 'trace_name', 'client_request_id', 'request_preview', 'response_preview'];
  const promoted = schema.hasColumn(t, 'session_id') && TOKEN_COLUMNS.every((c) => schema.hasColumn(t, c));
  const rows = db.all<Record<string, SqlValue>>(
    `SELECT t.request_id, t.experiment_id, t.timestamp_ms, t.execution_time_ms, t.status, ${extra.map((c) => schema.col(t, c, 't')).join(', ')}
     FROM trace_info t WHERE t.experiment_id = ? ORDER BY t.timestamp_ms DESC, t.request_id`,
    [Number(experimentId)],
  );
  for (let i = 0; i < rows.length; i += TRACE_CHUNK) {
    const chunk = rows.slice(i, i + TRACE_CHUNK);
    const ids = chunk.map((r) => String(r.request_id));
    const inList = `(${placeholders(ids.length)})`;
    const tags = keyValues(db, schema.has('trace_tags') ? `SELECT request_id, key, value FROM trace_tags WHERE request_id IN ${inList}` : undefined, ids);
    const metadata = keyValues(db, schema.has('trace_request_metadata') ? `SELECT request_id, key, value FROM trace_request_metadata WHERE request_id IN ${inList}` : undefined, ids);
    const assessments = schema.has('assessments') ? readAssessments(db, ids, inList) : new Map<string, Assessment[]>();
    const spans = schema.has('spans') ? spanRows(db, ids, inList) : new Map<string, SpanDict[]>();
    yield chunk.map((row) => {
      const id = String(row.request_id);
      const info = traceInfo(row, tags.get(id) ?? {}, metadata.get(id) ?? {}, assessments.get(id) ?? [], promoted);
      const inStore = info.tags[TraceKeys.spansLocation] === TRACKING_STORE;
      return { info, spans: inStore ? (spans.get(id) ?? []) : artifactSpans(info.tags[TraceKeys.artifactLocation]) };
    });
  }
}

/** `promoted`: the schema keeps session, token usage and cost in columns, and MLflow reads them only from there. */
function traceInfo(row: Record<string, SqlValue>, tags: Record<string, string>, metadata: Record<string, string>, assessments: Assessment[], promoted: boolean): TraceInfo {
  const outTags: Record<string, string> = {};
  for (const [k, v] of Object.entries(tags)) if (k !== TraceKeys.traceName || row.trace_name === null) outTags[k] = v;
  if (row.trace_name !== null) outTags[TraceKeys.traceName] = String(row.trace_name);
  const outMeta: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata)) if (!(promoted && PROMOTED_METADATA.has(k))) outMeta[k] = v;
  if (promoted) Object.assign(outMeta, metadataFromColumns(row));
  const info: TraceInfo = {
    trace_id: String(row.request_id),
    trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: String(row.experiment_id) } },
    request_time: timestampJson(Number(row.timestamp_ms)),
    state: traceState(str(row.status)),
    trace_metadata: outMeta,
    tags: outTags,
    assessments,
  };
  if (row.client_request_id !== null) info.client_request_id = String(row.client_request_id);
  if (row.request_preview !== null) info.request_preview = String(row.request_preview);
  if (row.response_preview !== null) info.response_preview = String(row.response_preview);
  if (row.execution_time_ms !== null) info.execution_duration = durationJson(Number(row.execution_time_ms));
  return info;
}

/** `compatibility_metadata_from_columns`: the JSON is Python's `json.dumps` of a dict in column order. */
function metadataFromColumns(row: Record<string, SqlValue>): Record<string, string> {
  const out: Record<string, string> = {};
  if (row.session_id !== null && row.session_id !== undefined) out['mlflow.trace.session'] = String(row.session_id);
  const tokens = TOKEN_COLUMNS.filter((c) => row[c] !== null && row[c] !== undefined).map((c) => `"${c}": ${Math.trunc(Number(row[c]))}`);
  if (tokens.length > 0) out[TraceKeys.tokenUsage] = `{${tokens.join(', ')}}`;
  const cost = COST_COLUMNS.filter((c) => row[c] !== null && row[c] !== undefined).map((c) => `"${c}": ${pyFloat(Number(row[c]))}`);
  if (cost.length > 0) out['mlflow.trace.cost'] = `{${cost.join(', ')}}`;
  return out;
}

function keyValues(db: SqlDb, sql: string | undefined, ids: string[]): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  if (sql === undefined) return out;
  for (const [owner, key, value] of db.rows(sql, ids)) {
    const o = out.get(String(owner)) ?? {};
    o[String(key)] = str(value);
    out.set(String(owner), o);
  }
  return out;
}

function spanRows(db: SqlDb, ids: string[], inList: string): Map<string, SpanDict[]> {
  const out = new Map<string, SpanDict[]>();
  const rows = db.rows(`SELECT trace_id, content FROM spans WHERE trace_id IN ${inList} ORDER BY trace_id, start_time_unix_nano`, ids);
  for (const [traceId, content] of rows) {
    // An archived trace keeps its rows with the payload cleared; its spans are elsewhere.
    if (content === null || content === '') continue;
    const list = out.get(String(traceId)) ?? [];
    list.push(checkSpanDict(parseSpanJson(String(content)), list.length));
    out.set(String(traceId), list);
  }
  return out;
}

function readAssessments(db: SqlDb, ids: string[], inList: string): Map<string, Assessment[]> {
  const out = new Map<string, Assessment[]>();
  const rows = db.all<Record<string, SqlValue>>(
    `SELECT assessment_id, trace_id, name, assessment_type, value, error, created_timestamp, last_updated_timestamp, source_type, source_id, span_id, rationale, overrides, valid, assessment_metadata
     FROM assessments WHERE trace_id IN ${inList} ORDER BY created_timestamp, assessment_id`,
    ids,
  );
  for (const r of rows) {
    const a = assessment(r);
    if (a) push(out, String(r.trace_id), a);
  }
  return out;
}

function assessment(r: Record<string, SqlValue>): Assessment | undefined {
  const type = str(r.assessment_type);
  // MLflow 3.17's issue references have no place in the Assessment shape Runlens keeps.
  if (type !== 'feedback' && type !== 'expectation') return undefined;
  const a: Assessment = {
    assessment_id: String(r.assessment_id),
    assessment_name: str(r.name),
    trace_id: String(r.trace_id),
    source: { source_type: str(r.source_type) as AssessmentSourceType, source_id: str(r.source_id) },
    create_time: timestampJson(Number(r.created_timestamp)),
    last_update_time: timestampJson(Number(r.last_updated_timestamp)),
    valid: r.valid === null ? true : Boolean(r.valid),
  };
  const text = r.value === null ? 'null' : String(r.value);
  const value: unknown = JSON.parse(text);
  if (type === 'feedback') {
    a.feedback = { value };
    if (r.error !== null) a.feedback.error = assessmentError(JSON.parse(String(r.error)) as Record<string, unknown>);
  } else if (value !== null && typeof value === 'object') {
    a.expectation = { serialized_value: { serialization_format: 'JSON_FORMAT', value: text } };
  } else {
    a.expectation = { value };
  }
  if (r.span_id !== null) a.span_id = String(r.span_id);
  if (r.rationale !== null) a.rationale = String(r.rationale);
  if (r.overrides !== null) a.overrides = String(r.overrides);
  if (r.assessment_metadata !== null) {
    const meta = JSON.parse(String(r.assessment_metadata)) as Record<string, unknown> | null;
    if (meta && Object.keys(meta).length > 0) a.metadata = Object.fromEntries(Object.entries(meta).map(([k, v]) => [k, pyStr(v)]));
  }
  return a;
}

function assessmentError(e: Record<string, unknown>): AssessmentError {
  const out: AssessmentError = {};
  if (typeof e.error_code === 'string') out.error_code = e.error_code;
  if (typeof e.error_message === 'string') out.error_message = e.error_message;
  if (typeof e.stack_trace === 'string') out.stack_trace = e.stack_trace;
  return out;
}

/** Python's `str()` of a JSON value: what MLflow writes into an assessment's string-only metadata map. */
function pyStr(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (v === null) return 'None';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : pyFloat(v);
  return JSON.stringify(v);
}
