/**
 * JSON text as Python's `json.dumps` writes it by default (`", "` and `": "` separators,
 * non-ASCII escaped). MLflow hands tags, schemas, profiles and records to clients as strings
 * made that way; writing them the same keeps the wire bytes a client sees identical.
 */
import type { JsonValue } from './datasetTypes';

function pyString(s: string): string {
  // JSON.stringify escapes quotes, backslashes and control characters as Python does; Python
  // also escapes everything past ASCII (ensure_ascii=True), surrogate pairs as two escapes.
  return JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function pyNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'Infinity';
  if (n === -Infinity) return '-Infinity';
  return String(n);
}

export function pyJson(v: JsonValue | undefined, sortKeys = false): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return pyString(v);
  if (typeof v === 'number') return pyNumber(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Array.isArray(v)) return `[${v.map((x) => pyJson(x, sortKeys)).join(', ')}]`;
  const keys = Object.keys(v);
  if (sortKeys) keys.sort();
  return `{${keys.map((k) => `${pyString(k)}: ${pyJson(v[k], sortKeys)}`).join(', ')}}`;
}
