/**
 * Trace info from a batch of OTLP spans, as MLflow 3.17.2's `log_spans` derives it: time range
 * over all spans, state from the root span, previews from the root's (translated) inputs and
 * outputs, token usage over the span tree, session and user from the first span carrying them,
 * and tags from the resource and the root's `mlflow.traceTag.*` attributes. Pure: the store
 * gathers what it knows of the trace, this computes the op.
 */
import { MAX_ENTITY_KEY_LENGTH, MAX_TAG_VAL_LENGTH } from '../limits';
import type { KV } from '../opTypes';
import { aggregateUsage, CACHE_USAGE_KEYS, OtelKeys, storedUsage, translateSpan, truncatedPreview, USAGE_KEYS, type Usage, type UsageNode } from './otelTranslate';
import { tryJson, truthy } from './otelTranslators';
import { pyJsonDumps } from '../../domain/pyJson';
import type { JournalSpan, TraceOp } from './traceOps';
import { TraceKeys, type SpanDict, type SpanSummary, type TraceState } from '../../domain/traceTypes';

/** Service names MLflow copies onto a root span (`_KNOWN_SERVICE_NAMES` in otel_api.py). */
export const KNOWN_SERVICE_NAMES = new Set(['claude-code', 'codex_cli_rs', 'codex_vscode', 'gemini-cli', 'qwen-code']);
const TRACE_TAG_PREFIX = 'mlflow.traceTag.';
const MAX_METADATA_CHARS = 8000;

/** What the store holds for the trace before this batch (undefined fields: a new trace). */
export interface TraceSoFar {
  exists: boolean;
  finalized: boolean;
  requestTime?: number;
  executionMs?: number | null;
  state?: TraceState;
  hasRequestPreview: boolean;
  hasResponsePreview: boolean;
  hasSession: boolean;
  hasUser: boolean;
  /** The trace's recorded usage (`mlflow.trace.tokenUsage`), if any. */
  tokenUsage: Usage | undefined;
  /** Usage nodes of spans already stored (re-sent ones are dropped by span id). */
  storedUsage: UsageNode[];
}

export interface BatchSpan {
  span: SpanDict;
  summary: SpanSummary;
}

/** A JSON-encoded string attribute's text (`_try_parse_json_string`). */
function plainString(v: unknown): unknown {
  const parsed = tryJson(v);
  return typeof parsed === 'string' ? parsed : v;
}

/** Root spans get the resource's service name when it is one MLflow recognises. */
export function withServiceName(span: SpanDict, resource: Record<string, unknown>): SpanDict {
  const name = resource['service.name'];
  if (span.parent_span_id !== null || name === undefined || name === null || !KNOWN_SERVICE_NAMES.has(String(name))) return span;
  return { ...span, attributes: { ...span.attributes, 'service.name': pyJsonDumps(String(name)) } };
}

export { translateSpan };

function tagOk(key: string, value: string): boolean {
  return key !== '' && key.length <= MAX_ENTITY_KEY_LENGTH && value.length <= MAX_TAG_VAL_LENGTH;
}

function inColumnOrder(u: Usage): Usage {
  const out: Usage = {};
  for (const k of [...USAGE_KEYS, ...CACHE_USAGE_KEYS]) if (u[k] !== undefined) out[k] = u[k]!;
  return out;
}

