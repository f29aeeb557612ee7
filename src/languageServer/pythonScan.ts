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

/** Logged keys: the fluent API takes the key first, MlflowClient takes the run id first. */
const LOG_CALLS: Record<string, { source: 'metrics' | 'params' | 'tags'; dict?: string }> = {
  log_metric: { source: 'metrics' },
  log_metrics: { source: 'metrics', dict: 'metrics' },
  log_param: { source: 'params' },
  log_params: { source: 'params', dict: 'params' },
  set_tag: { source: 'tags' },
  set_tags: { source: 'tags', dict: 'tags' },
};

/**
 * Artifact-writing calls: which argument is the local file or directory, which the artifact
 * directory, which the artifact file (fluent positions; MlflowClient adds the run id in front).
 */
const ARTIFACT_CALLS: Record<string, { local?: [number, string]; dir?: [number, string]; file?: [number, string]; isDir?: boolean }> = {
  log_artifact: { local: [0, 'local_path'], dir: [1, 'artifact_path'] },
  log_artifacts: { local: [0, 'local_dir'], dir: [1, 'artifact_path'], isDir: true },
  log_text: { file: [1, 'artifact_file'] },
  log_dict: { file: [1, 'artifact_file'] },
  log_figure: { file: [1, 'artifact_file'] },
  log_image: { file: [1, 'artifact_file'] },
  log_table: { file: [1, 'artifact_file'] },
};

/** Which experiments a call or a file targets, when written as literals. */
export interface ExperimentRef {
  ids?: string[];
  names?: string[];
  /** The literal strings naming them, for diagnostics on a name that exists nowhere. */
  tokens: PyToken[];
  /** `set_experiment(name)` creates the experiment when it does not exist yet. */
  creates?: boolean;
}

/** What an artifact call writes: a file at `path`, or a directory (`''` is the run's root). */
export interface ArtifactTarget {
  path: string;
  dir: boolean;
}

export type PyStringRole =
  | { role: 'filter'; kind: SearchKind }
  | { role: 'orderBy'; kind: SearchKind }
  | { role: 'logKey'; source: 'metrics' | 'params' | 'tags' };

export interface PyStringArg {
  token: PyToken;
  use: PyStringRole;
  call: string;
  /**
   * The experiments this string is about: a search's own experiment_ids / experiment_names, or
   * for logged keys and artifacts the last `set_experiment(...)` / `start_run(experiment_id=...)`
   * above it. Undefined when not written as literals (then every experiment counts).
   */
  experiment?: ExperimentRef;
}

/** A literal path argument of an artifact call and where that call writes in the run. */
export interface PyArtifactArg {
  token: PyToken;
  target: ArtifactTarget;
  call: string;
  experiment?: ExperimentRef;
}

export interface PyScan {
  strings: PyStringArg[];
  artifacts: PyArtifactArg[];
  /** Offsets of `start_run` names called as `mlflow.start_run(`. */
  startRuns: { start: number; end: number }[];
  /** Literal experiment references (search targets and set_experiment calls), in document order. */
  experimentRefs: ExperimentRef[];
}

/** One argument of a call: its keyword (if any), its index among the arguments, its tokens. */
interface CallArg {
  keyword?: string;
  index: number;
  /** Tokens of the argument with their bracket depth inside it (0 = the argument's own level). */
  tokens: { tok: PyToken; depth: number }[];
}

/** The arguments of the call whose `(` is at t[open]. */
function callArgs(t: PyToken[], open: number): CallArg[] {
  const args: CallArg[] = [];
  let cur: CallArg | undefined;
  let depth = 0;
  let index = 0;
  for (let j = open; j < t.length; j++) {
    const tok = t[j]!;
    if (tok.text === '(' || tok.text === '[' || tok.text === '{') {
      depth++;
      if (depth === 1) continue;
    } else if (tok.text === ')' || tok.text === ']' || tok.text === '}') {
      depth--;
      if (depth === 0) break;
    } else if (depth === 1 && tok.text === ',') {
      index++;
      cur = undefined;
      continue;
    }
    if (!cur) {
      cur = { index, tokens: [] };
      args.push(cur);
      if (depth === 1 && tok.kind === 'name' && t[j + 1]?.text === '=') {
        cur.keyword = tok.text;
        j++;
        continue;
      }
    }
    const opening = tok.text === '(' || tok.text === '[' || tok.text === '{';
    cur.tokens.push({ tok, depth: depth - 1 - (opening ? 1 : 0) });
  }
  return args;
}

