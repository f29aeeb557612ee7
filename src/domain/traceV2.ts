/**
 * MLflow 2.x's trace shapes read as the v3 ones Runlens keeps: a TraceInfo from its
 * `/api/2.0/mlflow/traces` endpoints, and the span dicts its clients wrote to traces.json.
 */
import { invalidParameter } from './errors';
import { int, obj, str, tagList } from './jsonRead';
import type { TraceInfo, TraceState } from './traceTypes';

const V2_TRACE_STATUS: Record<string, TraceState> = { OK: 'OK', ERROR: 'ERROR', IN_PROGRESS: 'IN_PROGRESS' };

/**
 * A TraceInfo from MLflow 2.x's `/api/2.0/mlflow/traces` (request id, ms timestamps, key/value
 * lists), as `TraceInfoV2.to_v3()` maps it: the previews come from the request metadata.
 */
export function traceInfoFromV2(v: unknown): TraceInfo {
  const t = obj(v);
  const metadata = Object.fromEntries(tagList(t.request_metadata).map((x) => [x.key, x.value]));
  const { 'mlflow.traceInputs': request, 'mlflow.traceOutputs': response, ...rest } = metadata;
  const ms = int(t.execution_time_ms, -1);
  return {
    trace_id: str(t.request_id),
    trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: str(t.experiment_id) } },
    ...(request !== undefined ? { request_preview: request } : {}),
    ...(response !== undefined ? { response_preview: response } : {}),
    request_time: new Date(int(t.timestamp_ms)).toISOString(),
    ...(ms >= 0 ? { execution_duration: `${ms / 1000}s` } : {}),
    state: V2_TRACE_STATUS[str(t.status)] ?? 'STATE_UNSPECIFIED',
    trace_metadata: rest,
    tags: Object.fromEntries(tagList(t.tags).map((x) => [x.key, x.value])),
    assessments: [],
  };
}

/** A span dict in MLflow 2's shape (`context` instead of `span_id`). */
export function isV2SpanDict(given: Record<string, unknown>): boolean {
  return given.span_id === undefined && given.context !== null && typeof given.context === 'object' && !Array.isArray(given.context);
}

/** A `0x…` or bare hex id of MLflow 2's span dicts → base64, as v3 span dicts write ids. */
function v2Id(value: unknown, where: string): string {
  const hex = typeof value === 'string' ? value.replace(/^0x/i, '') : '';
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(hex)) throw invalidParameter(`${where} must be a hex id.`);
  let bin = '';
  for (let i = 0; i < hex.length; i += 2) bin += String.fromCharCode(parseInt(hex.slice(i, i + 2), 16));
  return btoa(bin);
}

const V2_STATUS: Record<string, string> = { OK: 'STATUS_CODE_OK', ERROR: 'STATUS_CODE_ERROR', UNSET: 'STATUS_CODE_UNSET' };

/**
 * MLflow 2.x clients write spans as `{name, context: {span_id, trace_id}, parent_id, start_time,
 * end_time, status_code, status_message, attributes, events: [{name, timestamp, attributes}]}`;
 * read as the v3 dict (the uploaded file itself is kept as written, for those clients to read).
 */
export function fromV2SpanDict(s: Record<string, unknown>, where: string): Record<string, unknown> {
  const ctx = s.context as Record<string, unknown>;
  const events = Array.isArray(s.events) ? (s.events as Record<string, unknown>[]) : s.events;
  return {
    trace_id: v2Id(ctx.trace_id, `${where}.context.trace_id`),
    span_id: v2Id(ctx.span_id, `${where}.context.span_id`),
    parent_span_id: s.parent_id === null || s.parent_id === undefined || s.parent_id === '' ? null : v2Id(s.parent_id, `${where}.parent_id`),
    name: s.name,
    start_time_unix_nano: s.start_time,
    end_time_unix_nano: s.end_time ?? null,
    attributes: s.attributes,
    status: { code: V2_STATUS[String(s.status_code)] ?? 'STATUS_CODE_UNSET', message: typeof s.status_message === 'string' ? s.status_message : '' },
    events: Array.isArray(events)
      ? events.map((e) => (e && typeof e === 'object' ? { name: e.name, time_unix_nano: e.timestamp ?? e.time_unix_nano ?? 0, attributes: e.attributes ?? {} } : e))
      : events,
  };
}

