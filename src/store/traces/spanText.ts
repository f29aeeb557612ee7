/**
 * `trace.text` / `span.content` LIKE and ILIKE search (MLflow matches the pattern against each span's
 * stored JSON) without a payload in sql.js: every span carries a fixed-size Bloom filter of the
 * trigrams of its JSON text (bounded cost per span ingested, kept in the span index and so
 * journaled with it); a search tests the pattern's trigrams against the filters and reads only
 * the payloads of traces that may match, to apply the LIKE exactly.
 */
import { pyJsonDumps } from '../../domain/pyJson';
import type { SpanDict } from '../../domain/traceTypes';

/** The key of the span-index row holding the filter (never a real span attribute). */
export const TEXT_BLOOM_KEY = 'runlens.textBloom';
const BITS = 4096;

/**
 * The span's JSON as MLflow's server stores it (`json.dumps(..., ensure_ascii=False)`), which LIKE
 * reads. Attribute values are re-encoded the way that server encodes them (non-ASCII kept), since
 * a client's traces.json may carry them `\u`-escaped.
 */
export function spanContentText(span: SpanDict): string {
  const attributes: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(span.attributes)) {
    let text = v;
    if (typeof v === 'string') {
      try {
        text = pyJsonDumps(JSON.parse(v) as unknown, { ensureAscii: false });
      } catch {
        // Not JSON: kept as it is.
      }
    }
    attributes[k] = text;
  }
  return pyJsonDumps({ ...span, attributes }, { ensureAscii: false });
}

/** SQLite's LIKE folds ASCII letters only. */
function foldAscii(s: string): string {
  return s.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

function hashes(gram: string): [number, number] {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < gram.length; i++) {
    const c = gram.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 + c, 0x5bd1e995) >>> 0;
    h2 = (h2 ^ (h2 >>> 15)) >>> 0;
  }
  return [h1 % BITS, h2 % BITS];
}

/** The filter of one span's text, base64 (so it fits the index's text column). */
export function textBloom(text: string): string {
  const bits = new Uint8Array(BITS / 8);
  const folded = foldAscii(text);
  for (let i = 0; i + 3 <= folded.length; i++) {
    for (const h of hashes(folded.slice(i, i + 3))) bits[h >> 3]! |= 1 << (h & 7);
  }
  let bin = '';
  for (const b of bits) bin += String.fromCharCode(b);
  return btoa(bin);
}

/** The literal runs of a LIKE pattern (between `%` and `_`), ASCII-folded. */
function literals(pattern: string): string[] {
  return foldAscii(pattern)
    .split(/[%_]/)
    .filter((s) => s.length >= 3);
}

/** Bit positions every span matching the pattern must have set; none when the pattern is too short. */
export function requiredBits(pattern: string): number[] {
  const out = new Set<number>();
  for (const lit of literals(pattern)) for (let i = 0; i + 3 <= lit.length; i++) for (const h of hashes(lit.slice(i, i + 3))) out.add(h);
  return [...out];
}

export function bloomHasAll(bloomBase64: string, bits: number[]): boolean {
  const bin = atob(bloomBase64);
  return bits.every((h) => ((bin.charCodeAt(h >> 3) >> (h & 7)) & 1) === 1);
}

/**
 * LIKE without ESCAPE: `%` any run, `_` any one character. Case-sensitive, as MLflow's SQLite
 * LIKE; ILIKE (`lower(a) LIKE lower(b)`) folds ASCII letters only, as SQLite's lower().
 */
export function likeMatcher(pattern: string, ignoreCase: boolean): (text: string) => boolean {
  const fold = ignoreCase ? foldAscii : (s: string): string => s;
  const body = fold(pattern)
    .split('')
    .map((c) => (c === '%' ? '[\\s\\S]*' : c === '_' ? '[\\s\\S]' : c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')))
    .join('');
  const re = new RegExp(`^${body}$`);
  return (text) => re.test(fold(text));
}
