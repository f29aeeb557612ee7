/**
 * Checking MLflow span dictionaries as they arrive (v3, or MLflow 2's shape) and the per-span
 * summary kept in sql.js. Reading ids, times and attribute values is in domain/spanDict.ts.
 */
import { invalidParameter } from '../../domain/errors';
import { attributeValue, isUnixNanos, nsToUs, spanIdHex } from '../../domain/spanDict';
import { spanContentText, TEXT_BLOOM_KEY, textBloom } from './spanText';
import { fromV2SpanDict, isV2SpanDict } from '../../domain/traceV2';
import { SpanKeys, type SpanDict, type SpanSummary } from '../../domain/traceTypes';

function statusOf(code: string | undefined): SpanSummary['status'] {
  if (code === 'STATUS_CODE_OK' || code === 'OK') return 'OK';
  if (code === 'STATUS_CODE_ERROR' || code === 'ERROR') return 'ERROR';
  return 'UNSET';
}

/** Checks the shape of one span dict (v3, or MLflow 2's); the message names the span and field at fault. */
export function checkSpanDict(value: unknown, index: number): SpanDict {
  const where = `spans[${index}]`;
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw invalidParameter(`${where} must be an object.`);
  const given = value as Record<string, unknown>;
  const s = isV2SpanDict(given) ? fromV2SpanDict(given, where) : given;
  if (typeof s.span_id !== 'string' || s.span_id === '') throw invalidParameter(`${where}.span_id must be a non-empty string.`);
  if (typeof s.name !== 'string') throw invalidParameter(`${where}.name must be a string.`);
  if (!isUnixNanos(s.start_time_unix_nano)) throw invalidParameter(`${where}.start_time_unix_nano must be an integer (nanoseconds, 0 to 2^64 - 1).`);
  if (s.end_time_unix_nano !== undefined && s.end_time_unix_nano !== null && !isUnixNanos(s.end_time_unix_nano)) {
    throw invalidParameter(`${where}.end_time_unix_nano must be an integer (nanoseconds, 0 to 2^64 - 1) or null.`);
  }
  if (s.attributes !== undefined && (typeof s.attributes !== 'object' || s.attributes === null || Array.isArray(s.attributes))) {
    throw invalidParameter(`${where}.attributes must be an object.`);
  }
  if (s.events !== undefined && !Array.isArray(s.events)) throw invalidParameter(`${where}.events must be a list.`);
  return {
    ...(s as unknown as SpanDict),
    attributes: (s.attributes as Record<string, unknown> | undefined) ?? {},
    events: (s.events as SpanDict['events'] | undefined) ?? [],
    status: (s.status as SpanDict['status'] | undefined) ?? { code: 'STATUS_CODE_UNSET' },
    parent_span_id: typeof s.parent_span_id === 'string' && s.parent_span_id !== '' ? s.parent_span_id : null,
  };
}

/** Longest attribute value kept in the span index; longer ones are payload, not filter keys. */
export const MAX_INDEXED_ATTRIBUTE_CHARS = 500;
const UNINDEXED = new Set<string>([SpanKeys.requestId, SpanKeys.type, SpanKeys.inputs, SpanKeys.outputs, SpanKeys.chatMessages]);

/** Scalar attributes short enough to index, as the text a filter compares against. */
function indexedAttributes(attributes: Record<string, unknown>): [string, string][] {
  const out: [string, string][] = [];
  for (const key of Object.keys(attributes)) {
    if (UNINDEXED.has(key) || key.length > 250) continue;
    const v = attributeValue(attributes, key);
    // A span's token usage is kept as its JSON, so a trace's usage can be re-aggregated over the
    // span tree when more of its spans arrive, without reading payloads back.
    const usage = key === SpanKeys.chatTokenUsage && v && typeof v === 'object' ? JSON.stringify(v) : undefined;
    const text = usage ?? (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined);
    if (text !== undefined && text.length <= MAX_INDEXED_ATTRIBUTE_CHARS) out.push([key, text]);
  }
  return out;
}

export function summarizeSpan(span: SpanDict): SpanSummary {
  const type = attributeValue(span.attributes, SpanKeys.type);
  return {
    spanId: spanIdHex(span.span_id),
    parentId: span.parent_span_id ? spanIdHex(span.parent_span_id) : null,
    name: span.name,
    type: typeof type === 'string' && type !== '' ? type : 'UNKNOWN',
    status: statusOf(span.status?.code),
    startUs: nsToUs(span.start_time_unix_nano) ?? 0,
    endUs: nsToUs(span.end_time_unix_nano),
    attributes: [...indexedAttributes(span.attributes), [TEXT_BLOOM_KEY, textBloom(spanContentText(span))]],
  };
}
