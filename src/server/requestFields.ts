/**
 * Typed access to request fields, whether they came from a GET query string (all strings,
 * repeated keys as arrays, booleans as `True`/`False`) or a JSON body (proto-JSON: int64 as
 * number or string). Errors use MLflow's wording and INVALID_PARAMETER_VALUE.
 */
import { invalidParameter } from '../domain/errors';

export type FieldSource = Record<string, unknown>;

/** MLflow's error for an absent required field. */
export function missingParameter(name: string): Error {
  return invalidParameter(`Missing value for required parameter '${name}'. See the API docs for more information about request parameters.`);
}
const MISSING = missingParameter;

/** Python's `type(value).__name__` for a JSON value, as MLflow's messages name it. */
function pythonType(value: unknown): string {
  if (value === null || value === undefined) return 'NoneType';
  if (typeof value === 'string') return 'str';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  return Array.isArray(value) ? 'list' : 'dict';
}

/** `json.dumps(value, sort_keys=True, separators=(",", ":"))`, as MLflow quotes a bad value. */
export function pythonJson(value: unknown): string {
  const sorted = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sorted);
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Record<string, unknown>)[k])]));
    }
    return v;
  };
  const text = JSON.stringify(sorted(value)) ?? 'null';
  // json.dumps escapes every non-ASCII character (ensure_ascii).
  return text.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * MLflow's error for a field of the wrong type (server/handlers.py, `_validate_param_against_schema`
 * with `invalid_value`), e.g. `Invalid value 31 for parameter 'run_id' supplied:  Hint: Value was
 * of type 'int'. ...` — the two spaces are MLflow's.
 */
export function invalidType(name: string, value: unknown): Error {
  return invalidParameter(
    `Invalid value ${pythonJson(value)} for parameter '${name}' supplied:  Hint: Value was of type '${pythonType(value)}'. See the API docs for more information about request parameters.`,
  );
}

export class Fields {
  constructor(
    readonly source: FieldSource,
    private readonly fromQuery: boolean,
  ) {}

  private raw(name: string): unknown {
    const v = this.source[name];
    // A repeated query key where one value is expected: take the first, as Flask does.
    if (this.fromQuery && Array.isArray(v)) return v[0];
    return v;
  }

  has(name: string): boolean {
    const v = this.source[name];
    return v !== undefined && v !== null;
  }

  string(name: string): string | undefined {
    const v = this.raw(name);
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string') return v;
    // As MLflow: a number where the proto has a string (`"run_id": 31`) is refused before any lookup.
    throw invalidType(name, v);
  }

  requiredString(name: string): string {
    const v = this.string(name);
    if (v === undefined || v === '') throw MISSING(name);
    return v;
  }

  /** int64 / int32: a JSON number or a numeric string. */
  int(name: string): number | undefined {
    const v = this.raw(name);
    if (v === undefined || v === null || v === '') return undefined;
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n)) throw invalidType(name, v);
    return n;
  }

  requiredInt(name: string): number {
    const v = this.int(name);
    if (v === undefined) throw MISSING(name);
    return v;
  }

  bool(name: string): boolean | undefined {
    const v = this.raw(name);
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'boolean') return v;
    if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
    throw invalidType(name, v);
  }

  /** A repeated string field. */
  strings(name: string): string[] {
    const v = this.source[name];
    if (v === undefined || v === null) return [];
    // A query string repeats a key for a list; a JSON body must send an array.
    if (!this.fromQuery && !Array.isArray(v)) throw invalidType(name, v);
    const list = Array.isArray(v) ? v : [v];
    return list.map((item) => {
      if (typeof item === 'string') return item;
      if (typeof item === 'number') return String(item);
      throw invalidType(name, v);
    });
  }

  /** A repeated message field (JSON bodies only). */
  objects(name: string): FieldSource[] {
    const v = this.source[name];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || v.some((o) => typeof o !== 'object' || o === null || Array.isArray(o))) {
      throw invalidType(name, v);
    }
    return v as FieldSource[];
  }

  enumValue<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const v = this.raw(name);
    if (v === undefined || v === null || v === '') return fallback;
    if (typeof v === 'string' && (allowed as readonly string[]).includes(v.toUpperCase())) return v.toUpperCase() as T;
    throw invalidType(name, v);
  }

  /** `run_id`, accepting the legacy `run_uuid` alias the client also sends. */
  runId(): string {
    const id = this.string('run_id') || this.string('run_uuid');
    if (!id) throw MISSING('run_id');
    return id;
  }
}

/** A proto `double`: a number, or "NaN" / "Infinity" / "-Infinity" (or a numeric string). */
export function parseDouble(name: string, v: unknown): number {
  if (typeof v === 'number') return v;
  // MLflow's server takes JSON true/false for a double (Python's bool is an int).
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    if (v === 'NaN' || v === 'nan') return NaN;
    if (v === 'Infinity' || v === 'inf') return Infinity;
    if (v === '-Infinity' || v === '-inf') return -Infinity;
    if (v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  }
  if (v === undefined || v === null) throw MISSING(name);
  throw invalidType(name, v);
}

