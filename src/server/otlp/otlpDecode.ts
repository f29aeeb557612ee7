/**
 * OTLP/HTTP trace exports (protobuf `ExportTraceServiceRequest`, or its JSON mapping) →
 * MLflow span dictionaries. Field numbers follow opentelemetry/proto/trace/v1/trace.proto and
 * common/v1/common.proto. Span attribute values become JSON strings, as MLflow's own spans store them.
 */
import { parseJsonBounded } from '../../domain/jsonDepth';
import { otelField, otelJsonKeyValues, pyDouble, spanAttributesOf } from '../../domain/otelJson';
import { PyFloat } from '../../domain/pyJson';
import type { IncomingSpan } from '../../backend/api/traces';
import { isUnixNanos } from '../../domain/spanDict';
import type { SpanDict } from '../../domain/traceTypes';
import { bytesOf, doubleOf, fixed64Of, int64Value, ProtobufError, ProtobufReader, stringOf, varintOf, type WireField } from './protobufReader';

const STATUS_NAMES = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'];

/**
 * A refused export, answered as MLflow's OTLP endpoint answers (FastAPI's `{"detail": ...}`),
 * with the status it uses: 400 for a body that is not an export, 422 for a span MLflow cannot take.
 */
export class OtlpError extends Error {
  constructor(
    readonly status: number,
    readonly detail: unknown,
    /** What went wrong in our words, for logs and the `message` field beside `detail`. */
    readonly reason = typeof detail === 'string' ? detail : 'Invalid request',
  ) {
    super(reason);
  }
}

export const INVALID_FORMAT = 'Invalid OpenTelemetry format';
export const NO_SPANS = 'Invalid OpenTelemetry format - no spans found';
export const CANNOT_CONVERT = 'Cannot convert OpenTelemetry span to MLflow span';

function bad(message: string): Error {
  return new OtlpError(400, INVALID_FORMAT, `${INVALID_FORMAT}: ${message}`);
}

// ---- protobuf -------------------------------------------------------------------------------

function anyValue(r: ProtobufReader, bytes: Uint8Array): unknown {
  let out: unknown = null;
  for (const f of r.child(bytes).fields()) {
    switch (f.field) {
      case 1:
        out = stringOf(f, 'AnyValue.string_value');
        break;
      case 2:
        out = varintOf(f, 'AnyValue.bool_value') !== 0n;
        break;
      case 3:
        out = int64Value(varintOf(f, 'AnyValue.int_value'));
        break;
      case 4:
        out = pyDouble(doubleOf(f, 'AnyValue.double_value'));
        break;
      case 5:
        out = r
          .child(bytesOf(f, 'AnyValue.array_value'))
          .fields()
          .filter((v) => v.field === 1)
          .map((v) => anyValue(r, bytesOf(v, 'ArrayValue.values')));
        break;
      case 6:
        out = Object.fromEntries(keyValues(r, r.child(bytesOf(f, 'AnyValue.kvlist_value')).fields(), 1));
        break;
      case 7:
        out = Buffer.from(bytesOf(f, 'AnyValue.bytes_value')).toString('base64');
        break;
      default:
        break;
    }
  }
  return out;
}

function keyValues(r: ProtobufReader, fields: WireField[], fieldNo: number): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const f of fields) {
    if (f.field !== fieldNo) continue;
    let key = '';
    let value: unknown = null;
    for (const kv of r.child(bytesOf(f, 'KeyValue')).fields()) {
      if (kv.field === 1) key = stringOf(kv, 'KeyValue.key');
      else if (kv.field === 2) value = anyValue(r, bytesOf(kv, 'KeyValue.value'));
    }
    out.push([key, value]);
  }
  return out;
}

/** Resource attributes as decoded values (they become trace tags). */
function resourceOf(pairs: [string, unknown][]): Record<string, unknown> {
  return Object.fromEntries(pairs.map(([k, v]) => [k, v instanceof PyFloat ? v.value : v]));
}

/** Event attributes stay raw values, as in MLflow's span dicts. */
function rawAttributes(pairs: [string, unknown][]): Record<string, unknown> {
  return Object.fromEntries(pairs);
}

