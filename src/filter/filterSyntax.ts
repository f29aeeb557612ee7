/**
 * The recovering parser of MLflow's search filter language: `clause (AND clause)*`, where a
 * clause is `identifier comparator value` (or `identifier IS [NOT] NULL` where the search takes
 * it). Identifiers are `entity.key`, split on the first dot; entity and key may be wrapped in
 * backticks or double quotes. Values are quoted strings, numbers, or (for IN / NOT IN) a
 * parenthesised list of strings. OR, NOT and parentheses around clauses are not part of the
 * language.
 *
 * On an error the parser records a diagnostic and resumes at the next AND (an OR counts as one,
 * after saying it is not supported), so one pass reports every broken clause. The first error it
 * meets, and its message, are those the throwing parser always gave: the server answers them.
 */
import type { Clause, Comparator, FilterDiagnostic, FilterValue, Identifier, NullClause, OrderBy, ParsedFilter, ParsedOrderBy } from './filterAst';
import { syntaxDiagnostic, tokenEnd, tokenize, type Token } from './filterTokens';

const COMPARATOR_HELP = 'expected a comparator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN)';

/** Thrown inside the parser to abandon the current clause; never escapes this module. */
class ClauseError {
  constructor(
    readonly diagnostic: FilterDiagnostic,
    readonly token: Token | undefined,
  ) {}
}

const isWord = (t: Token | undefined, w: string): boolean => t?.kind === 'word' && t.text.toUpperCase() === w;

class Parser {
  i = 0;
  readonly identifiers: Identifier[] = [];
  constructor(
    readonly tokens: Token[],
    readonly source: string,
  ) {}

  peek(offset = 0): Token | undefined {
    return this.tokens[this.i + offset];
  }

  next(): Token | undefined {
    return this.tokens[this.i++];
  }

  atEnd(): boolean {
    return this.i >= this.tokens.length;
  }

  fail(what: string, token: Token | undefined): never {
    if (!token) throw new ClauseError(syntaxDiagnostic(this.source, `${what}, but the filter ended`, this.source.length, this.source.length), undefined);
    throw new ClauseError(syntaxDiagnostic(this.source, what, token.position, tokenEnd(token), token.text), token);
  }

  /** `entity.key`, `key`, with quoting; a key may itself contain dots. */
  identifier(): Identifier {
    const first = this.next();
    if (!first || !(first.kind === 'word' || first.kind === 'quoted-ident' || first.kind === 'string')) {
      this.fail('expected an identifier such as metrics.accuracy, params.lr or attributes.status', first);
    }
    if (first.kind === 'string' && !first.text.startsWith('"')) this.fail('expected an identifier, not a string', first);
    const dot = this.peek();
    const afterDot = this.peek(1);
    let id: Identifier;
    if (dot?.kind === 'dot' && afterDot && afterDot.position === dot.position + 1) {
      this.next();
      const entity = first.value.toLowerCase();
      if (afterDot.kind === 'quoted-ident' || (afterDot.kind === 'string' && afterDot.text.startsWith('"'))) {
        this.next();
        id = this.made(entity, afterDot.value, first.position, tokenEnd(afterDot), { start: afterDot.position + 1, end: tokenEnd(afterDot) - (afterDot.unterminated ? 0 : 1) }, true);
      } else {
        const key = this.bareKey();
        id = this.made(entity, key.text, first.position, key.end, { start: afterDot.position, end: key.end }, false);
      }
    } else {
      // A bare word (or quoted name) without a dot is an attribute name.
      const quoted = first.kind !== 'word';
      const keyRange = quoted ? { start: first.position + 1, end: tokenEnd(first) - (first.unterminated ? 0 : 1) } : { start: first.position, end: tokenEnd(first) };
      id = this.made(null, first.value, first.position, tokenEnd(first), keyRange, quoted);
    }
    this.identifiers.push(id);
    return id;
  }

  private made(entity: string | null, key: string, start: number, end: number, keyRange: Identifier['keyRange'], quotedKey: boolean): Identifier {
    return { entity, key, position: start, range: { start, end }, keyRange, quotedKey };
  }

