/**
 * The machinery shared by the GenAI convention translators (otelTranslators.ts): Python truthiness
 * and JSON decoding as MLflow's translators apply them, and a translator built from a table row.
 */
export type Attrs = Record<string, unknown>;
export type SpanEvent = { name: string; attributes?: Record<string, unknown> };
export type Key = string | RegExp;

/** Python truthiness of a decoded value: null, false, 0, '', [] and {} are false. */
export function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

/** `json.loads` when it parses, else the value unchanged. */
export function tryJson(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return v;
  }
}

/** An attribute's value unless it is JSON for an empty or null value (MLflow skips those). */
export function checked(attrs: Attrs, key: string): unknown {
  const v = attrs[key];
  if (typeof v === 'string') {
    try {
      return truthy(JSON.parse(v)) ? v : undefined;
    } catch {
      return v;
    }
  }
  return v;
}

/** The first key (or, for a pattern, the first matching attribute in order) with a value. */
export function firstValue(attrs: Attrs, keys: readonly Key[] | undefined): unknown {
  for (const key of keys ?? []) {
    if (typeof key === 'string') {
      const v = checked(attrs, key);
      if (truthy(v)) return v;
    } else {
      for (const name of Object.keys(attrs)) {
        if (!key.test(name)) continue;
        const v = checked(attrs, name);
        if (truthy(v)) return v;
      }
    }
  }
  return undefined;
}

export function lookup(map: Readonly<Record<string, string>>, kind: unknown): string | undefined {
  return typeof kind === 'string' && Object.prototype.hasOwnProperty.call(map, kind) ? map[kind] : undefined;
}

/** What one convention answers; an absent method answers nothing. */
export interface Translator {
  spanType?(a: Attrs): string | undefined;
  inputTokens?(a: Attrs): unknown;
  outputTokens?(a: Attrs): unknown;
  totalTokens?(a: Attrs): unknown;
  cacheReadTokens?(a: Attrs): unknown;
  cacheCreationTokens?(a: Attrs): unknown;
  input?(a: Attrs): unknown;
  output?(a: Attrs): unknown;
  inputFromEvents?(events: SpanEvent[], a: Attrs): unknown;
  outputFromEvents?(events: SpanEvent[], a: Attrs): unknown;
  modelName?(a: Attrs): unknown;
  provider?(a: Attrs): unknown;
  tools?(a: Attrs): unknown;
  messageFormat?(a: Attrs): string | undefined;
}

export interface Spec {
  kindKey?: string;
  kinds?: Record<string, string>;
  tokens?: { input?: string; output?: string; total?: string; cacheRead?: string; cacheCreation?: string };
  inputKeys?: Key[];
  outputKeys?: Key[];
  modelKeys?: string[];
  providerKey?: string;
  toolKeys?: string[];
}

/** A translator from its table row: MLflow's base-class behaviour for each field. */
export function fromSpec(spec: Spec): Required<Pick<Translator, 'spanType' | 'input' | 'output' | 'modelName' | 'provider' | 'tools'>> & Translator {
  const t = spec.tokens ?? {};
  const raw = (key: string | undefined) => (key ? (a: Attrs) => a[key] : undefined);
  return {
    spanType: (a) => {
      const v = spec.kindKey ? a[spec.kindKey] : undefined;
      return truthy(v) && spec.kinds ? lookup(spec.kinds, tryJson(v)) : undefined;
    },
    ...(t.input ? { inputTokens: raw(t.input)! } : {}),
    ...(t.output ? { outputTokens: raw(t.output)! } : {}),
    ...(t.total ? { totalTokens: raw(t.total)! } : {}),
    ...(t.cacheRead ? { cacheReadTokens: raw(t.cacheRead)! } : {}),
    ...(t.cacheCreation ? { cacheCreationTokens: raw(t.cacheCreation)! } : {}),
    input: (a) => firstValue(a, spec.inputKeys),
    output: (a) => firstValue(a, spec.outputKeys),
    modelName: (a) => {
      const v = firstValue(a, spec.modelKeys);
      return truthy(v) ? tryJson(v) : undefined;
    },
    provider: (a) => {
      const v = spec.providerKey ? checked(a, spec.providerKey) : undefined;
      return truthy(v) ? tryJson(v) : undefined;
    },
    tools: (a) => firstValue(a, spec.toolKeys),
  };
}
