/**
 * Trace data shaped for the views: MLflow wire trace infos → list rows, stored span dicts →
 * span views (decoded attributes, tokens, model, chat messages). Runs in the extension host and
 * in a browser page, so no Node APIs.
 */
import { attributeValue, nsToUs, parseTokenUsage, spanIdHex, spanModel, spanTokenUsage } from '../domain/spanDict';
import { SpanKeys, TraceKeys, type Assessment, type SpanDict, type TraceInfo } from '../domain/traceTypes';
import type { AssessmentView, ChatMessage, SpanView, TraceRow } from './protocol';


function durationMs(d: string | undefined): number | undefined {
  if (!d) return undefined;
  const n = Number(d.replace(/s$/, ''));
  return Number.isFinite(n) ? Math.round(n * 1000) : undefined;
}

export function toAssessmentView(a: Assessment): AssessmentView {
  const view: AssessmentView = {
    id: a.assessment_id,
    name: a.assessment_name,
    kind: a.expectation ? 'expectation' : 'feedback',
    value: a.feedback ? a.feedback.value : (a.expectation?.value ?? a.expectation?.serialized_value?.value),
    sourceType: a.source?.source_type ?? 'SOURCE_TYPE_UNSPECIFIED',
    valid: a.valid !== false,
    time: Date.parse(a.last_update_time ?? a.create_time) || 0,
  };
  if (a.rationale) view.rationale = a.rationale;
  if (a.source?.source_id) view.sourceId = a.source.source_id;
  if (a.span_id) view.spanId = a.span_id;
  const err = a.feedback?.error ?? a.error;
  if (err?.error_message || err?.error_code) view.error = [err.error_code, err.error_message].filter(Boolean).join(': ');
  return view;
}

export function toTraceRow(info: TraceInfo): TraceRow {
  const meta = info.trace_metadata ?? {};
  const tags = info.tags ?? {};
  const row: TraceRow = {
    traceId: info.trace_id,
    experimentId: info.trace_location?.mlflow_experiment?.experiment_id ?? '',
    name: tags[TraceKeys.traceName] ?? info.trace_id,
    state: info.state,
    requestTime: Date.parse(info.request_time) || 0,
    tags: Object.fromEntries(Object.entries(tags).filter(([k]) => !k.startsWith('mlflow.'))),
    assessments: (info.assessments ?? []).map(toAssessmentView),
  };
  const d = durationMs(info.execution_duration);
  if (d !== undefined) row.durationMs = d;
  if (info.request_preview) row.requestPreview = info.request_preview;
  if (info.response_preview) row.responsePreview = info.response_preview;
  if (meta[TraceKeys.session]) row.sessionId = meta[TraceKeys.session];
  if (meta[TraceKeys.user]) row.userId = meta[TraceKeys.user];
  if (meta[TraceKeys.sourceRun]) row.runId = meta[TraceKeys.sourceRun];
  const usage = parseTokenUsage(meta[TraceKeys.tokenUsage]);
  if (usage) row.tokens = { input: usage.input_tokens, output: usage.output_tokens, total: usage.total_tokens };
  return row;
}

// ---- chat messages --------------------------------------------------------------------------

function text(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => (typeof part === 'string' ? part : part && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string' ? (part as { text: string }).text : JSON.stringify(part)))
      .join('\n');
  }
  return content === undefined || content === null ? '' : JSON.stringify(content);
}

function toMessage(m: unknown): ChatMessage | undefined {
  if (!m || typeof m !== 'object') return undefined;
  const o = m as Record<string, unknown>;
  if (typeof o.role !== 'string') return undefined;
  const msg: ChatMessage = { role: o.role, content: text(o.content) };
  if (typeof o.name === 'string') msg.name = o.name;
  if (Array.isArray(o.tool_calls)) {
    msg.toolCalls = o.tool_calls.map((c) => {
      const fn = (c as { function?: { name?: unknown; arguments?: unknown } }).function;
      return fn ? `${String(fn.name)}(${typeof fn.arguments === 'string' ? fn.arguments : JSON.stringify(fn.arguments)})` : JSON.stringify(c);
    });
  }
  return msg;
}

function messagesOf(value: unknown): ChatMessage[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const out = value.map(toMessage);
  return out.every((m): m is ChatMessage => m !== undefined) && out.length > 0 ? out : undefined;
}

/** MLflow's `mlflow.chat.messages`, else OpenAI-style `messages` in and `choices[].message` out. */
export function chatMessages(attributes: Record<string, unknown>, inputs: unknown, outputs: unknown): ChatMessage[] | undefined {
  const logged = messagesOf(attributeValue(attributes, SpanKeys.chatMessages));
  if (logged) return logged;
  const asked = inputs && typeof inputs === 'object' ? messagesOf((inputs as { messages?: unknown }).messages) : undefined;
  if (!asked) return undefined;
  const choices = outputs && typeof outputs === 'object' ? (outputs as { choices?: unknown }).choices : undefined;
  const reply = Array.isArray(choices) ? toMessage((choices[0] as { message?: unknown } | undefined)?.message) : undefined;
  return reply ? [...asked, reply] : asked;
}

const HIDDEN_ATTRIBUTES = new Set<string>([SpanKeys.requestId, SpanKeys.type, SpanKeys.inputs, SpanKeys.outputs, SpanKeys.chatMessages]);

/** OTLP senders may put JSON text in a string attribute; show it as the structure it is. */
function structured(v: unknown): unknown {
  if (typeof v !== 'string' || !/^\s*[[{]/.test(v)) return v;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return v;
  }
}

export function toSpanView(span: SpanDict): SpanView {
  const attrs = span.attributes ?? {};
  const inputs = structured(attributeValue(attrs, SpanKeys.inputs));
  const outputs = structured(attributeValue(attrs, SpanKeys.outputs));
  const type = attributeValue(attrs, SpanKeys.type);
  const code = span.status?.code ?? '';
  const view: SpanView = {
    spanId: spanIdHex(span.span_id),
    parentId: span.parent_span_id ? spanIdHex(span.parent_span_id) : null,
    name: span.name,
    type: typeof type === 'string' && type ? type : 'UNKNOWN',
    status: /OK$/.test(code) ? 'OK' : /ERROR$/.test(code) ? 'ERROR' : 'UNSET',
    startUs: nsToUs(span.start_time_unix_nano) ?? 0,
    endUs: nsToUs(span.end_time_unix_nano),
    attributes: Object.fromEntries(Object.keys(attrs).filter((k) => !HIDDEN_ATTRIBUTES.has(k)).map((k) => [k, attributeValue(attrs, k)])),
    events: (span.events ?? []).map((e) => ({ name: e.name, timeUs: nsToUs(e.time_unix_nano) ?? 0, attributes: e.attributes ?? {} })),
  };
  if (span.status?.message) view.statusMessage = span.status.message;
  if (inputs !== undefined) view.inputs = inputs;
  if (outputs !== undefined) view.outputs = outputs;
  const usage = spanTokenUsage(attrs);
  if (usage) view.tokens = { input: usage.input_tokens, output: usage.output_tokens, total: usage.total_tokens };
  const model = spanModel(attrs, inputs);
  if (model) view.model = model;
  const messages = chatMessages(attrs, inputs, outputs);
  if (messages) view.messages = messages;
  return view;
}
