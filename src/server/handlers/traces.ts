/**
 * Trace RPCs of MLflow 3 (service.proto: StartTraceV3 … DeleteAssessment) and OTLP/HTTP
 * `POST /v1/traces`. The client's traces.json upload arrives through the artifact proxy (see
 * artifacts.ts), because /version reports a server older than 3.4.
 */
import { invalidParameter } from '../../domain/errors';
import type { TrackingStore } from '../../backend/api/tracking';
import { SEARCH_TRACES_MAX_RESULTS } from '../../backend/api/traces';
import { registerOtlpRoute } from '../otlp/otlpRoute';
import { missingParameter, type Fields } from '../requestFields';
import type { Router } from '../router';
import { parseAssessment, parseStartTrace, parseUpdateMask, spanToOtelJson } from '../traceWire';
import { wirePage } from '../wire';
import { registerTraceMetricsRoute } from './traceMetrics';
import { isV2Path, registerTraceV2Routes, startTraceV2 } from './tracesV2';

const BATCH_GET_MAX_IDS = 100;

function experimentIdsOf(fields: Fields): string[] {
  const ids = fields.objects('locations').map((loc, i) => {
    const type = loc.type ?? 'MLFLOW_EXPERIMENT';
    if (type !== 'MLFLOW_EXPERIMENT') throw invalidParameter(`Unsupported trace location type '${String(type)}' in locations[${i}].`);
    const exp = (loc.mlflow_experiment ?? {}) as Record<string, unknown>;
    if (exp.experiment_id === undefined || exp.experiment_id === '') throw missingParameter(`locations[${i}].mlflow_experiment.experiment_id`);
    return String(exp.experiment_id);
  });
  // The v2 request shape, still sent by some callers.
  ids.push(...fields.strings('experiment_ids'));
  if (ids.length === 0) throw missingParameter('locations');
  return ids;
}

