/**
 * Diagnostics, completions and hovers inside the filter and order_by strings of a Python
 * document, from the filter checker and what the key cache knows about the store.
 */
import { CompletionItemKind, DiagnosticSeverity, InsertTextFormat, MarkupKind, type CompletionItem, type Diagnostic, type Hover } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { checkFilter, checkOrderBy, formatIdentifier, needsQuoting } from '../filter/filterCheck';
import { fmt, keySuggestions, suggest, type KeyStatsLike, type SuggestionKind } from '../filter/filterSuggest';
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

const ITEM_KINDS: Record<SuggestionKind, CompletionItemKind> = {
  prefix: CompletionItemKind.Module,
  attribute: CompletionItemKind.Property,
  key: CompletionItemKind.Field,
  comparator: CompletionItemKind.Operator,
  value: CompletionItemKind.Value,
  enum: CompletionItemKind.EnumMember,
  keyword: CompletionItemKind.Keyword,
};

/** The store's key statistics as the suggestion function reads them. */
function keyStatsOf(snapshot: StoreSnapshot | undefined): KeyStatsLike | undefined {
  return snapshot && { total: snapshot.runCount, keys: snapshot.keys };
}

/** Completion items inside a filter / order_by / logged-key string at a document offset. */
export function completionsFor(doc: TextDocument, arg: PyStringArg, offset: number, snapshot: StoreSnapshot | undefined): CompletionItem[] {
  const range = (start: number): Diagnostic['range'] => ({ start: doc.positionAt(arg.token.offsets![start]!), end: doc.positionAt(offset) });
  const suggestions =
    arg.use.role === 'logKey'
      ? keySuggestions(arg.use.source, keyStatsOf(snapshot))
      : // Only runs are indexed by key in the cache.
        suggest(arg.use.kind, arg.token.value!, valueIndex(arg.token, offset), arg.use.kind === 'runs' ? keyStatsOf(snapshot) : undefined, arg.use.role);
  return suggestions.map((s) => ({
    label: s.label,
    kind: ITEM_KINDS[s.kind],
    ...(s.detail !== undefined ? { detail: s.detail } : {}),
    ...(s.sort !== undefined ? { sortText: String(s.sort).padStart(5, '0') } : {}),
    ...(s.filterText !== undefined ? { filterText: s.filterText } : {}),
    textEdit: { range: range(s.replaceStart), newText: s.insertText },
    ...(s.retrigger ? { command: { title: 'keys', command: 'editor.action.triggerSuggest' } } : {}),
    ...(s.kind === 'keyword' ? { insertTextFormat: InsertTextFormat.PlainText } : {}),
  }));
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

export { fmt, needsQuoting };