function protoSpan(r: ProtobufReader, bytes: Uint8Array, index: number, resource: Record<string, unknown>): IncomingSpan {
  let traceId: Uint8Array | undefined;
  let spanId: Uint8Array | undefined;
  let parent: Uint8Array | undefined;
  let name = '';
  let start: bigint | undefined;
  let end: bigint | undefined;
  const attrFields: WireField[] = [];
  const events: SpanDict['events'] = [];
  let status: SpanDict['status'] = { code: 'STATUS_CODE_UNSET', message: '' };
  let traceState = '';
  for (const f of r.child(bytes).fields()) {
    switch (f.field) {
      case 1:
        traceId = bytesOf(f, 'Span.trace_id');
        break;
      case 2:
        spanId = bytesOf(f, 'Span.span_id');
        break;
      case 3:
        traceState = stringOf(f, 'Span.trace_state');
        break;
      case 4:
        parent = bytesOf(f, 'Span.parent_span_id');
        break;
      case 5:
        name = stringOf(f, 'Span.name');
        break;
      case 7:
        start = fixed64Of(f, 'Span.start_time_unix_nano');
        break;
      case 8:
        end = fixed64Of(f, 'Span.end_time_unix_nano');
        break;
      case 9:
        attrFields.push(f);
        break;
      case 11: {
        let evName = '';
        let time = 0n;
        const evAttrs: WireField[] = [];
        for (const e of r.child(bytesOf(f, 'Span.events')).fields()) {
          if (e.field === 1) time = fixed64Of(e, 'Event.time_unix_nano');
          else if (e.field === 2) evName = stringOf(e, 'Event.name');
          else if (e.field === 3) evAttrs.push(e);
        }
        events.push({ name: evName, time_unix_nano: time.toString(), attributes: rawAttributes(keyValues(r, evAttrs, 3)) });
        break;
      }
      case 15: {
        let code = 0;
        let message = '';
        for (const s of r.child(bytesOf(f, 'Span.status')).fields()) {
          if (s.field === 2) message = stringOf(s, 'Status.message');
          else if (s.field === 3) code = Number(varintOf(s, 'Status.code'));
        }
        status = { code: STATUS_NAMES[code] ?? 'STATUS_CODE_UNSET', message };
        break;
      }
      default:
        break;
    }
  }
  return toIncoming(
    {
      traceId: traceId ? Buffer.from(traceId).toString('hex') : '',
      spanId: spanId ? Buffer.from(spanId).toString('hex') : '',
      parentId: parent && parent.length > 0 ? Buffer.from(parent).toString('hex') : '',
      resource,
      name,
      start: start?.toString(),
      end: end !== undefined && end !== 0n ? end.toString() : undefined,
      attributes: spanAttributesOf(keyValues(r, attrFields, 9)),
      events,
      status,
      traceState,
    },
    index,
  );
}

export function decodeOtlpProtobuf(body: Uint8Array): IncomingSpan[] {
  const out: IncomingSpan[] = [];
  let resourceSpans = 0;
  try {
    const r = new ProtobufReader(body);
    for (const rs of r.fields()) {
      if (rs.field !== 1) continue;
      resourceSpans++;
      const fields = r.child(bytesOf(rs, 'ResourceSpans')).fields();
      let resource: Record<string, unknown> = {};
      for (const f of fields) {
        if (f.field === 1) resource = resourceOf(keyValues(r, r.child(bytesOf(f, 'ResourceSpans.resource')).fields(), 1));
      }
      for (const ss of fields) {
        if (ss.field !== 2) continue;
        for (const sp of r.child(bytesOf(ss, 'ScopeSpans')).fields()) {
          if (sp.field === 2) out.push(protoSpan(r, bytesOf(sp, 'ScopeSpans.spans'), out.length, resource));
        }
      }
    }
    if (resourceSpans === 0) throw new OtlpError(400, NO_SPANS);
  } catch (err) {
    if (err instanceof ProtobufError) throw bad(`the body is not a valid ExportTraceServiceRequest protobuf (${err.message}).`);
    throw err;
  }
  return out;
}

// ---- JSON -----------------------------------------------------------------------------------

type Json = Record<string, unknown>;

function list(o: Json, camel: string, snake: string, where: string): Json[] {
  const v = otelField(o, camel, snake);
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw bad(`${where}.${camel} must be a list.`);
  return v.map((x, i) => {
    if (!x || typeof x !== 'object') throw bad(`${where}.${camel}[${i}] must be an object.`);
    return x as Json;
  });
}

/** OTLP JSON writes ids as hex (MLflow reads them as hex only: anything else is not an export). */
function jsonId(v: unknown, where: string): string {
  if (v === undefined || v === null || v === '') return '';
  if (typeof v !== 'string' || !/^(?:[0-9a-fA-F]{2})+$/.test(v)) throw bad(`${where} is not a hex id.`);
  return v.toLowerCase();
}

/** A JSON time: undefined when absent; a value that is not nanoseconds OTLP can carry is refused. */
function jsonTime(v: unknown, where: string): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (!isUnixNanos(v)) throw bad(`${where} is not a time in nanoseconds (an integer from 0 to 2^64 - 1): ${JSON.stringify(v).slice(0, 100)}.`);
  return typeof v === 'number' ? BigInt(v).toString() : (v as string);
}

function jsonStatusCode(v: unknown): string {
  if (typeof v === 'number') return STATUS_NAMES[v] ?? 'STATUS_CODE_UNSET';
  if (typeof v === 'string') return STATUS_NAMES.includes(v) ? v : 'STATUS_CODE_UNSET';
  return 'STATUS_CODE_UNSET';
}

