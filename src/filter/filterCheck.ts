/**
 * Checks parsed filters against a search's vocabulary, and — when the caller knows which keys
 * exist in the store — against those keys: every problem as a diagnostic with its range and,
 * where one is plausible, a "did you mean" replacement.
 */
import type { Clause, FilterDiagnostic, Identifier, NullClause, ParsedFilter, ParsedOrderBy, Span } from './filterAst';
import { isNullClause } from './filterAst';
import { closest } from './didYouMean';
import { attributeWord, entityWord, keyRule, prefixesOf, type EntityWord, type KeySource, type ValueType, type Vocabulary } from './vocabulary';
import { parseFilterText, parseOrderByText } from './filterSyntax';

/** The keys that exist, per source; a source left out is unknown (no key warnings for it). */
export type KnownKeys = Partial<Record<KeySource, ReadonlySet<string>>>;

/** `metrics.acc`, or `metrics.\`val loss\`` when the key needs quoting. */
export function formatIdentifier(prefix: string, key: string): string {
  return `${prefix}.${needsQuoting(key) ? `\`${key.replace(/`/g, '``')}\`` : key}`;
}

/** Keys with dots, spaces or other punctuation are written in backticks. */
export function needsQuoting(key: string): boolean {
  return !/^[A-Za-z0-9_]+$/.test(key);
}

const diag = (span: Span, code: FilterDiagnostic['code'], message: string, suggestion?: string, severity: FilterDiagnostic['severity'] = 'error'): FilterDiagnostic => ({
  start: span.start,
  end: span.end,
  severity,
  code,
  message,
  ...(suggestion !== undefined ? { suggestion } : {}),
});

const didYouMean = (s: string | undefined): string => (s ? `: did you mean \`${s}\`?` : '');

function comparatorList(list: readonly string[]): string {
  return list.join(', ');
}

/** A bare word that is no attribute: most often a metric or param written without its prefix. */
function unknownAttribute(vocab: Vocabulary, c: Clause | NullClause | undefined, id: Identifier, known: KnownKeys): FilterDiagnostic {
  const owner = vocab.entities.find((e) => e.keySource && known[e.keySource]?.has(id.key));
  const names = Object.keys(vocab.attributes);
  let suggestion: string | undefined;
  if (owner) suggestion = formatIdentifier(owner.names[0]!, id.key);
  else if (id.entity === null && c && !isNullClause(c)) {
    // Guess the prefix from the value: numbers are compared with metrics, strings with params.
    const wanted: ValueType = c.value.kind === 'number' ? 'number' : 'string';
    const near = closest(id.key, names)[0];
    const byType = vocab.entities.find((e) => e.keySource && e.type === wanted && !e.fixedKeys);
    suggestion = near ?? (byType ? formatIdentifier(byType.names[0]!, id.key) : undefined);
  } else suggestion = closest(id.key, names)[0];
  const message = `'${id.key}' is not an attribute of ${vocab.what}${didYouMean(suggestion)}${suggestion ? '' : ` Attributes: ${names.join(', ')}.`}`;
  return diag(id.range, 'unknown-attribute', message, suggestion);
}

function checkValueType(type: ValueType, c: Clause, what: string): FilterDiagnostic | undefined {
  if (type === 'any') return undefined;
  if (type === 'number' && c.value.kind !== 'number') {
    const text = c.value.kind === 'string' ? c.value.value : '';
    const numeric = text.trim() !== '' && Number.isFinite(Number(text));
    return diag(c.valueRange, 'value-type', `${what} compare to numbers, not strings${numeric ? `: write ${text.trim()}` : ''}`, numeric ? text.trim() : undefined);
  }
  if (type === 'string' && c.value.kind === 'number') {
    const quoted = `'${c.value.text}'`;
    return diag(c.valueRange, 'value-type', `${what} are strings: quote the value, ${quoted}`, quoted);
  }
  if (type === 'string' && c.value.kind === 'list' && c.comparator !== 'IN' && c.comparator !== 'NOT IN') return diag(c.valueRange, 'value-type', `a list only goes with IN / NOT IN`);
  return undefined;
}

function checkEntityKey(vocab: Vocabulary, e: EntityWord, id: Identifier, known: KnownKeys): FilterDiagnostic | undefined {
  const prefix = id.entity ?? e.names[0]!;
  if (e.fixedKeys && !e.fixedKeys.includes(id.key) && !(e.keyPrefixes ?? []).some((p) => id.key.startsWith(p) && id.key.length > p.length)) {
    const near = closest(id.key, e.fixedKeys)[0];
    return diag(id.keyRange, 'unknown-attribute', `'${prefix}.${id.key}' is not searchable; use ${e.fixedKeys.map((k) => `${prefix}.${k}`).join(', ')}${(e.keyPrefixes ?? []).map((p) => `, ${prefix}.${p}<key>`).join('')}${didYouMean(near ? formatIdentifier(prefix, near) : undefined)}`, near);
  }
  const keys = e.keySource ? known[e.keySource] : undefined;
  if (keys && !keys.has(id.key)) {
    const near = closest(id.key, keys)[0];
    const where = vocab.kind === 'runs' ? 'no run of these experiments has it' : `no ${vocab.what.replace(/s$/, '')} has it`;
    return diag(id.keyRange, 'unknown-key', `${prefix}.${id.key}: ${where}${didYouMean(near ? formatIdentifier(prefix, near) : undefined)}`, near, 'warning');
  }
  return undefined;
}

