/**
 * Diagnostics, completions and hovers inside the filter and order_by strings of a Python
 * document, from the filter checker and what the key cache knows about the store.
 */
import { CompletionItemKind, DiagnosticSeverity, InsertTextFormat, MarkupKind, type CompletionItem, type Diagnostic, type Hover } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { checkFilter, checkOrderBy, formatIdentifier, needsQuoting } from '../filter/filterCheck';
import { completionContext } from '../filter/filterCompletion';
import type { FilterDiagnostic } from '../filter/filterAst';
import { parseFilterText, parseOrderByText } from '../filter/filterSyntax';
import { attributeWord, entityWord, keyRule, VOCABULARIES, type KeySource, type Vocabulary } from '../filter/vocabulary';
import type { PyStringArg, PyScan } from './pythonScan';
import { valueIndex } from './pythonScan';
import type { KeyStats, StoreSnapshot } from './keyCache';

export const SOURCE = 'runlens';

/** A document range of a filter string's [start, end) value offsets. */
function docRange(doc: TextDocument, arg: PyStringArg, start: number, end: number): Diagnostic['range'] {
  const offsets = arg.token.offsets!;
  const at = (k: number): number => offsets[Math.min(Math.max(k, 0), offsets.length - 1)]!;
  const s = at(start);
  const e = end > start ? at(end - 1) + 1 : s;
  return { start: doc.positionAt(s), end: doc.positionAt(Math.max(e, s)) };
}

/** `snapshotOf` gives the runs a string is checked against: its search's experiments, or the store. */
export function diagnosticsFor(doc: TextDocument, scan: PyScan, snapshotOf: (arg: PyStringArg) => StoreSnapshot | undefined): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const arg of scan.strings) {
    if (arg.use.role === 'logKey') continue;
    const snapshot = snapshotOf(arg);
    const vocab = VOCABULARIES[arg.use.kind];
    // Only runs are indexed by key in the cache; other searches get syntax and vocabulary checks.
    const known = arg.use.kind === 'runs' && snapshot ? snapshot.known : {};
    const value = arg.token.value!;
    const ds: FilterDiagnostic[] = arg.use.role === 'filter' ? checkFilter(vocab, value, known).diagnostics : checkOrderBy(vocab, value, known).diagnostics;
    for (const d of ds) {
      out.push({
        range: docRange(doc, arg, d.start, d.end),
        severity: d.severity === 'warning' ? DiagnosticSeverity.Warning : DiagnosticSeverity.Error,
        source: SOURCE,
        code: d.code,
        message: d.message,
        ...(d.suggestion ? { data: { suggestion: d.suggestion } } : {}),
      });
    }
  }
  return out;
}

const COMPARATOR_DOCS: Record<string, string> = { LIKE: 'SQL pattern, % and _ (case-sensitive)', ILIKE: 'SQL pattern, case-insensitive', IN: "one of a list: IN ('a', 'b')", 'NOT IN': "none of a list: NOT IN ('a', 'b')" };

function ranked(stats: Map<string, KeyStats> | undefined): [string, KeyStats][] {
  return [...(stats ?? new Map<string, KeyStats>()).entries()].sort((a, b) => b[1].count - a[1].count || a[0].localeCompare(b[0]));
}

function keyDetail(source: KeySource, s: KeyStats, runCount: number): string {
  const share = `${s.count} of ${runCount} runs`;
  if (source === 'metrics' && s.min !== undefined) return `${share} · ${fmt(s.min)} … ${fmt(s.max!)}`;
  return share;
}

export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(3) : String(Number(v.toPrecision(4)));
}

