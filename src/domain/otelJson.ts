/**
 * OpenTelemetry's JSON mapping of attribute values (`AnyValue`, `KeyValue` lists), read as
 * Python reads them, and span attributes JSON-encoded as MLflow's span dicts keep them. Shared by
 * the OTLP/JSON receiver and the REST client, which reads spans a server answers in OTel proto
 * JSON (`GET /api/3.0/mlflow/traces/get`). Both the camelCase (OTLP) and snake_case (protobuf
 * JSON with preserved field names) spellings are read.
 */
import { PyFloat, pyJsonDumps } from './pyJson';

type Json = Record<string, unknown>;

/** A double that is whole stays a float, as Python decodes it (`2.0`). */
export function pyDouble(v: number): number | PyFloat {
  return Number.isInteger(v) ? new PyFloat(v) : v;
}

export function otelField(o: Json, camel: string, snake: string): unknown {
  return o[camel] ?? o[snake];
}

export function otelJsonAnyValue(v: unknown): unknown {
  if (!v || typeof v !== 'object') return null;
  const o = v as Json;
  const s = otelField(o, 'stringValue', 'string_value');
  if (s !== undefined) return s;
  const b = otelField(o, 'boolValue', 'bool_value');
  if (b !== undefined) return b;
  const i = otelField(o, 'intValue', 'int_value');
  if (i !== undefined) return typeof i === 'string' && Number.isSafeInteger(Number(i)) ? Number(i) : i;
  const d = otelField(o, 'doubleValue', 'double_value');
  if (d !== undefined) return typeof d === 'number' ? pyDouble(d) : d;
  const a = otelField(o, 'arrayValue', 'array_value') as Json | undefined;
  if (a) return (Array.isArray(a.values) ? a.values : []).map(otelJsonAnyValue);
  const kv = otelField(o, 'kvlistValue', 'kvlist_value') as Json | undefined;
  if (kv) return Object.fromEntries(otelJsonKeyValues(kv.values));
  const bytes = otelField(o, 'bytesValue', 'bytes_value');
  return bytes ?? null;
}

export function otelJsonKeyValues(v: unknown): [string, unknown][] {
  if (!Array.isArray(v)) return [];
  return v.map((kv: unknown) => {
    const o = (kv ?? {}) as Json;
    return [String(o.key ?? ''), otelJsonAnyValue(o.value)];
  });
}

/** Span attributes JSON-encoded as MLflow's `dump_span_attribute_value` (Python's json.dumps) writes them. */
export function spanAttributesOf(pairs: [string, unknown][]): Record<string, unknown> {
  return Object.fromEntries(pairs.map(([k, v]) => [k, pyJsonDumps(v)]));
}
