/**
 * What MLflow's server does to a span it receives over OTLP before storing it
 * (`translate_span_when_storing`): the span type, inputs, outputs, token usage, model and chat
 * rendering hints are filled in from whichever GenAI convention the instrumentation used, so the
 * span reads back like one MLflow's own tracer wrote. Attributes already set are never replaced.
 */
import { pyJsonDumps } from '../../domain/pyJson';
import { EVENT_TRANSLATORS, TRANSLATORS, VERCEL_FORMAT_MARK, truthy, tryJson, type Attrs, type SpanEvent, type Translator } from './otelTranslators';
import type { SpanDict, TokenUsage } from '../../domain/traceTypes';

export const OtelKeys = {
  spanType: 'mlflow.spanType',
  inputs: 'mlflow.spanInputs',
  outputs: 'mlflow.spanOutputs',
  chatUsage: 'mlflow.chat.tokenUsage',
  messageFormat: 'mlflow.message.format',
  chatTools: 'mlflow.chat.tools',
  model: 'mlflow.llm.model',
  provider: 'mlflow.llm.provider',
} as const;

/** Token usage keys in MLflow's order; the cache ones appear only when reported. */
export const USAGE_KEYS = ['input_tokens', 'output_tokens', 'total_tokens'] as const;
export const CACHE_USAGE_KEYS = ['cache_read_input_tokens', 'cache_creation_input_tokens', 'cache_creation_input_tokens_above_1hr'] as const;
export type Usage = Record<string, number>;

/**
 * A string attribute that is JSON for a string that is itself JSON text of a string, object or
 * list was encoded twice (a sender that JSON-encoded before OTLP): one layer is removed.
 */
export function sanitizeAttributes(attrs: Attrs): Attrs {
  const out: Attrs = {};
  for (const [key, value] of Object.entries(attrs)) {
    out[key] = value;
    if (typeof value !== 'string') continue;
    let once: unknown;
    try {
      once = JSON.parse(value);
    } catch {
      continue;
    }
    if (typeof once !== 'string') continue;
    try {
      const twice = JSON.parse(once) as unknown;
      if (typeof twice === 'string' || (twice !== null && typeof twice === 'object')) out[key] = once;
    } catch {
      // Only once encoded: kept.
    }
  }
  return out;
}

/** `_parse_int_attribute`: an int, or JSON text of an int or of a string of digits. */
export function parseIntAttribute(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') return Number.isInteger(v) ? v : undefined;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v !== 'string') return undefined;
  const digits = /^\s*[+-]?\d+\s*$/;
  if (/^\s*-?(0|[1-9]\d*)\s*$/.test(v)) return Number(v);
  try {
    const parsed = JSON.parse(v) as unknown;
    if (typeof parsed === 'string' && digits.test(parsed)) return Number(parsed);
  } catch {
    // Not JSON: maybe a bare number below.
  }
  return digits.test(v) ? Number(v) : undefined;
}

function firstAnswer(translators: readonly Translator[], ask: (t: Translator) => unknown): unknown {
  for (const t of translators) {
    const v = ask(t);
    if (truthy(v)) return v;
  }
  return undefined;
}

export function spanTypeFromOtel(attrs: Attrs): string | undefined {
  for (const t of TRANSLATORS) {
    const type = t.spanType?.(attrs);
    if (type) return type;
  }
  return undefined;
}

/** The first convention that reports any token count gives the span's usage. */
export function tokenUsageFromOtel(attrs: Attrs): Usage | undefined {
  for (const t of TRANSLATORS) {
    const input = parseIntAttribute(t.inputTokens?.(attrs));
    const output = parseIntAttribute(t.outputTokens?.(attrs));
    let total = parseIntAttribute(t.totalTokens?.(attrs));
    if (total === undefined && input !== undefined && output !== undefined) total = input + output;
    if (input === undefined && output === undefined && total === undefined) continue;
    const usage: Usage = {};
    if (input !== undefined) usage.input_tokens = input;
    if (output !== undefined) usage.output_tokens = output;
    if (total !== undefined) usage.total_tokens = total;
    const cacheRead = parseIntAttribute(t.cacheReadTokens?.(attrs));
    if (cacheRead !== undefined) usage.cache_read_input_tokens = cacheRead;
    const cacheCreation = parseIntAttribute(t.cacheCreationTokens?.(attrs));
    if (cacheCreation !== undefined) usage.cache_creation_input_tokens = cacheCreation;
    return usage;
  }
  return undefined;
}