/** Completion items inside a filter / order_by / logged-key string at a document offset. */
export function completionsFor(doc: TextDocument, arg: PyStringArg, offset: number, snapshot: StoreSnapshot | undefined): CompletionItem[] {
  const k = valueIndex(arg.token, offset);
  const value = arg.token.value!;
  const range = (start: number): Diagnostic['range'] => ({ start: doc.positionAt(arg.token.offsets![start]!), end: doc.positionAt(offset) });
  if (arg.use.role === 'logKey') {
    const stats = snapshot?.keys[arg.use.source];
    return ranked(stats).map(([key, s], i) => ({ label: key, kind: CompletionItemKind.Field, detail: keyDetail(arg.use.role === 'logKey' ? arg.use.source : 'metrics', s, snapshot!.runCount), sortText: String(i).padStart(5, '0'), textEdit: { range: range(0), newText: key } }));
  }
  const vocab = VOCABULARIES[arg.use.kind];
  const ctx = completionContext(value, k);
  const items: CompletionItem[] = [];
  const sort = (i: number): string => String(i).padStart(5, '0');
  const r = range(ctx.replaceStart);
  const at = ctx.at;
  if (at.slot === 'identifier' && at.entity === null) {
    vocab.entities.forEach((e, i) => items.push({ label: `${e.names[0]}.`, kind: CompletionItemKind.Module, detail: e.doc, sortText: sort(i), textEdit: { range: r, newText: `${e.names[0]}.` }, command: { title: 'keys', command: 'editor.action.triggerSuggest' } }));
    Object.entries(vocab.attributes).forEach(([name, w], i) => items.push({ label: name, kind: CompletionItemKind.Property, detail: `${w.type} attribute — ${w.doc}`, sortText: sort(100 + i), textEdit: { range: r, newText: name } }));
    if (vocab.attributePrefixes[0]) items.push({ label: `${vocab.attributePrefixes[0]}.`, kind: CompletionItemKind.Module, detail: 'an attribute, written explicitly', sortText: sort(90), textEdit: { range: r, newText: `${vocab.attributePrefixes[0]}.` }, command: { title: 'keys', command: 'editor.action.triggerSuggest' } });
  } else if (at.slot === 'identifier') {
    const entity = at.entity!;
    const e = entityWord(vocab, entity);
    // Replace the whole identifier so keys needing backticks can be quoted.
    const idStart = ctx.replaceStart - entity.length - 1;
    const idRange = range(Math.max(0, idStart));
    if (vocab.attributePrefixes.includes(entity)) {
      Object.entries(vocab.attributes).forEach(([name, w], i) => items.push({ label: name, kind: CompletionItemKind.Property, detail: w.doc, sortText: sort(i), filterText: `${entity}.${name}`, textEdit: { range: idRange, newText: `${entity}.${name}` } }));
    } else if (e?.fixedKeys) {
      e.fixedKeys.forEach((key, i) => items.push({ label: key, kind: CompletionItemKind.Property, detail: e.doc, sortText: sort(i), filterText: `${entity}.${key}`, textEdit: { range: idRange, newText: `${entity}.${key}` } }));
    } else if (e?.keySource && arg.use.kind === 'runs') {
      ranked(snapshot?.keys[e.keySource]).forEach(([key, s], i) =>
        items.push({ label: key, kind: CompletionItemKind.Field, detail: keyDetail(e.keySource!, s, snapshot!.runCount), sortText: sort(i), filterText: `${entity}.${key}`, textEdit: { range: idRange, newText: formatIdentifier(entity, key) } }),
      );
    }
  } else if (at.slot === 'comparator') {
    const e = at.entity !== null && !vocab.attributePrefixes.includes(at.entity) ? entityWord(vocab, at.entity) : undefined;
    const attr = e ? undefined : attributeWord(vocab, at.key);
    const rule = e ? keyRule(e, at.key) : attr?.word;
    const list = arg.use.role === 'orderBy' ? ['ASC', 'DESC'] : [...(rule?.comparators ?? []), ...(e?.nullChecks ? ['IS NULL', 'IS NOT NULL'] : [])];
    list.forEach((c, i) => items.push({ label: c, kind: CompletionItemKind.Operator, detail: COMPARATOR_DOCS[c] ?? (rule?.type === 'number' ? 'numeric comparison' : 'comparison'), sortText: sort(i), textEdit: { range: r, newText: c } }));
  } else if (at.slot === 'value') {
    const e = at.entity !== null ? entityWord(vocab, at.entity) : undefined;
    const source = e?.keySource && arg.use.kind === 'runs' ? e.keySource : undefined;
    const quote = arg.token.text.includes('"') && !arg.token.text.startsWith("'") && !/^[a-z]*'/i.test(arg.token.text) ? "'" : "'";
    if (source === 'params' || source === 'tags') {
      const values = [...(snapshot?.keys[source].get(at.key)?.values ?? new Map<string, number>()).entries()].sort((a, b) => b[1] - a[1]).slice(0, 100);
      values.forEach(([v, n], i) => items.push({ label: `${quote}${v}${quote}`, kind: CompletionItemKind.Value, detail: `${n} run${n === 1 ? '' : 's'}`, sortText: sort(i), textEdit: { range: r, newText: `${quote}${v.replace(/'/g, "''")}${quote}` } }));
    } else if (source === 'metrics') {
      const s = snapshot?.keys.metrics.get(at.key);
      if (s?.min !== undefined) for (const [label, v] of [['min', s.min], ['max', s.max!], ['latest', s.latest!.value]] as const) items.push({ label: fmt(v), kind: CompletionItemKind.Value, detail: label, textEdit: { range: r, newText: fmt(v) } });
    } else if (at.key === 'status' || at.key === 'state') {
      const states = arg.use.kind === 'traces' ? ['OK', 'ERROR', 'IN_PROGRESS'] : ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'];
      states.forEach((v, i) => items.push({ label: `'${v}'`, kind: CompletionItemKind.EnumMember, sortText: sort(i), textEdit: { range: r, newText: `'${v}'` } }));
    }
  } else {
    items.push({ label: 'AND', kind: CompletionItemKind.Keyword, textEdit: { range: r, newText: 'AND ' }, insertTextFormat: InsertTextFormat.PlainText });
  }
  return items;
}

