/**
 * MLflow 2's trace RPCs (StartTrace, EndTrace, GetTraceInfo, SearchTraces under /api/2.0), which
 * MLflow 3.17.2's server still answers for 2.x clients: the v2 TraceInfo shape (request_id,
 * timestamp_ms, execution_time_ms, status, request_metadata and tags as key/value lists) over
 * the same v3 store. Tags and delete-traces are shared with v3 (see traces.ts).
 */
import { randomBytes } from 'node:crypto';
import { invalidParameter } from '../../domain/errors';
import { SEARCH_TRACES_MAX_RESULTS, type TraceStore } from '../../backend/api/traces';
import type { TraceInfo, TraceState } from '../../domain/traceTypes';
import { missingParameter, type Fields } from '../requestFields';
import type { Router } from '../router';
import { parseDuration } from '../traceWire';

const STATE_TO_STATUS: Record<TraceState, string> = { STATE_UNSPECIFIED: 'TRACE_STATUS_UNSPECIFIED', OK: 'OK', ERROR: 'ERROR', IN_PROGRESS: 'IN_PROGRESS' };
const STATUS_TO_STATE: Record<string, TraceState> = { TRACE_STATUS_UNSPECIFIED: 'STATE_UNSPECIFIED', OK: 'OK', ERROR: 'ERROR', IN_PROGRESS: 'IN_PROGRESS' };
const STATUS_NUMBERS = ['TRACE_STATUS_UNSPECIFIED', 'OK', 'ERROR', 'IN_PROGRESS'];

/** Whether the request came in under the 2.0 API (where POST /mlflow/traces is StartTrace). */
export function isV2Path(path: string): boolean {
  return /^\/(?:ajax-)?api\/2\.0\//.test(path);
}

/** A repeated {key, value} message (TraceRequestMetadata, TraceTag) as a map. */
function keyValueList(v: unknown, name: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (!Array.isArray(v)) throw invalidParameter(`Invalid value ${JSON.stringify(v).slice(0, 100)} for parameter '${name}' supplied: expected a list of {key, value}.`);
  const out: Record<string, string> = {};
  v.forEach((item: unknown, i) => {
    const o = (item ?? {}) as Record<string, unknown>;
    if (typeof o !== 'object' || typeof o.key !== 'string') throw missingParameter(`${name}[${i}].key`);
    if (o.value !== undefined && o.value !== null && typeof o.value !== 'string') {
      throw invalidParameter(`Invalid value ${JSON.stringify(o.value).slice(0, 100)} for parameter '${name}[${i}].value' supplied: expected a string.`);
    }
    out[o.key] = (o.value as string | undefined) ?? '';
  });
  return out;
}

/** An absent timestamp reads 0, as the proto default MLflow's handler takes. */
function timestampMs(fields: Fields): number {
  return fields.int('timestamp_ms') ?? 0;
}

export function traceInfoV2(info: TraceInfo): Record<string, unknown> {
  return {
    request_id: info.trace_id,
    experiment_id: info.trace_location.mlflow_experiment.experiment_id,
    timestamp_ms: Date.parse(info.request_time),
    // As MLflow: an unfinished trace's execution time reads 0.
    execution_time_ms: parseDuration(info.execution_duration, 'execution_duration') ?? 0,
    status: STATE_TO_STATUS[info.state],
    // Proto JSON leaves out an empty repeated field.
    ...keyValues('request_metadata', info.trace_metadata),
    ...keyValues('tags', info.tags),
  };
}

function keyValues(name: string, map: Record<string, string>): Record<string, { key: string; value: string }[]> {
  const list = Object.entries(map).map(([key, value]) => ({ key, value }));
  return list.length ? { [name]: list } : {};
}

function statusOf(v: unknown): TraceState {
  if (v === undefined || v === null) return 'STATE_UNSPECIFIED';
  const name = typeof v === 'number' ? STATUS_NUMBERS[v] : String(v);
  const state = name === undefined ? undefined : STATUS_TO_STATE[name];
  if (!state) throw invalidParameter(`Invalid value ${JSON.stringify(v)} for parameter 'status' supplied. Expected one of ${STATUS_NUMBERS.join(', ')}.`);
  return state;
}

/** StartTrace (v2): a new trace with a random request id, in progress until EndTrace. */
export async function startTraceV2(traces: TraceStore, fields: Fields): Promise<unknown> {
  const experimentId = fields.string('experiment_id');
  if (!experimentId) throw missingParameter('experiment_id');
  const info = await traces.start({
    traceId: randomBytes(16).toString('hex'),
    experimentId,
    requestTimeMs: timestampMs(fields),
    state: 'IN_PROGRESS',
    metadata: keyValueList(fields.source.request_metadata, 'request_metadata'),
    tags: keyValueList(fields.source.tags, 'tags'),
    assessments: [],
    finalized: false,
  });
  return { trace_info: traceInfoV2(info) };
}

export function registerTraceV2Routes(router: Router, traces: TraceStore): void {
  router.api('PATCH', '/mlflow/traces/:request_id', async ({ pathParams, fields }) => {
    const info = await traces.endV2(
      pathParams.request_id!,
      timestampMs(fields),
      statusOf(fields.source.status),
      keyValueList(fields.source.request_metadata, 'request_metadata'),
      keyValueList(fields.source.tags, 'tags'),
    );
    return { trace_info: traceInfoV2(info) };
  });

  router.api('GET', '/mlflow/traces/:request_id/info', async ({ pathParams }) => ({ trace_info: traceInfoV2(await traces.get(pathParams.request_id!)) }));

  router.api('GET', '/mlflow/traces', async ({ fields }) => {
    const experimentIds = fields.strings('experiment_ids');
    if (experimentIds.length === 0) throw missingParameter('experiment_ids');
    const maxResults = fields.int('max_results');
    if (maxResults !== undefined && maxResults > SEARCH_TRACES_MAX_RESULTS) {
      // MLflow's wording for this GET parameter (query values are strings to its validator).
      throw invalidParameter(`Invalid value "${maxResults}" for parameter 'max_results' supplied:  Hint: Value was of type 'str'. See the API docs for more information about request parameters.`);
    }
    const page = await traces.search({
      experimentIds,
      filter: fields.string('filter') || undefined,
      maxResults,
      orderBy: fields.strings('order_by'),
      pageToken: fields.string('page_token') || undefined,
    });
    return { traces: page.items.map(traceInfoV2), ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}) };
  });
}