/** The argument at `index` (positional) or named `keyword`. */
function argOf(args: CallArg[], index: number, keyword: string): CallArg | undefined {
  return args.find((a) => a.keyword === keyword) ?? args.find((a) => a.keyword === undefined && a.index === index);
}

/** The argument's first token when it is a string literal we can read (not an f- or b-string). */
function leadingString(arg: CallArg | undefined): PyToken | undefined {
  const first = arg?.tokens[0]?.tok;
  return first && first.kind === 'string' && !first.dynamic ? first : undefined;
}

/** The argument's value when it is one plain string literal. */
function literal(arg: CallArg | undefined): PyToken | undefined {
  return arg?.tokens.length === 1 ? leadingString(arg) : undefined;
}

/** A string literal, or a list/tuple of string literals; undefined when anything else is in it. */
function literalList(arg: CallArg | undefined): PyToken[] | undefined {
  if (!arg) return undefined;
  const one = literal(arg);
  if (one) return [one];
  const strings: PyToken[] = [];
  for (const { tok, depth } of arg.tokens) {
    if (depth === 0 && '[]()'.includes(tok.text)) continue;
    if (depth === 1 && tok.text === ',') continue;
    if (depth === 1 && tok.kind === 'string' && !tok.dynamic) strings.push(tok);
    else return undefined;
  }
  return strings.length ? strings : undefined;
}

const basename = (p: string): string => p.replace(/[\\/]+$/, '').split(/[\\/]/).pop() ?? p;
const joinArtifact = (dir: string | undefined, name: string): string => [dir?.replace(/^\/+|\/+$/g, ''), name].filter((x) => x).join('/');

/**
 * Whether a call on an unknown receiver takes a run id first (MlflowClient's form): its first
 * argument is no string literal (a key, a path) nor a dict (logged values); for the
 * `log_text`-like calls, whether it has the client's extra argument.
 */
function runIdFirst(fn: string, args: CallArg[]): number {
  const positional = args.filter((a) => a.keyword === undefined);
  const first = positional.find((a) => a.index === 0)?.tokens[0]?.tok;
  if (ARTIFACT_CALLS[fn]?.file) return positional.length >= 3 ? 1 : 0;
  if (LOG_CALLS[fn]?.dict) return first?.text === '{' ? 0 : 1;
  return first?.kind === 'string' ? 0 : 1;
}

/**
 * The names `mlflow` is imported as (`import mlflow`, `import mlflow as mf`), and the functions
 * imported from it by name (`from mlflow import log_metric, search_runs as sr`), which are then
 * called bare.
 */
function fluentNames(t: PyToken[]): { modules: Set<string>; functions: Map<string, string> } {
  const modules = new Set(['mlflow']);
  const functions = new Map<string, string>();
  for (let i = 0; i + 3 < t.length; i++) {
    if (t[i]!.text === 'import' && t[i + 1]!.text === 'mlflow' && t[i + 2]!.text === 'as' && t[i + 3]!.kind === 'name') modules.add(t[i + 3]!.text);
    if (t[i]!.text === 'from' && t[i + 1]!.text === 'mlflow' && t[i + 2]!.text === 'import') {
      let j = i + 3;
      if (t[j]?.text === '(') j++;
      while (t[j]?.kind === 'name') {
        const fn = t[j]!.text;
        let alias = fn;
        if (t[j + 1]?.text === 'as' && t[j + 2]?.kind === 'name') {
          alias = t[j + 2]!.text;
          j += 2;
        }
        functions.set(alias, fn);
        if (t[j + 1]?.text !== ',') break;
        j += 2;
      }
    }
  }
  return { modules, functions };
}