/** A run count and what the values look like, for a hover. */
function describeKey(source: KeySource, key: string, s: KeyStats | undefined, snapshot: StoreSnapshot): string {
  if (!s) return `**${source}.${key}**: no run of the ${snapshot.runCount} runs in ${snapshot.scope} has it.`;
  const lines = [`**${formatIdentifier(source, key)}** — ${s.count} of ${snapshot.runCount} runs in ${snapshot.scope}`];
  if (source === 'metrics' && s.min !== undefined) {
    lines.push(`min ${fmt(s.min)} · max ${fmt(s.max!)} · latest ${fmt(s.latest!.value)} (${s.latest!.run.name})`);
  } else if (s.values) {
    const values = [...s.values.entries()].sort((a, b) => b[1] - a[1]);
    lines.push(`${values.length} distinct value${values.length === 1 ? '' : 's'}: ${values.slice(0, 8).map(([v, n]) => `\`${v}\` (${n})`).join(', ')}${values.length > 8 ? ', …' : ''}`);
  }
  return lines.join('\n\n');
}

/** Hover on a key inside a filter or order_by string. */
export function filterHover(arg: PyStringArg, offset: number, snapshot: StoreSnapshot | undefined): Hover | undefined {
  if (arg.use.role === 'logKey') return undefined;
  const k = valueIndex(arg.token, offset);
  const vocab: Vocabulary = VOCABULARIES[arg.use.kind];
  const value = arg.token.value!;
  const ids = arg.use.role === 'filter' ? parseFilterText(value, { nullChecks: true }).identifiers : [parseOrderByText(value).orderBy?.identifier].filter((x) => x !== undefined);
  const id = ids.find((i) => k >= i.range.start && k <= i.range.end);
  if (!id) return undefined;
  const e = id.entity !== null && !vocab.attributePrefixes.includes(id.entity) ? entityWord(vocab, id.entity) : undefined;
  let text: string;
  if (e?.keySource && arg.use.kind === 'runs') {
    text = snapshot ? describeKey(e.keySource, id.key, snapshot.keys[e.keySource].get(id.key), snapshot) : `**${id.entity}.${id.key}** — ${e.doc} (no tracking server answers: keys unknown)`;
  } else if (e) text = `**${id.entity}.${id.key}** — ${e.doc}; comparators ${keyRule(e, id.key).comparators.join(', ')}`;
  else {
    const a = attributeWord(vocab, id.key);
    text = a ? `**${a.name}** — ${a.word.doc} (${a.word.type}); comparators ${a.word.comparators.join(', ')}` : `'${id.key}' is not an attribute of ${vocab.what}`;
  }
  return { contents: { kind: MarkupKind.Markdown, value: text } };
}

export { needsQuoting };