export function registerTraceRoutes(router: Router, store: TrackingStore): void {
  const traces = store.traces;

  // One path, two RPCs: StartTrace (MLflow 2) under /api/2.0, StartTraceV3 under /api/3.0.
  router.api('POST', '/mlflow/traces', async ({ path, fields }) => {
    if (isV2Path(path) && fields.source.trace === undefined) return startTraceV2(traces, fields);
    const info = await traces.start(parseStartTrace(fields.source));
    return { trace: { trace_info: info } };
  });
  registerTraceV2Routes(router, traces);
  registerTraceMetricsRoute(router, traces);

  router.api('GET', '/mlflow/traces/:trace_id', async ({ pathParams }) => ({ trace: { trace_info: await traces.get(pathParams.trace_id!) } }));

  const fullTrace = async (traceId: string): Promise<Record<string, unknown>> => ({
    trace_info: await traces.get(traceId),
    spans: (await traces.readSpans(traceId)).map(spanToOtelJson),
  });

  router.api('GET', '/mlflow/traces/get', async ({ fields }) => ({ trace: await fullTrace(fields.requiredString('trace_id')) }));

  router.api('GET', '/mlflow/traces/batchGet', async ({ fields }) => {
    const ids = fields.strings('trace_ids');
    if (ids.length === 0) throw missingParameter('trace_ids');
    if (ids.length > BATCH_GET_MAX_IDS) throw invalidParameter(`At most ${BATCH_GET_MAX_IDS} trace_ids per request; got ${ids.length}.`);
    const infos = await traces.getMany(ids);
    return { traces: await Promise.all(infos.map(async (info) => ({ trace_info: info, spans: (await traces.readSpans(info.trace_id)).map(spanToOtelJson) }))) };
  });

  router.api('POST', '/mlflow/traces/batchGetInfos', async ({ fields }) => {
    const ids = fields.strings('trace_ids');
    if (ids.length > BATCH_GET_MAX_IDS) throw invalidParameter(`At most ${BATCH_GET_MAX_IDS} trace_ids per request; got ${ids.length}.`);
    return { trace_infos: await traces.getMany(ids) };
  });

  router.api('POST', '/mlflow/traces/search', async ({ fields }) => {
    const page = await traces.search({
      experimentIds: experimentIdsOf(fields),
      filter: fields.string('filter') || undefined,
      maxResults: fields.int('max_results'),
      orderBy: fields.strings('order_by'),
      pageToken: fields.string('page_token'),
      maxResultsCap: SEARCH_TRACES_MAX_RESULTS,
    });
    return wirePage('traces', page);
  });

  router.api('POST', '/mlflow/traces/delete-traces', async ({ fields }) => {
    const deleted = await traces.delete({
      experimentId: fields.requiredString('experiment_id'),
      maxTimestampMillis: fields.int('max_timestamp_millis'),
      maxTraces: fields.int('max_traces'),
      traceIds: fields.strings('request_ids'),
    });
    return { traces_deleted: deleted };
  });

  router.api('PATCH', '/mlflow/traces/:trace_id/tags', async ({ pathParams, fields }) => {
    await traces.setTag(pathParams.trace_id!, fields.requiredString('key'), fields.string('value') ?? '');
    return {};
  });

  router.api('DELETE', '/mlflow/traces/:trace_id/tags', async ({ pathParams, fields }) => {
    await traces.deleteTag(pathParams.trace_id!, fields.requiredString('key'));
    return {};
  });

  router.api('POST', '/mlflow/traces/link-to-run', async ({ fields }) => {
    await traces.linkToRun(fields.strings('trace_ids'), fields.runId());
    return {};
  });

  router.api('POST', '/mlflow/traces/:trace_id/assessments', async ({ pathParams, fields }) => {
    const input = parseAssessment(fields.source.assessment);
    if (input.trace_id && input.trace_id !== pathParams.trace_id) {
      throw invalidParameter(`assessment.trace_id '${input.trace_id}' does not match the trace in the path ('${pathParams.trace_id!}').`);
    }
    return { assessment: await traces.createAssessment(pathParams.trace_id!, input) };
  });

  router.api('GET', '/mlflow/traces/:trace_id/assessments/:assessment_id', async ({ pathParams }) => ({
    assessment: await traces.getAssessment(pathParams.trace_id!, pathParams.assessment_id!),
  }));

  router.api('PATCH', '/mlflow/traces/:trace_id/assessments/:assessment_id', async ({ pathParams, fields }) => {
    const patch = parseAssessment(fields.source.assessment);
    const mask = parseUpdateMask(fields.source.update_mask);
    return { assessment: await traces.updateAssessment(pathParams.trace_id!, pathParams.assessment_id!, patch, mask) };
  });

  router.api('DELETE', '/mlflow/traces/:trace_id/assessments/:assessment_id', async ({ pathParams }) => {
    await traces.deleteAssessment(pathParams.trace_id!, pathParams.assessment_id!);
    return {};
  });

  // Runlens views: a trace with its spans as stored (MLflow span dicts), and sessions.
  router.plain('GET', '/runlens/api/trace', async ({ fields }) => {
    const traceId = fields.requiredString('trace_id');
    const { spans, errors } = await traces.readSpansNoting(traceId);
    return { trace_info: await traces.get(traceId), spans, ...(errors.length ? { spans_error: errors.join(' ') } : {}) };
  });

  router.plain('GET', '/runlens/api/trace-count', async ({ fields }) => {
    return { count: await traces.count([fields.requiredString('experiment_id')], fields.string('filter') || undefined) };
  });

  router.plain('GET', '/runlens/api/trace-sessions', async ({ fields }) => {
    const ids = fields.strings('experiment_ids').flatMap((s) => s.split(',')).filter(Boolean);
    if (ids.length === 0) throw missingParameter('experiment_ids');
    return { sessions: await traces.sessions(ids, fields.int('max_results') ?? 1000) };
  });

  // OTLP/HTTP: any OpenTelemetry SDK exporter pointed at <server>/v1/traces.
  registerOtlpRoute(router, traces, (ids, runId) => traces.linkToRun(ids, runId));
}