export function decodeOtlpJson(body: Buffer): IncomingSpan[] {
  let root: unknown;
  try {
    root = parseJsonBounded(body.toString('utf8'));
  } catch (err) {
    throw bad(`the body is not valid JSON (${(err as Error).message}).`);
  }
  if (!root || typeof root !== 'object' || Array.isArray(root)) throw bad('the body must be a JSON object with resourceSpans.');
  const out: IncomingSpan[] = [];
  const all = list(root as Json, 'resourceSpans', 'resource_spans', 'request');
  if (all.length === 0) throw new OtlpError(400, NO_SPANS);
  all.forEach((rs, i) => {
    const res = (rs.resource ?? {}) as Json;
    const resource = resourceOf(otelJsonKeyValues(res && typeof res === 'object' ? res.attributes : undefined));
    list(rs, 'scopeSpans', 'scope_spans', `resourceSpans[${i}]`).forEach((ss, j) => {
      for (const s of list(ss, 'spans', 'spans', `resourceSpans[${i}].scopeSpans[${j}]`)) {
        const status = (s.status ?? {}) as Json;
        out.push(
          toIncoming(
            {
              traceId: jsonId(otelField(s, 'traceId', 'trace_id'), `span ${out.length} traceId`),
              spanId: jsonId(otelField(s, 'spanId', 'span_id'), `span ${out.length} spanId`),
              parentId: jsonId(otelField(s, 'parentSpanId', 'parent_span_id'), `span ${out.length} parentSpanId`),
              resource,
              name: typeof s.name === 'string' ? s.name : '',
              start: jsonTime(otelField(s, 'startTimeUnixNano', 'start_time_unix_nano'), `span ${out.length} startTimeUnixNano`),
              end: jsonTime(otelField(s, 'endTimeUnixNano', 'end_time_unix_nano'), `span ${out.length} endTimeUnixNano`),
              attributes: spanAttributesOf(otelJsonKeyValues(s.attributes)),
              events: list(s, 'events', 'events', 'span').map((e) => ({
                name: String(e.name ?? ''),
                time_unix_nano: jsonTime(otelField(e, 'timeUnixNano', 'time_unix_nano'), `span ${out.length} event timeUnixNano`) ?? '0',
                attributes: rawAttributes(otelJsonKeyValues(e.attributes)),
              })),
              status: { code: jsonStatusCode(status.code), message: typeof status.message === 'string' ? status.message : '' },
              traceState: typeof otelField(s, 'traceState', 'trace_state') === 'string' ? (otelField(s, 'traceState', 'trace_state') as string) : '',
            },
            out.length,
          ),
        );
      }
    });
  });
  return out;
}

// ---- shared ---------------------------------------------------------------------------------

interface DecodedSpan {
  traceId: string;
  spanId: string;
  parentId: string;
  resource: Record<string, unknown>;
  name: string;
  start: string | undefined;
  end: string | undefined;
  attributes: Record<string, unknown>;
  events: SpanDict['events'];
  status: SpanDict['status'];
  traceState: string;
}

/**
 * An id as MLflow reads it: the bytes as one big-endian number, printed in `width` hex digits
 * (so a short id is zero-padded and an all-zero id is kept). Longer ids are refused.
 */
function idHex(hex: string, width: number, what: string, where: string): string {
  if (hex === '') throw new OtlpError(422, CANNOT_CONVERT, `${CANNOT_CONVERT}: ${where} has no ${what}.`);
  const digits = hex.replace(/^0+(?=.)/, '');
  if (digits.length > width) throw new OtlpError(422, CANNOT_CONVERT, `${CANNOT_CONVERT}: ${where} has a ${what} longer than ${width / 2} bytes.`);
  return digits.padStart(width, '0');
}

function toIncoming(d: DecodedSpan, index: number): IncomingSpan {
  const where = `span ${index}${d.name ? ` ('${d.name}')` : ''}`;
  const traceId = idHex(d.traceId, 32, 'trace id', where);
  const spanId = idHex(d.spanId, 16, 'span id', where);
  const parentId = d.parentId === '' ? '' : idHex(d.parentId, 16, 'parent span id', where);
  const hex64 = (hex: string): string => Buffer.from(hex, 'hex').toString('base64');
  return {
    traceIdHex: traceId,
    resource: d.resource,
    span: {
      trace_id: hex64(traceId),
      span_id: hex64(spanId),
      // An all-zero parent id means none: MLflow takes such a span as the trace's root.
      parent_span_id: parentId && !/^0+$/.test(parentId) ? hex64(parentId) : null,
      name: d.name,
      start_time_unix_nano: d.start ?? '0',
      end_time_unix_nano: d.end ?? null,
      attributes: d.attributes,
      status: d.status,
      events: d.events,
      ...(d.traceState ? { trace_state: d.traceState } : {}),
    },
  };
}