  /** Joins adjacent word/dot/number tokens with no whitespace between them (`mlflow.runName`). */
  private bareKey(): { text: string; end: number } {
    const first = this.next();
    if (!first || !(first.kind === 'word' || first.kind === 'number')) this.fail('expected a key after the dot', first);
    let key = first.text;
    let end = tokenEnd(first);
    for (;;) {
      const t = this.peek();
      if (!t || t.position !== end || !(t.kind === 'word' || t.kind === 'dot' || t.kind === 'number')) break;
      this.next();
      key += t.text;
      end = tokenEnd(t);
    }
    return { text: key, end };
  }

  /** `IS NULL` / `IS NOT NULL` if that comes next, else undefined. */
  nullCheck(): { comparator: NullClause['comparator']; start: number; end: number } | undefined {
    const t = this.peek();
    if (!isWord(t, 'IS')) return undefined;
    this.next();
    const t2 = this.next();
    const not = isWord(t2, 'NOT');
    const t3 = not ? this.next() : t2;
    if (isWord(t3, 'NULL')) return { comparator: not ? 'IS NOT NULL' : 'IS NULL', start: t!.position, end: tokenEnd(t3!) };
    this.fail('expected NULL or NOT NULL after IS', t3);
  }

  comparator(): { comparator: Comparator; start: number; end: number } {
    const t = this.next();
    if (!t) this.fail(COMPARATOR_HELP, t);
    const at = (comparator: Comparator, last: Token = t): { comparator: Comparator; start: number; end: number } => ({ comparator, start: t.position, end: tokenEnd(last) });
    if (t.kind === 'op') {
      if (t.text === '==' || t.text === '<>') this.fail(`invalid comparator '${t.text}'`, t);
      return at(t.text as Comparator);
    }
    if (t.kind === 'word') {
      const w = t.text.toUpperCase();
      if (w === 'LIKE' || w === 'ILIKE' || w === 'IN') return at(w);
      if (w === 'NOT') {
        const t2 = this.next();
        if (isWord(t2, 'IN')) return at('NOT IN', t2);
        this.fail("expected IN after NOT (only 'NOT IN' is supported)", t2);
      }
    }
    this.fail(COMPARATOR_HELP, t);
  }

  value(comparator: Comparator): { value: FilterValue; start: number; end: number } {
    const t = this.next();
    if (comparator === 'IN' || comparator === 'NOT IN') {
      if (t?.kind !== 'lparen') this.fail(`expected a parenthesised list of quoted strings after ${comparator}`, t);
      const items: string[] = [];
      for (;;) {
        const v = this.next();
        if (v?.kind !== 'string') this.fail('expected a quoted string in the list', v);
        items.push(v.value);
        const sep = this.next();
        if (sep?.kind === 'rparen') return { value: { kind: 'list', value: items }, start: t.position, end: tokenEnd(sep) };
        if (sep?.kind !== 'comma') this.fail("expected ',' or ')' in the list", sep);
      }
    }
    if (t?.kind === 'string') return { value: { kind: 'string', value: t.value }, start: t.position, end: tokenEnd(t) };
    if (t?.kind === 'number') return { value: { kind: 'number', value: Number(t.text), text: t.text }, start: t.position, end: tokenEnd(t) };
    this.fail('expected a value: a quoted string or a number', t);
  }

  /** Skips to just after the next top-level AND / OR (or to the end); false at the end. */
  resync(): boolean {
    let depth = 0;
    while (!this.atEnd()) {
      const t = this.next()!;
      if (t.kind === 'lparen') depth++;
      else if (t.kind === 'rparen') depth = Math.max(0, depth - 1);
      else if (depth === 0 && (isWord(t, 'AND') || isWord(t, 'OR'))) return true;
    }
    return false;
  }
}

