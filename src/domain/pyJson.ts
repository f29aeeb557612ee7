/**
 * JSON text as Python's `json.dumps` writes it with default arguments (", " and ": "
 * separators, non-ASCII escaped, floats in `repr` form). MLflow derives stored values from that
 * text — a trace's request preview is the root span's input attribute verbatim — so spans
 * arriving over OTLP are encoded this way to read back exactly as MLflow's server returns them.
 */

/** Python's float repr: `1.0`, `1e-05`, `1e+16`, `inf` never appears (json.dumps writes `Infinity`). */
export function pyFloat(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity';
  if (n === 0) return Object.is(n, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(n);
  if (abs >= 1e16 || abs < 1e-4) {
    // Shortest round-trip digits, written with Python's two-digit signed exponent.
    const [mantissa, exp] = n.toExponential().split('e') as [string, string];
    const e = Number(exp);
    return `${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  const s = String(n);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

function pyString(s: string, ensureAscii = true): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i]!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (c < 0x20 || (ensureAscii && c > 0x7e)) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/**
 * `json.dumps(value)`. A JS number that is an integer is written as one; an OTLP double that
 * happens to be whole arrives as a PyFloat, so it keeps Python's `2.0`.
 */
export function pyJsonDumps(value: unknown, opts: { ensureAscii?: boolean } = {}): string {
  const ascii = opts.ensureAscii ?? true;
  const walk = (v: unknown): string => {
    if (v === null || v === undefined) return 'null';
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    if (typeof v === 'number') return Number.isInteger(v) ? String(v) : pyFloat(v);
    if (typeof v === 'bigint') return v.toString();
    if (typeof v === 'string') return pyString(v, ascii);
    if (v instanceof PyFloat) return pyFloat(v.value);
    if (Array.isArray(v)) return `[${v.map(walk).join(', ')}]`;
    if (typeof v === 'object') {
      return `{${Object.entries(v as Record<string, unknown>)
        .map(([k, x]) => `${pyString(k, ascii)}: ${walk(x)}`)
        .join(', ')}}`;
    }
    return 'null';
  };
  return walk(value);
}

/** An OTLP double whose value is whole (Python keeps it a float: `2.0`, not `2`). */
export class PyFloat {
  constructor(readonly value: number) {}
  toJSON(): number {
    return this.value;
  }
}