function modelFromPayload(attrs: Attrs): string | undefined {
  for (const key of [OtelKeys.inputs, OtelKeys.outputs]) {
    const raw = attrs[key];
    if (!truthy(raw)) continue;
    const v = tryJson(raw);
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const model = (v as Attrs).model;
      if (truthy(model)) return typeof model === 'string' ? model : undefined;
    }
  }
  return undefined;
}

/** A value MLflow stores as the translator gave it: text verbatim, anything else JSON-encoded. */
function stored(v: unknown): string {
  return typeof v === 'string' ? v : pyJsonDumps(v);
}

/** The span with its attributes translated, as MLflow 3.17.2 stores an OTLP span. */
export function translateSpan(span: SpanDict): SpanDict {
  const attrs = sanitizeAttributes(span.attributes);
  const events = span.events as SpanEvent[];
  const type = spanTypeFromOtel(attrs);
  if (type) {
    const current = attrs[OtelKeys.spanType] === undefined || attrs[OtelKeys.spanType] === '' ? undefined : tryJson(attrs[OtelKeys.spanType]);
    if (current === undefined || current === null || current === 'UNKNOWN') attrs[OtelKeys.spanType] = pyJsonDumps(type);
  }
  if (!(OtelKeys.inputs in attrs)) {
    const v = firstAnswer(TRANSLATORS, (t) => t.input?.(attrs)) ?? (events.length ? firstAnswer(EVENT_TRANSLATORS, (t) => t.inputFromEvents?.(events, attrs)) : undefined);
    if (truthy(v)) attrs[OtelKeys.inputs] = stored(v);
  }
  if (!(OtelKeys.outputs in attrs)) {
    const v = firstAnswer(TRANSLATORS, (t) => t.output?.(attrs)) ?? (events.length ? firstAnswer(EVENT_TRANSLATORS, (t) => t.outputFromEvents?.(events, attrs)) : undefined);
    if (truthy(v)) attrs[OtelKeys.outputs] = stored(v);
  }
  // The Vercel translator marks a chat span while reading its inputs; MLflow keeps that mark.
  const marked = (attrs as Record<string | symbol, unknown>)[VERCEL_FORMAT_MARK] === true;
  delete (attrs as Record<string | symbol, unknown>)[VERCEL_FORMAT_MARK];
  if (marked && !(OtelKeys.messageFormat in attrs)) attrs[OtelKeys.messageFormat] = pyJsonDumps('vercel_ai');
  if (!(OtelKeys.chatUsage in attrs)) {
    const usage = tokenUsageFromOtel(attrs);
    if (usage) attrs[OtelKeys.chatUsage] = pyJsonDumps(usage);
  }
  if (!(OtelKeys.messageFormat in attrs)) {
    const format = firstAnswer(TRANSLATORS, (t) => t.messageFormat?.(attrs));
    if (truthy(format)) attrs[OtelKeys.messageFormat] = pyJsonDumps(format);
  }
  if (!(OtelKeys.chatTools in attrs)) {
    const tools = firstAnswer(TRANSLATORS, (t) => t.tools?.(attrs));
    if (truthy(tools)) attrs[OtelKeys.chatTools] = stored(tools);
  }
  if (!(OtelKeys.model in attrs)) {
    const model = firstAnswer(TRANSLATORS, (t) => t.modelName?.(attrs)) ?? modelFromPayload(attrs);
    if (truthy(model)) attrs[OtelKeys.model] = pyJsonDumps(model);
  }
  if (!(OtelKeys.provider in attrs)) {
    const provider = firstAnswer(TRANSLATORS, (t) => t.provider?.(attrs));
    if (truthy(provider)) attrs[OtelKeys.provider] = pyJsonDumps(provider);
  }
  return { ...span, attributes: attrs };
}

