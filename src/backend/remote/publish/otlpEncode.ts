/**
 * MLflow span dictionaries → an OTLP `ExportTraceServiceRequest` in protobuf, for servers that
 * keep spans in their database (MLflow 3.4+ marks a started trace's spans as living in the
 * tracking store and takes them only at `/v1/traces`, protobuf only). Field numbers follow
 * opentelemetry/proto/trace/v1/trace.proto. Attribute values stay the JSON strings MLflow's
 * spans hold, which is how MLflow's own client exports them.
 */
import type { SpanDict } from '../../../domain/traceTypes';

class Writer {
  private readonly parts: Buffer[] = [];

  private varint(v: bigint): void {
    const out: number[] = [];
    let x = BigInt.asUintN(64, v);
    while (x >= 0x80n) {
      out.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    out.push(Number(x));
    this.parts.push(Buffer.from(out));
  }

  private key(field: number, wire: number): void {
    this.varint(BigInt((field << 3) | wire));
  }

  bytes(field: number, b: Uint8Array): this {
    this.key(field, 2);
    this.varint(BigInt(b.length));
    this.parts.push(Buffer.from(b));
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, Buffer.from(s, 'utf8'));
  }

  message(field: number, w: Writer): this {
    return this.bytes(field, w.finish());
  }

  fixed64(field: number, v: bigint): this {
    this.key(field, 1);
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt.asUintN(64, v));
    this.parts.push(b);
    return this;
  }

  enumValue(field: number, v: number): this {
    this.key(field, 0);
    this.varint(BigInt(v));
    return this;
  }

  finish(): Buffer {
    return Buffer.concat(this.parts);
  }

  double(field: number, v: number): this {
    this.key(field, 1);
    const b = Buffer.alloc(8);
    b.writeDoubleLE(v);
    this.parts.push(b);
    return this;
  }
}

/** base64 (traces.json) or hex → bytes. */
function idBytes(v: string | null | undefined, len: number): Buffer | undefined {
  if (!v) return undefined;
  const hex = v.replace(/^tr-/, '');
  if (new RegExp(`^[0-9a-f]{${len * 2}}$`, 'i').test(hex)) return Buffer.from(hex, 'hex');
  const b = Buffer.from(v, 'base64');
  return b.length === len ? b : undefined;
}

function nanos(v: number | string | null | undefined): bigint | undefined {
  if (v === null || v === undefined || v === '') return undefined;
  return BigInt(typeof v === 'number' ? Math.round(v) : v);
}


/** An AnyValue of the decoded value: the server JSON-encodes what it decodes, as `span.set_attribute` does. */
function anyValue(v: unknown): Writer {
  const w = new Writer();
  if (v === null || v === undefined) return w;
  if (typeof v === 'boolean') return w.enumValue(2, v ? 1 : 0);
  if (typeof v === 'string') return w.string(1, v);
  if (typeof v === 'number') return Number.isSafeInteger(v) ? w.enumValue(3, v) : w.double(4, v);
  if (Array.isArray(v)) {
    const arr = new Writer();
    for (const item of v) arr.message(1, anyValue(item));
    return w.message(5, arr);
  }
  if (typeof v === 'object') {
    const kv = new Writer();
    for (const [k, item] of Object.entries(v as Record<string, unknown>)) kv.message(1, new Writer().string(1, k).message(2, anyValue(item)));
    return w.message(6, kv);
  }
  return w.string(1, String(v));
}

/** Span dict attribute values are JSON strings; a value that is not JSON goes as the string it is. */
function keyValues(w: Writer, field: number, attributes: Record<string, unknown> | undefined): void {
  for (const [k, raw] of Object.entries(attributes ?? {})) {
    let v: unknown = raw;
    if (typeof raw === 'string') {
      try {
        v = JSON.parse(raw);
      } catch {
        v = raw;
      }
    }
    w.message(field, new Writer().string(1, k).message(2, anyValue(v)));
  }
}

const STATUS = new Map<string, number>([
  ['UNSET', 0],
  ['STATUS_CODE_UNSET', 0],
  ['OK', 1],
  ['STATUS_CODE_OK', 1],
  ['ERROR', 2],
  ['STATUS_CODE_ERROR', 2],
]);

/** One trace's spans as one export request. */
export function encodeSpans(spans: SpanDict[]): Buffer {
  const scope = new Writer().message(1, new Writer().string(1, 'runlens-publish'));
  for (const s of spans) {
    const w = new Writer();
    const traceId = idBytes(s.trace_id, 16);
    const spanId = idBytes(s.span_id, 8);
    if (!traceId || !spanId) throw new Error(`span '${s.name}' has ids that are neither base64 nor hex (${s.trace_id}, ${s.span_id})`);
    w.bytes(1, traceId).bytes(2, spanId);
    if (s.trace_state) w.string(3, s.trace_state);
    const parent = idBytes(s.parent_span_id, 8);
    if (parent) w.bytes(4, parent);
    w.string(5, s.name);
    w.enumValue(6, 1); // SPAN_KIND_INTERNAL, as MLflow's spans are
    const start = nanos(s.start_time_unix_nano);
    const end = nanos(s.end_time_unix_nano);
    if (start !== undefined) w.fixed64(7, start);
    if (end !== undefined) w.fixed64(8, end);
    keyValues(w, 9, s.attributes);
    for (const e of s.events ?? []) {
      const ev = new Writer();
      const t = nanos(e.time_unix_nano);
      if (t !== undefined) ev.fixed64(1, t);
      ev.string(2, e.name);
      keyValues(ev, 3, e.attributes);
      w.message(11, ev);
    }
    const status = new Writer();
    if (s.status?.message) status.string(2, s.status.message);
    status.enumValue(3, STATUS.get(s.status?.code ?? 'UNSET') ?? 0);
    w.message(15, status);
    scope.message(2, w);
  }
  const resourceSpans = new Writer().message(1, new Writer()).message(2, scope);
  return new Writer().message(1, resourceSpans).finish();
}