/** The string arguments that are filters, order_by items, logged keys or artifact paths, and the start_run calls. */
export function findCalls(src: string): PyScan {
  const t = scanPython(src);
  const strings: PyStringArg[] = [];
  const artifacts: PyArtifactArg[] = [];
  const startRuns: PyScan['startRuns'] = [];
  const experimentRefs: ExperimentRef[] = [];
  /** What the last set_experiment / start_run(experiment_id=...) above names: later logging calls belong to it. */
  let fileExperiment: ExperimentRef | undefined;
  const fluent = fluentNames(t);
  const refOf = (ids: PyToken[] | undefined, names: PyToken[] | undefined): ExperimentRef | undefined =>
    ids ? { ids: ids.map((x) => x.value!), tokens: ids } : names ? { names: names.map((x) => x.value!), tokens: names } : undefined;
  for (let i = 0; i < t.length - 1; i++) {
    const tok = t[i]!;
    if (tok.kind !== 'name' || t[i + 1]!.text !== '(') continue;
    const method = t[i - 1]?.text === '.';
    // A bare call counts when the function was imported from mlflow (and this is not its `def`).
    const fn = method ? tok.text : t[i - 1]?.text !== 'def' ? fluent.functions.get(tok.text) : undefined;
    if (!fn) continue;
    const name = { ...tok, text: fn };
    const receiver = t[i - 2];
    const isFluent = !method || (receiver?.kind === 'name' && fluent.modules.has(receiver.text) && t[i - 3]?.text !== '.');
    const search = SEARCH_CALLS[name.text];
    const log = LOG_CALLS[name.text];
    const artifact = ARTIFACT_CALLS[name.text];
    const marksExperiment = name.text === 'set_experiment' || name.text === 'start_run';
    if (!search && !log && !artifact && !marksExperiment) continue;
    const args = callArgs(t, i + 1);
    if (name.text === 'start_run') startRuns.push({ start: name.start, end: name.end });
    if (marksExperiment) {
      const ref =
        name.text === 'set_experiment'
          ? refOf(literalList(argOf(args, 1, 'experiment_id')), literalList(argOf(args, 0, 'experiment_name')))
          : refOf(literalList(argOf(args, 1, 'experiment_id')), undefined);
      // A set_experiment with a non-literal name still moves later calls off the earlier experiment.
      if (ref || name.text === 'set_experiment') fileExperiment = ref;
      if (ref) experimentRefs.push(name.text === 'set_experiment' && ref.names ? { ...ref, creates: true } : ref);
      continue;
    }
    // mlflow.* takes the key (or path) first; MlflowClient takes the run id first. On a receiver
    // that is not the mlflow module (a client, or some other library's logger), read the call.
    const shift = isFluent ? 0 : runIdFirst(name.text, args);
    if (search) {
      const experiment = refOf(literalList(argOf(args, 0, 'experiment_ids')), literalList(argOf(args, -1, 'experiment_names')));
      if (experiment && search.kind === 'runs') experimentRefs.push(experiment);
      const scope = search.kind === 'runs' ? experiment : undefined;
      const filterArg = argOf(args, search.filterIndex, 'filter_string') ?? args.find((a) => a.keyword === 'filter');
      const first = leadingString(filterArg);
      if (first) strings.push({ token: first, use: { role: 'filter', kind: search.kind }, call: name.text, ...(scope ? { experiment: scope } : {}) });
      for (const { tok, depth } of args.find((a) => a.keyword === 'order_by')?.tokens ?? []) {
        if (depth === 1 && tok.kind === 'string' && !tok.dynamic) strings.push({ token: tok, use: { role: 'orderBy', kind: search.kind }, call: name.text, ...(scope ? { experiment: scope } : {}) });
      }
    } else if (log) {
      const experiment = fileExperiment;
      const push = (tok: PyToken): void => void strings.push({ token: tok, use: { role: 'logKey', source: log.source }, call: name.text, ...(experiment ? { experiment } : {}) });
      if (log.dict) {
        const dict = argOf(args, shift, log.dict);
        const toks = dict?.tokens ?? [];
        toks.forEach(({ tok, depth }, k) => {
          if (depth === 1 && tok.kind === 'string' && !tok.dynamic && toks[k + 1]?.tok.text === ':') push(tok);
        });
      } else {
        const key = leadingString(argOf(args, shift, 'key'));
        if (key) push(key);
      }
    } else if (artifact) {
      const experiment = fileExperiment;
      const at = (spec: [number, string] | undefined): CallArg | undefined => (spec ? argOf(args, spec[0] + shift, spec[1]) : undefined);
      const local = literal(at(artifact.local));
      const dirArg = at(artifact.dir);
      const dir = literal(dirArg);
      const file = literal(at(artifact.file));
      // A directory argument given but not as a literal: where the file lands is unknown.
      if (dirArg && !dir) continue;
      let target: ArtifactTarget | undefined;
      if (file) target = { path: file.value!.replace(/^\/+/, ''), dir: false };
      else if (artifact.isDir) target = { path: joinArtifact(dir?.value, ''), dir: true };
      else if (local) target = { path: joinArtifact(dir?.value, basename(local.value!)), dir: false };
      else if (dir) target = { path: joinArtifact(dir.value, ''), dir: true };
      if (!target) continue;
      for (const tok of [local, dir, file]) {
        if (tok) artifacts.push({ token: tok, target, call: name.text, ...(experiment ? { experiment } : {}) });
      }
    }
  }
  return { strings, artifacts, startRuns, experimentRefs };
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