/** A span's stored usage (`mlflow.chat.tokenUsage`), as the trace aggregate reads it. */
export function storedUsage(text: unknown): Usage | undefined {
  const v = tryJson(text);
  if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const out: Usage = {};
  for (const [k, n] of Object.entries(v as Attrs)) if (typeof n === 'number' && Number.isFinite(n)) out[k] = n;
  return out;
}

export interface UsageNode {
  spanId: string;
  parentId: string | null;
  usage: Usage | undefined;
}

/**
 * Trace token usage over a span tree: a span's usage counts only when no ancestor reports usage,
 * so frameworks that roll children's usage up onto a parent span are not counted twice.
 */
export function aggregateUsage(nodes: UsageNode[]): Usage | undefined {
  const ids = new Set(nodes.map((n) => n.spanId));
  const children = new Map<string, UsageNode[]>();
  const stack: [UsageNode, boolean][] = [];
  for (const n of nodes) {
    if (n.parentId && ids.has(n.parentId)) {
      const list = children.get(n.parentId) ?? [];
      list.push(n);
      children.set(n.parentId, list);
    } else {
      stack.push([n, false]);
    }
  }
  const totals: Usage = { input_tokens: 0, output_tokens: 0, total_tokens: 0 };
  let any = false;
  const seen = new Set<string>();
  while (stack.length) {
    const [node, covered] = stack.pop()!;
    if (seen.has(node.spanId)) continue;
    seen.add(node.spanId);
    if (node.usage && !covered) {
      for (const k of USAGE_KEYS) totals[k] = (totals[k] ?? 0) + (node.usage[k] ?? 0);
      for (const k of CACHE_USAGE_KEYS) if (k in node.usage) totals[k] = (totals[k] ?? 0) + node.usage[k]!;
      any = true;
    }
    for (const c of children.get(node.spanId) ?? []) stack.push([c, covered || node.usage !== undefined]);
  }
  return any ? totals : undefined;
}

export function toTokenUsage(u: Usage): TokenUsage {
  return { input_tokens: u.input_tokens, output_tokens: u.output_tokens, total_tokens: u.total_tokens };
}

// ---- previews --------------------------------------------------------------------------------

const PREVIEW_MAX = 1000;

function isMessage(v: unknown): v is Attrs {
  return !!v && typeof v === 'object' && !Array.isArray(v) && 'role' in v && 'content' in v;
}

function extractMessages(obj: unknown): Attrs[] | undefined {
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return undefined;
  const o = obj as Attrs;
  if (truthy(o.messages) && Array.isArray(o.messages)) return o.messages.filter(isMessage);
  const choices = o.choices;
  if (truthy(choices) && Array.isArray(choices) && choices[0] && typeof choices[0] === 'object' && isMessage((choices[0] as Attrs).message)) {
    return [(choices[0] as Attrs).message as Attrs];
  }
  if (truthy(o.input) && Array.isArray(o.input)) return o.input.filter(isMessage);
  if (truthy(o.output) && Array.isArray(o.output)) return o.output.filter(isMessage);
  if ('request' in o) return extractMessages(o.request);
  return undefined;
}

function messageText(m: Attrs): unknown {
  const content = m.content;
  if (Array.isArray(content)) {
    for (const part of content) {
      if (typeof part === 'string') return part;
      if (part && typeof part === 'object' && ['text', 'output_text'].includes((part as Attrs).type as string)) return (part as Attrs).text;
    }
    return undefined;
  }
  return typeof content === 'string' ? content : '';
}

/** `_get_truncated_preview`: the last message of the role for chat payloads, else the text; 1000 chars. */
export function truncatedPreview(text: string, role: 'user' | 'assistant'): string {
  let content: unknown;
  const obj = tryJson(text);
  if (obj !== text || text === 'null') {
    const messages = extractMessages(obj);
    if (messages && messages.length) {
      const m = [...messages].reverse().find((x) => x.role === role) ?? messages[messages.length - 1]!;
      content = messageText(m);
    }
  }
  const out = typeof content === 'string' && content !== '' ? content : text;
  // Python slices by code point; a lone surrogate at the cut would be invalid text.
  const chars = Array.from(out);
  return chars.length <= PREVIEW_MAX ? out : `${chars.slice(0, PREVIEW_MAX - 3).join('')}...`;
}
