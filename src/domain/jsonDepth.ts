/**
 * Nesting limits for JSON we parse from clients or read back from disk. `JSON.parse` itself copes
 * with deep nesting, but everything after it (JSON.stringify of a response, recursive walks of
 * span attributes) recurses per level and overflows the stack: a 3,000-deep value answered 500
 * on every read of its trace. MLflow's own server refuses protobuf JSON nested over 100 levels
 * (json_format's max_recursion_depth). Pure TypeScript: the views use it in a browser too.
 */

/** Deepest nesting of objects and arrays accepted in any JSON document. */
export const MAX_JSON_DEPTH = 100;

export class JsonDepthError extends Error {
  constructor(readonly limit: number) {
    super(`JSON nested deeper than ${limit} levels`);
    this.name = 'JsonDepthError';
  }
}

/**
 * Whether JSON text nests objects/arrays deeper than `limit`, by one scan of the text (strings
 * skipped, escapes honoured); stops at the first level over the limit. Malformed text is left
 * for JSON.parse to report.
 */
export function jsonTextTooDeep(text: string, limit = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

/** JSON.parse that refuses nesting deeper than `limit` (a JsonDepthError) before parsing. */
export function parseJsonBounded(text: string, limit = MAX_JSON_DEPTH): unknown {
  if (jsonTextTooDeep(text, limit)) throw new JsonDepthError(limit);
  return JSON.parse(text) as unknown;
}

/**
 * Whether an already parsed value nests deeper than `limit`. Recursive, but never deeper than
 * `limit` + 1 frames (it stops at the first level over the limit), so safe on any depth; no
 * allocation per node (a 1000-point log-batch body is walked on every request).
 */
export function valueTooDeep(value: unknown, limit = MAX_JSON_DEPTH): boolean {
  return typeof value === 'object' && value !== null && nestsDeeper(value, 1, limit);
}

function nestsDeeper(v: object, level: number, limit: number): boolean {
  if (level > limit) return true;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const child: unknown = v[i];
      if (typeof child === 'object' && child !== null && nestsDeeper(child, level + 1, limit)) return true;
    }
    return false;
  }
  const o = v as Record<string, unknown>;
  for (const k in o) {
    if (!Object.prototype.hasOwnProperty.call(o, k)) continue;
    const child = o[k];
    if (typeof child === 'object' && child !== null && nestsDeeper(child, level + 1, limit)) return true;
  }
  return false;
}