export function planIngest(
  traceId: string,
  exp: number,
  batch: BatchSpan[],
  resource: Record<string, unknown> | undefined,
  known: TraceSoFar,
  journalSpan: (s: SpanSummary) => JournalSpan,
): Extract<TraceOp, { t: 'tr.upsert' }> {
  const starts = batch.map((b) => Math.floor(b.summary.startUs / 1000));
  const ends = batch.flatMap((b) => (b.summary.endUs === null ? [] : [Math.floor(b.summary.endUs / 1000)]));
  const minStart = Math.min(...starts);
  const maxEnd = ends.length ? Math.max(...ends) : undefined;
  const op: Extract<TraceOp, { t: 'tr.upsert' }> = { t: 'tr.upsert', id: traceId, exp, time: minStart, metadata: [], tags: [], spans: batch.map((b) => journalSpan(b.summary)) };

  if (!known.exists) {
    op.durationMs = maxEnd ? maxEnd - minStart : null;
  } else if (known.finalized) {
    op.time = known.requestTime!;
  } else if (maxEnd !== undefined) {
    const time = Math.min(known.requestTime!, minStart);
    const oldEnd = known.executionMs === null || known.executionMs === undefined ? undefined : known.requestTime! + known.executionMs;
    op.durationMs = (oldEnd !== undefined && oldEnd > maxEnd ? oldEnd : maxEnd) - time;
  }

  const root = batch.find((b) => b.span.parent_span_id === null);
  const rootState: TraceState | undefined = root ? (root.summary.status === 'ERROR' ? 'ERROR' : 'OK') : undefined;
  if (!known.exists) op.state = rootState ?? 'IN_PROGRESS';
  else if ((known.state === 'IN_PROGRESS' || known.state === 'STATE_UNSPECIFIED') && rootState) op.state = rootState;

  const trailingTags: KV[] = [];
  if (root) {
    const attrs = root.span.attributes;
    const inputs = attrs[OtelKeys.inputs];
    const outputs = attrs[OtelKeys.outputs];
    if (!known.hasRequestPreview && typeof inputs === 'string' && inputs !== '') op.requestPreview = truncatedPreview(inputs, 'user');
    if (!known.hasResponsePreview && typeof outputs === 'string' && outputs !== '') op.responsePreview = truncatedPreview(outputs, 'assistant');
    for (const [key, value] of Object.entries(attrs)) {
      if (!key.startsWith(TRACE_TAG_PREFIX)) continue;
      const tagKey = key.slice(TRACE_TAG_PREFIX.length);
      const tagValue = String(plainString(value));
      if (tagOk(tagKey, tagValue)) trailingTags.push([tagKey, tagValue]);
    }
  }

  // Resource attributes become tags first, so the root's own trace tags win a collision.
  for (const [key, value] of Object.entries(resource ?? {})) {
    if (key.startsWith('telemetry.sdk.') || key.startsWith('mlflow.')) continue;
    const text = typeof value === 'string' ? value : pyJsonDumps(value);
    if (tagOk(key, text)) op.tags.push([key, text]);
  }
  op.tags.push(...trailingTags);

  let session: unknown;
  let user: unknown;
  for (const { span } of batch) {
    const a = span.attributes;
    if (session === undefined) {
      const s = truthy(a['session.id']) ? a['session.id'] : truthy(a['gen_ai.conversation.id']) ? a['gen_ai.conversation.id'] : undefined;
      if (s !== undefined) session = plainString(s);
    }
    if (user === undefined && truthy(a['user.id'])) user = plainString(a['user.id']);
  }
  if (session !== undefined && !known.hasSession && String(session).length <= MAX_METADATA_CHARS) op.metadata.push([TraceKeys.session, String(session)]);
  if (user !== undefined && !known.hasUser) op.metadata.push([TraceKeys.user, String(user)]);

  const nodes: UsageNode[] = batch.map((b) => ({ spanId: b.summary.spanId, parentId: b.summary.parentId, usage: storedUsage(b.span.attributes[OtelKeys.chatUsage]) }));
  const batchUsage = aggregateUsage(nodes);
  if (batchUsage && !(known.finalized && known.tokenUsage !== undefined)) {
    const inBatch = new Set(nodes.map((n) => n.spanId));
    const usage = known.exists ? aggregateUsage([...nodes, ...known.storedUsage.filter((n) => !inBatch.has(n.spanId))]) : batchUsage;
    // MLflow keeps usage in one column per key and writes only the keys the new total has: a key
    // it lacks keeps its earlier value. Read back, the keys come in column order.
    if (usage) op.metadata.push([TraceKeys.tokenUsage, pyJsonDumps(inColumnOrder({ ...(known.tokenUsage ?? {}), ...usage }))]);
  }
  return op;
}
