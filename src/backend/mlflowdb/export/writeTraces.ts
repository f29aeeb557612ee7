/**
 * Traces as the newest MLflow's SQL store keeps them: `trace_info` with the trace name, session
 * and token/cost analytics promoted out of tags and metadata into columns, spans as rows of the
 * `spans` table (each span's `Span.to_dict()` JSON in `content`), marked with the
 * `mlflow.trace.spansLocation = TRACKING_STORE` tag so MLflow reads them from there.
 */
import { pyJsonDumps } from '../../../domain/pyJson';
import type { SourceTrace } from '../../api/source';
import type { SpanDict } from '../../../domain/traceTypes';
import { assessmentColumns, durationToMs, nanosText, otelIdHex, rfc3339ToMs, spanStatus } from './encode';
import type { RowWriter } from './mlflowDb';

const KEY = {
  traceName: 'mlflow.traceName',
  artifactLocation: 'mlflow.artifactLocation',
  spansLocation: 'mlflow.trace.spansLocation',
  session: 'mlflow.trace.session',
  tokenUsage: 'mlflow.trace.tokenUsage',
  cost: 'mlflow.trace.cost',
  infoFinalized: 'mlflow.trace.infoFinalized',
  spanType: 'mlflow.spanType',
  model: 'mlflow.llm.model',
  modelProvider: 'mlflow.llm.provider',
  llmCost: 'mlflow.llm.cost',
} as const;

const TOKEN_COLUMNS = ['input_tokens', 'output_tokens', 'total_tokens', 'cache_read_input_tokens', 'cache_creation_input_tokens', 'cache_creation_input_tokens_above_1hr'] as const;
const COST_COLUMNS = ['input_cost', 'output_cost', 'total_cost'] as const;

function jsonObject(text: string | undefined): Record<string, unknown> {
  if (text === undefined) return {};
  try {
    const v = JSON.parse(text) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** An attribute value as the span dict holds it (JSON text), decoded when it is JSON. */
function attribute(attrs: Record<string, unknown>, key: string): unknown {
  const v = attrs[key];
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return v;
  }
}

function finiteOrNull(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function tokenCountOrNull(v: unknown): number | null {
  return typeof v === 'number' && Number.isInteger(v) ? v : null;
}

/** The columns MLflow promotes out of metadata: session id, token usage, cost. */
function analyticsColumns(metadata: Record<string, string>): Record<string, string | number | null> {
  const cols: Record<string, string | number | null> = {};
  if (metadata[KEY.session] !== undefined) cols.session_id = metadata[KEY.session]!;
  const usage = jsonObject(metadata[KEY.tokenUsage]);
  for (const c of TOKEN_COLUMNS) if (c in usage) cols[c] = tokenCountOrNull(usage[c]);
  const cost = jsonObject(metadata[KEY.cost]);
  for (const c of COST_COLUMNS) if (c in cost) cols[c] = finiteOrNull(cost[c]);
  return cols;
}

/** The span dict with its nanosecond times as exact integers (the stored text may hold them as strings). */
function exactTimes(s: SpanDict): unknown {
  const ns = (v: number | string | null | undefined): bigint | null => {
    const t = nanosText(v);
    return t === null ? null : BigInt(t);
  };
  return {
    ...s,
    start_time_unix_nano: ns(s.start_time_unix_nano),
    end_time_unix_nano: ns(s.end_time_unix_nano),
    events: (s.events ?? []).map((e) => ({ ...e, time_unix_nano: ns(e.time_unix_nano) })),
  };
}

/**
 * Writes one trace. `artifactLocation` is the experiment's exported location: MLflow records
 * `<it>/traces/<trace_id>/artifacts` on every trace, for attachments.
 */
export function writeTrace(w: RowWriter, t: SourceTrace, experimentLocation: string): void {
  const info = t.info;
  const traceId = info.trace_id;
  const experimentId = Number(info.trace_location.mlflow_experiment.experiment_id);
  const requestMs = rfc3339ToMs(info.request_time) ?? 0;
  const metadata = { ...info.trace_metadata };
  const analytics = analyticsColumns(metadata);
  delete metadata[KEY.session];
  delete metadata[KEY.tokenUsage];
  delete metadata[KEY.cost];
  metadata[KEY.infoFinalized] = 'true';
  const tags = { ...info.tags };
  const traceName = tags[KEY.traceName];
  delete tags[KEY.traceName];
  tags[KEY.artifactLocation] = `${experimentLocation.replace(/\/+$/, '')}/traces/${traceId}/artifacts`;
  if (t.spans.length > 0) tags[KEY.spansLocation] = 'TRACKING_STORE';

  w.insert('trace_info', {
    request_id: traceId,
    experiment_id: experimentId,
    timestamp_ms: requestMs,
    execution_time_ms: durationToMs(info.execution_duration) ?? null,
    status: info.state,
    client_request_id: info.client_request_id ?? null,
    request_preview: info.request_preview ?? null,
    response_preview: info.response_preview ?? null,
    trace_name: traceName ?? null,
    ...analytics,
  });
  for (const [key, value] of Object.entries(tags)) w.insert('trace_tags', { key, value, request_id: traceId });
  for (const [key, value] of Object.entries(metadata)) w.insert('trace_request_metadata', { key, value, request_id: traceId });

  for (const a of info.assessments) {
    const cols = assessmentColumns(a);
    const created = rfc3339ToMs(a.create_time) ?? requestMs;
    w.insert('assessments', {
      assessment_id: a.assessment_id,
      trace_id: traceId,
      name: a.assessment_name,
      assessment_type: cols.assessment_type,
      value: cols.value,
      error: cols.error,
      created_timestamp: created,
      last_updated_timestamp: rfc3339ToMs(a.last_update_time) ?? created,
      source_type: a.source.source_type,
      source_id: a.source.source_id ?? null,
      run_id: null,
      span_id: a.span_id ?? null,
      rationale: a.rationale ?? null,
      overrides: a.overrides ?? null,
      valid: a.valid === false ? 0 : 1,
      assessment_metadata: cols.metadata,
      experiment_id: experimentId,
      trace_timestamp_ms: requestMs,
      aggregate_value: cols.aggregate_value,
      is_numeric_value: cols.is_numeric_value,
    });
  }

  for (const s of t.spans) {
    const attrs = s.attributes ?? {};
    const cost = jsonObject(typeof attrs[KEY.llmCost] === 'string' ? (attrs[KEY.llmCost] as string) : undefined);
    const type = attribute(attrs, KEY.spanType);
    const model = attribute(attrs, KEY.model);
    const provider = attribute(attrs, KEY.modelProvider);
    w.insert(
      'spans',
      {
        trace_id: traceId,
        experiment_id: experimentId,
        span_id: otelIdHex(s.span_id)!,
        parent_span_id: otelIdHex(s.parent_span_id),
        name: s.name,
        type: typeof type === 'string' ? type : null,
        status: spanStatus(s.status?.code),
        start_time_unix_nano: nanosText(s.start_time_unix_nano) ?? '0',
        end_time_unix_nano: nanosText(s.end_time_unix_nano),
        // Non-ASCII kept as MLflow's SQLite store writes it, so `span.content` LIKE filters match.
        content: pyJsonDumps(exactTimes(s), { ensureAscii: false }),
        input_cost: finiteOrNull(cost.input_cost),
        output_cost: finiteOrNull(cost.output_cost),
        total_cost: finiteOrNull(cost.total_cost),
        model_name: typeof model === 'string' ? model.slice(0, 500) : null,
        model_provider: typeof provider === 'string' ? provider.slice(0, 500) : null,
      },
      true,
    );
  }
}
