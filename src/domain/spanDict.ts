/**
 * Reading MLflow span dictionaries: id encodings (base64 in traces.json, hex everywhere else),
 * times, JSON-encoded attribute values and token usage. Pure TypeScript: the views use it in a
 * browser too.
 */
import { parseJsonBounded } from './jsonDepth';
import { SpanKeys, type TokenUsage } from './traceTypes';

/** base64 → hex with atob (the views run this in a browser too). */
export function base64ToHex(value: string): string {
  const bin = atob(value);
  let hex = '';
  for (let i = 0; i < bin.length; i++) hex += bin.charCodeAt(i).toString(16).padStart(2, '0');
  return hex;
}

/** A span id as written in a span dict (base64 of 8 bytes, or already 16 hex chars) → hex. */
export function spanIdHex(value: string): string {
  return /^[0-9a-f]{16}$/i.test(value) ? value.toLowerCase() : base64ToHex(value);
}

/**
 * MLflow stores attribute values JSON-encoded; OTLP senders may not. A value nested deeper than
 * MAX_JSON_DEPTH stays the text it is (walking it would overflow the stack).
 */
export function attributeValue(attributes: Record<string, unknown>, key: string): unknown {
  const raw = attributes[key];
  if (typeof raw !== 'string') return raw;
  try {
    return parseJsonBounded(raw);
  } catch {
    return raw;
  }
}

export function nsToUs(value: number | string | null | undefined): number | null {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value === 'number') return Math.round(value / 1000);
  return /^\d+$/.test(value) ? Number(BigInt(value) / 1000n) : null;
}

/** Largest OTLP time (`fixed64` nanoseconds, year 2554): beyond it a time has no Date. */
const MAX_UNIX_NANOS = 2n ** 64n - 1n;

/** Whether a span time is nanoseconds OTLP can carry: an integer from 0 to 2^64 - 1, as a number or digits. */
export function isUnixNanos(value: unknown): boolean {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 && value <= Number(MAX_UNIX_NANOS);
  return typeof value === 'string' && /^\d{1,20}$/.test(value) && BigInt(value) <= MAX_UNIX_NANOS;
}

function count(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Token usage of one span: MLflow's `mlflow.chat.tokenUsage`, else OpenTelemetry's gen_ai.usage.* attributes. */
export function spanTokenUsage(attributes: Record<string, unknown>): TokenUsage | undefined {
  const usage = attributeValue(attributes, SpanKeys.chatTokenUsage);
  if (usage && typeof usage === 'object') {
    const u = usage as Record<string, unknown>;
    const out: TokenUsage = { input_tokens: count(u.input_tokens), output_tokens: count(u.output_tokens), total_tokens: count(u.total_tokens) };
    if (out.total_tokens === undefined && (out.input_tokens !== undefined || out.output_tokens !== undefined)) {
      out.total_tokens = (out.input_tokens ?? 0) + (out.output_tokens ?? 0);
    }
    return out;
  }
  const input = count(attributeValue(attributes, 'gen_ai.usage.input_tokens'));
  const output = count(attributeValue(attributes, 'gen_ai.usage.output_tokens'));
  if (input === undefined && output === undefined) return undefined;
  return { input_tokens: input, output_tokens: output, total_tokens: (input ?? 0) + (output ?? 0) };
}

/** Parses `mlflow.trace.tokenUsage` metadata; anything malformed counts as absent. */
export function parseTokenUsage(text: string | undefined): TokenUsage | undefined {
  if (!text) return undefined;
  try {
    const u = parseJsonBounded(text) as Record<string, unknown>;
    if (!u || typeof u !== 'object') return undefined;
    return { input_tokens: count(u.input_tokens), output_tokens: count(u.output_tokens), total_tokens: count(u.total_tokens) };
  } catch {
    return undefined;
  }
}

const MODEL_KEYS = ['gen_ai.response.model', 'gen_ai.request.model', 'llm.model_name', 'model_name', 'model'];

/** The model an LLM span called: OpenTelemetry's gen_ai.* attributes, common SDK keys, else the request's `model`. */
export function spanModel(attributes: Record<string, unknown>, inputs: unknown): string | undefined {
  for (const k of MODEL_KEYS) {
    const v = attributeValue(attributes, k);
    if (typeof v === 'string' && v) return v;
  }
  const fromInputs = inputs && typeof inputs === 'object' ? (inputs as { model?: unknown }).model : undefined;
  return typeof fromInputs === 'string' ? fromInputs : undefined;
}