/** The vocabulary problems of one clause (a syntax error elsewhere does not hide them). */
function checkClause(vocab: Vocabulary, c: Clause | NullClause, known: KnownKeys): FilterDiagnostic[] {
  const id = c.identifier;
  const out: FilterDiagnostic[] = [];
  if (id.entity !== null && !vocab.attributePrefixes.includes(id.entity)) {
    const e = entityWord(vocab, id.entity);
    if (!e) {
      const near = closest(id.entity, vocab.entities.flatMap((x) => x.names).concat(vocab.attributePrefixes))[0];
      out.push(diag({ start: id.range.start, end: id.keyRange.start - 1 }, 'unknown-entity', `'${id.entity}' is not a prefix of ${vocab.what} filters${didYouMean(near)}${near ? '' : ` Prefixes: ${prefixesOf(vocab).join(', ')}.`}`, near));
      return out;
    }
    const keyProblem = checkEntityKey(vocab, e, id, known);
    if (keyProblem) out.push(keyProblem);
    if (isNullClause(c)) {
      if (!e.nullChecks) out.push(diag(c.comparatorRange, 'comparator', `${c.comparator} works on ${vocab.entities.filter((x) => x.nullChecks).map((x) => x.names[0]).join(' and ') || 'nothing'} here, not on ${id.entity}`));
      return out;
    }
    const rule = keyRule(e, id.key);
    const on = rule === undefined || (rule.comparators === e.comparators && rule.type === e.type) ? e.names[0]! : `${id.entity}.${id.key}`;
    if (!rule.comparators.includes(c.comparator)) out.push(diag(c.comparatorRange, 'comparator', `'${c.comparator}' does not work on ${on}; use ${comparatorList(rule.comparators)}`));
    const t = checkValueType(rule.type, c, on);
    if (t) out.push(t);
    return out;
  }
  const attr = attributeWord(vocab, id.key);
  if (!attr) {
    out.push(unknownAttribute(vocab, c, id, known));
    return out;
  }
  if (isNullClause(c)) {
    out.push(diag(c.comparatorRange, 'comparator', `${c.comparator} does not work on attributes`));
    return out;
  }
  if (!attr.word.comparators.includes(c.comparator)) out.push(diag(c.comparatorRange, 'comparator', `'${c.comparator}' does not work on ${attr.name}; use ${comparatorList(attr.word.comparators)}`));
  const t = checkValueType(attr.word.type, c, attr.word.type === 'number' ? `${attr.name} values` : `${attr.name} values`);
  if (t) out.push(t);
  return out;
}

/** Syntax and vocabulary diagnostics of a filter, sorted by position. */
export function checkFilter(vocab: Vocabulary, filter: string, known: KnownKeys = {}): { parsed: ParsedFilter; diagnostics: FilterDiagnostic[] } {
  const nullChecks = vocab.entities.some((e) => e.nullChecks);
  const parsed = parseFilterText(filter, { nullChecks });
  const diagnostics = [...parsed.diagnostics, ...parsed.clauses.flatMap((c) => checkClause(vocab, c, known))];
  // A clause broken after its identifier: the identifier is still worth checking (prefix, key).
  const complete = new Set(parsed.clauses.map((c) => c.identifier));
  for (const id of parsed.identifiers) {
    if (complete.has(id) || id.entity === null || vocab.attributePrefixes.includes(id.entity)) continue;
    const e = entityWord(vocab, id.entity);
    const p = e ? checkEntityKey(vocab, e, id, known) : undefined;
    if (p) diagnostics.push(p);
  }
  diagnostics.sort((a, b) => a.start - b.start || a.end - b.end);
  return { parsed, diagnostics };
}

/** Syntax and vocabulary diagnostics of one order_by item. */
export function checkOrderBy(vocab: Vocabulary, item: string, known: KnownKeys = {}): { parsed: ParsedOrderBy; diagnostics: FilterDiagnostic[] } {
  const parsed = parseOrderByText(item);
  const diagnostics = [...parsed.diagnostics];
  const id = parsed.orderBy?.identifier;
  if (id) {
    if (id.entity === null || vocab.attributePrefixes.includes(id.entity)) {
      const attr = attributeWord(vocab, id.key);
      const name = attr?.name ?? id.key;
      if (!vocab.orderable.includes(name) && !vocab.orderable.includes(id.key)) {
        const near = closest(id.key, vocab.orderable)[0];
        diagnostics.push(diag(id.range, 'not-orderable', `${vocab.what} cannot be ordered by '${id.key}'${didYouMean(near)}${near ? '' : ` Orderable: ${vocab.orderable.join(', ')}.`}`, near));
      }
    } else {
      const e = entityWord(vocab, id.entity);
      if (!e) diagnostics.push(diag(id.range, 'unknown-entity', `'${id.entity}' is not a prefix of ${vocab.what}${didYouMean(closest(id.entity, vocab.entities.flatMap((x) => x.names))[0])}`));
      else if (!e.orderable) diagnostics.push(diag(id.range, 'not-orderable', `${vocab.what} cannot be ordered by ${e.names[0]}`));
      else {
        const k = checkEntityKey(vocab, e, id, known);
        if (k) diagnostics.push(k);
      }
    }
  }
  return { parsed, diagnostics };
}

/** A one-line description of a diagnostic with its 1-based column, for input boxes and views. */
export function describeDiagnostic(d: FilterDiagnostic): string {
  return `${d.severity === 'warning' ? 'Warning' : 'Error'} at column ${d.start + 1}: ${d.message}`;
}