/** Parses a filter into clauses and diagnostics; `nullChecks` also takes `identifier IS [NOT] NULL`. */
export function parseFilterText(filter: string | undefined | null, options: { nullChecks?: boolean } = {}): ParsedFilter {
  const source = filter ?? '';
  const lexical: FilterDiagnostic[] = [];
  const result: ParsedFilter = { clauses: [], identifiers: [], diagnostics: [], firstError: undefined };
  if (source.trim() === '') return result;
  const p = new Parser(tokenize(source, lexical), source);
  const grammar: FilterDiagnostic[] = [];
  for (;;) {
    let clauseBroken = false;
    try {
      const identifier = p.identifier();
      const nullCheck = options.nullChecks ? p.nullCheck() : undefined;
      if (nullCheck) {
        result.clauses.push({ identifier, comparator: nullCheck.comparator, position: identifier.position, comparatorRange: { start: nullCheck.start, end: nullCheck.end } });
      } else {
        const cmp = p.comparator();
        const value = p.value(cmp.comparator);
        const clause: Clause = { identifier, comparator: cmp.comparator, value: value.value, position: identifier.position, comparatorRange: { start: cmp.start, end: cmp.end }, valueRange: { start: value.start, end: value.end } };
        result.clauses.push(clause);
      }
    } catch (err) {
      if (!(err instanceof ClauseError)) throw err;
      grammar.push(err.diagnostic);
      clauseBroken = true;
      // `tags.t LIKE and …`: the AND that broke the clause still starts the next one.
      if (isWord(err.token, 'AND') || isWord(err.token, 'OR')) p.i = p.tokens.indexOf(err.token!);
    }
    if (clauseBroken) {
      if (!p.resync()) break;
      continue;
    }
    if (p.atEnd()) break;
    const t = p.next()!;
    if (isWord(t, 'AND')) continue;
    if (isWord(t, 'OR')) {
      grammar.push({ ...syntaxDiagnostic(source, "'OR' is not supported; MLflow filters combine clauses with AND only", t.position, tokenEnd(t), t.text), suggestion: 'AND' });
      continue;
    }
    grammar.push(syntaxDiagnostic(source, "expected 'AND' between clauses", t.position, tokenEnd(t), t.text));
    // Most often a forgotten AND before the next clause: read on from this token.
    p.i--;
    if (!startsIdentifier(t)) {
      p.i++;
      if (!p.resync()) break;
    }
  }
  result.identifiers = p.identifiers;
  result.firstError = lexical[0] ?? grammar[0];
  result.diagnostics = [...lexical, ...grammar].sort((a, b) => a.start - b.start || a.end - b.end);
  return result;
}

function startsIdentifier(t: Token): boolean {
  return t.kind === 'word' || t.kind === 'quoted-ident' || (t.kind === 'string' && t.text.startsWith('"'));
}

/** Parses one `order_by` item: `<identifier> [ASC|DESC]`. */
export function parseOrderByText(item: string): ParsedOrderBy {
  const lexical: FilterDiagnostic[] = [];
  const p = new Parser(tokenize(item, lexical), item);
  const diagnostics: FilterDiagnostic[] = [...lexical];
  let orderBy: OrderBy | undefined;
  try {
    const identifier = p.identifier();
    let ascending = true;
    if (!p.atEnd()) {
      const t = p.next()!;
      const dir = t.kind === 'word' ? t.text.toUpperCase() : '';
      if (dir !== 'ASC' && dir !== 'DESC') {
        const what = `expected ASC or DESC after the key, got '${t.text}'`;
        diagnostics.push({ start: t.position, end: tokenEnd(t), severity: 'error', code: 'syntax', message: what, mlflowMessage: `Invalid order_by clause '${item}': ${what}.` });
      }
      ascending = dir !== 'DESC';
    }
    orderBy = { identifier, ascending };
    if (!p.atEnd()) {
      const extra = p.peek()!;
      diagnostics.push({ start: extra.position, end: item.length, severity: 'error', code: 'syntax', message: "too many tokens; expected '<key> [ASC|DESC]'", mlflowMessage: `Invalid order_by clause '${item}': too many tokens; expected '<key> [ASC|DESC]'.` });
    }
  } catch (err) {
    if (!(err instanceof ClauseError)) throw err;
    diagnostics.push(err.diagnostic);
  }
  return { orderBy, diagnostics };
}
