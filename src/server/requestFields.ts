/**
 * Typed access to request fields, whether they came from a GET query string (all strings,
 * repeated keys as arrays, booleans as `True`/`False`) or a JSON body (proto-JSON: int64 as
 * number or string). Errors use MLflow's wording and INVALID_PARAMETER_VALUE.
 */
import { invalidParameter } from '../store/errors';

export type FieldSource = Record<string, unknown>;

/** MLflow's error for an absent required field. */
export function missingParameter(name: string): Error {
  return invalidParameter(`Missing value for required parameter '${name}'. See the API docs for more information about request parameters.`);
}
const MISSING = missingParameter;

function invalid(name: string, value: unknown, expected: string): Error {
  const shown = typeof value === 'string' ? value : JSON.stringify(value);
  return invalidParameter(
    `Invalid value ${shown} for parameter '${name}' supplied: expected ${expected}. See the API docs for more information about request parameters.`,
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
    // Some clients send ids as numbers; the proto field is a string.
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
    throw invalid(name, v, 'a string');
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
    if (!Number.isSafeInteger(n)) throw invalid(name, v, 'an integer');
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
    throw invalid(name, v, 'a boolean');
  }

  /** A repeated string field. */
  strings(name: string): string[] {
    const v = this.source[name];
    if (v === undefined || v === null) return [];
    const list = Array.isArray(v) ? v : [v];
    return list.map((item) => {
      if (typeof item === 'string') return item;
      if (typeof item === 'number') return String(item);
      throw invalid(name, v, 'a list of strings');
    });
  }

  /** A repeated message field (JSON bodies only). */
  objects(name: string): FieldSource[] {
    const v = this.source[name];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || v.some((o) => typeof o !== 'object' || o === null || Array.isArray(o))) {
      throw invalid(name, v, 'a list of objects');
    }
    return v as FieldSource[];
  }

  enumValue<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const v = this.raw(name);
    if (v === undefined || v === null || v === '') return fallback;
    if (typeof v === 'string' && (allowed as readonly string[]).includes(v.toUpperCase())) return v.toUpperCase() as T;
    throw invalid(name, v, `one of ${allowed.join(', ')}`);
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
  if (typeof v === 'string') {
    if (v === 'NaN' || v === 'nan') return NaN;
    if (v === 'Infinity' || v === 'inf') return Infinity;
    if (v === '-Infinity' || v === '-inf') return -Infinity;
    if (v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  }
  if (v === undefined || v === null) throw MISSING(name);
  throw invalid(name, v, 'a double');
}

