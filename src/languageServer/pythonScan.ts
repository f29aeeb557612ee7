/**
 * A light scanner for Python source: names, punctuation and string literals (all prefixes,
 * triple quotes, escapes) with offsets, comments skipped. Enough to find the calls whose string
 * arguments are MLflow filters or logged keys, without a Python parser.
 */
import type { SearchKind } from '../filter/vocabulary';

export interface PyToken {
  kind: 'name' | 'string' | 'punct' | 'other';
  text: string;
  start: number;
  end: number;
  /** For strings: the decoded value and, per value index, its offset in the document (one past the end included). */
  value?: string;
  offsets?: number[];
  /** f-strings and byte strings are not filters we can read. */
  dynamic?: boolean;
}

export function scanPython(src: string): PyToken[] {
  const out: PyToken[] = [];
  let i = 0;
  const n = src.length;
  while (i < n) {
    const c = src[i]!;
    if (c === '#') {
      while (i < n && src[i] !== '\n') i++;
      continue;
    }
    if (/\s/.test(c) || c === '\\') {
      i++;
      continue;
    }
    const str = /^([rRbBuUfF]{0,2})('''|"""|'|")/.exec(src.slice(i, i + 5));
    if (str && (str[1] === '' || /^[A-Za-z]+$/.test(str[1]!))) {
      const start = i;
      const prefix = str[1]!.toLowerCase();
      const quote = str[2]!;
      const raw = prefix.includes('r');
      i += str[0].length;
      let value = '';
      const offsets: number[] = [];
      while (i < n) {
        if (src.startsWith(quote, i)) break;
        if (quote.length === 1 && src[i] === '\n') break; // an unclosed one-line string ends at the line
        if (src[i] === '\\' && !raw && i + 1 < n) {
          const e = src[i + 1]!;
          const map: Record<string, string> = { n: '\n', t: '\t', '\\': '\\', "'": "'", '"': '"', r: '\r', '0': '\0' };
          offsets.push(i);
          value += map[e] ?? `\\${e}`;
          if (!(e in map)) offsets.push(i + 1);
          i += 2;
          continue;
        }
        offsets.push(i);
        value += src[i];
        i++;
      }
      offsets.push(i);
      const end = src.startsWith(quote, i) ? i + quote.length : i;
      i = end;
      out.push({ kind: 'string', text: src.slice(start, end), start, end, value, offsets, dynamic: prefix.includes('f') || prefix.includes('b') });
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i, i + 200));
    if (name) {
      out.push({ kind: 'name', text: name[0], start: i, end: i + name[0].length });
      i += name[0].length;
      continue;
    }
    if ('()[]{},=.:'.includes(c)) {
      // `==`, `<=` … are operators, not keyword-argument equals.
      if (c === '=' && src[i + 1] === '=') {
        out.push({ kind: 'other', text: '==', start: i, end: i + 2 });
        i += 2;
        continue;
      }
      out.push({ kind: 'punct', text: c, start: i, end: i + 1 });
      i++;
      continue;
    }
    out.push({ kind: 'other', text: c, start: i, end: i + 1 });
    i++;
  }
  return out;
}

/** Where each search function takes its filter positionally (mlflow.* and MlflowClient agree). */
const SEARCH_CALLS: Record<string, { kind: SearchKind; filterIndex: number }> = {
  search_runs: { kind: 'runs', filterIndex: 1 },
  search_traces: { kind: 'traces', filterIndex: 1 },
  search_experiments: { kind: 'experiments', filterIndex: 2 },
  search_registered_models: { kind: 'registeredModels', filterIndex: 0 },
  search_model_versions: { kind: 'modelVersions', filterIndex: 0 },
  search_logged_models: { kind: 'loggedModels', filterIndex: 1 },
};

const LOG_CALLS: Record<string, { source: 'metrics' | 'params' | 'tags'; dict: boolean }> = {
  log_metric: { source: 'metrics', dict: false },
  log_metrics: { source: 'metrics', dict: true },
  log_param: { source: 'params', dict: false },
  log_params: { source: 'params', dict: true },
  set_tag: { source: 'tags', dict: false },
  set_tags: { source: 'tags', dict: true },
};

export type PyStringRole = { role: 'filter'; kind: SearchKind } | { role: 'orderBy'; kind: SearchKind } | { role: 'logKey'; source: 'metrics' | 'params' | 'tags' };

export interface PyStringArg {
  token: PyToken;
  use: PyStringRole;
  call: string;
}

export interface PyScan {
  strings: PyStringArg[];
  /** Offsets of `start_run` names called as `mlflow.start_run(`. */
  startRuns: { start: number; end: number }[];
}

/** The string arguments that are filters, order_by items or logged keys, and the start_run calls. */
export function findCalls(src: string): PyScan {
  const t = scanPython(src);
  const strings: PyStringArg[] = [];
  const startRuns: PyScan['startRuns'] = [];
  for (let i = 1; i < t.length - 1; i++) {
    const name = t[i]!;
    if (name.kind !== 'name' || t[i - 1]!.text !== '.' || t[i + 1]!.text !== '(') continue;
    if (name.text === 'start_run') startRuns.push({ start: name.start, end: name.end });
    const search = SEARCH_CALLS[name.text];
    const log = LOG_CALLS[name.text];
    if (!search && !log) continue;
    // Walk the arguments at depth 1: positional index, keyword name, order_by list items, dict keys.
    let depth = 0;
    let position = 0;
    let keyword: string | undefined;
    let argStart = true;
    for (let j = i + 1; j < t.length; j++) {
      const tok = t[j]!;
      if (tok.text === '(' || tok.text === '[' || tok.text === '{') {
        depth++;
        if (depth > 1) argStart = false;
        continue;
      }
      if (tok.text === ')' || tok.text === ']' || tok.text === '}') {
        depth--;
        if (depth === 0) break;
        continue;
      }
      if (depth === 1 && tok.text === ',') {
        position++;
        keyword = undefined;
        argStart = true;
        continue;
      }
      if (depth === 1 && argStart && tok.kind === 'name' && t[j + 1]?.text === '=') {
        keyword = tok.text;
        j++;
        continue;
      }
      if (tok.kind !== 'string' || tok.dynamic) {
        argStart = false;
        continue;
      }
      const atArg = argStart && depth === 1;
      argStart = false;
      if (search) {
        const isFilter = keyword === 'filter_string' || keyword === 'filter' || (keyword === undefined && position === search.filterIndex);
        if (atArg && isFilter) strings.push({ token: tok, use: { role: 'filter', kind: search.kind }, call: name.text });
        else if (keyword === 'order_by' && depth === 2) strings.push({ token: tok, use: { role: 'orderBy', kind: search.kind }, call: name.text });
      } else if (log) {
        const isKey = log.dict ? depth === 2 && t[j + 1]?.text === ':' && position === 0 && keyword === undefined : atArg && (keyword === 'key' || (keyword === undefined && position === 0));
        if (isKey) strings.push({ token: tok, use: { role: 'logKey', source: log.source }, call: name.text });
      }
    }
  }
  return { strings, startRuns };
}

/** The string argument whose content (between its quotes) contains `offset`, if any. */
export function stringAt(scan: PyScan, offset: number): PyStringArg | undefined {
  return scan.strings.find((s) => offset >= s.token.offsets![0]! && offset <= s.token.offsets![s.token.offsets!.length - 1]!);
}

/** The value index of a document offset inside a string token (the nearest at or before it). */
export function valueIndex(token: PyToken, offset: number): number {
  const offsets = token.offsets!;
  let k = 0;
  while (k + 1 < offsets.length && offsets[k + 1]! <= offset) k++;
  return k;
}
