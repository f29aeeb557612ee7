/**
 * MLflow's search filter language: `clause (AND clause)*`, where a clause is
 * `identifier comparator value`. Identifiers are `entity.key`, split on the first dot; entity
 * and key may be wrapped in backticks or double quotes. Values are quoted strings, numbers, or
 * (for IN / NOT IN) a parenthesised list of strings. OR, NOT and parentheses around clauses are
 * not part of the language. Searches that support it (runs, as MLflow 3.x) also take
 * `identifier IS NULL` / `identifier IS NOT NULL`, without a value (`parseFilterWithNullChecks`). This module only parses; each search kind validates and compiles.
 */
import { invalidParameter, type MlflowError } from '../domain/errors';

export type Comparator = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN';

export type FilterValue = { kind: 'string'; value: string } | { kind: 'number'; value: number; text: string } | { kind: 'list'; value: string[] };

export interface Identifier {
  /** The entity prefix as written (lower-cased), or null for a bare attribute name. */
  entity: string | null;
  key: string;
  position: number;
}

export interface Clause {
  identifier: Identifier;
  comparator: Comparator;
  value: FilterValue;
  position: number;
}

export interface NullClause {
  identifier: Identifier;
  comparator: 'IS NULL' | 'IS NOT NULL';
  position: number;
}

interface Token {
  kind: 'word' | 'quoted-ident' | 'string' | 'number' | 'op' | 'lparen' | 'rparen' | 'comma' | 'dot';
  text: string;
  /** For strings and quoted identifiers: the unquoted content. */
  value: string;
  position: number;
}

function syntaxError(source: string, what: string, position: number, near?: string): MlflowError {
  const at = near === undefined ? `at position ${position}` : `at position ${position} (near '${near}')`;
  return invalidParameter(`Invalid filter string '${source}': ${what} ${at}.`);
}

function tokenize(source: string, context: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = source.length;
  while (i < n) {
    const c = source[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === "'" || c === '"' || c === '`') {
      let value = '';
      i++;
      let closed = false;
      while (i < n) {
        const d = source[i]!;
        if (d === '\\' && i + 1 < n && c !== '`') {
          value += source[i + 1];
          i += 2;
          continue;
        }
        if (d === c) {
          if (source[i + 1] === c) {
            value += c; // doubled quote is a literal quote
            i += 2;
            continue;
          }
          closed = true;
          i++;
          break;
        }
        value += d;
        i++;
      }
      if (!closed) throw syntaxError(context, `unterminated ${c === '`' ? 'backtick identifier' : 'string'}`, start, source.slice(start, start + 20));
      // A double-quoted token may also be an identifier: the parser decides by position.
      tokens.push({ kind: c === '`' ? 'quoted-ident' : 'string', text: source.slice(start, i), value, position: start });
      continue;
    }
    if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: c === '(' ? 'lparen' : c === ')' ? 'rparen' : 'comma', text: c, value: c, position: i });
      i++;
      continue;
    }
    const op = /^(!=|<=|>=|<>|==|=|<|>)/.exec(source.slice(i, i + 2));
    if (op) {
      tokens.push({ kind: 'op', text: op[1]!, value: op[1]!, position: i });
      i += op[1]!.length;
      continue;
    }
    const num = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(source.slice(i));
    if (num && (c !== '+' && c !== '-' ? true : tokens.length > 0 && tokens[tokens.length - 1]!.kind === 'op')) {
      // A number never directly follows a dot (that would be part of a key such as metrics.1st).
      const prev = tokens[tokens.length - 1];
      if (!(prev && prev.kind === 'dot')) {
        tokens.push({ kind: 'number', text: num[0], value: num[0], position: i });
        i += num[0].length;
        continue;
      }
    }
    if (c === '.') {
      tokens.push({ kind: 'dot', text: '.', value: '.', position: i });
      i++;
      continue;
    }
    const word = /^[A-Za-z0-9_\-/:]+/.exec(source.slice(i));
    if (word) {
      tokens.push({ kind: 'word', text: word[0], value: word[0], position: i });
      i += word[0].length;
      continue;
    }
    throw syntaxError(context, `unexpected character '${c}'`, i);
  }
  return tokens;
}

class Parser {
  private i = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly source: string,
  ) {}

  private peek(): Token | undefined {
    return this.tokens[this.i];
  }

  private next(): Token | undefined {
    return this.tokens[this.i++];
  }

  private fail(what: string, token: Token | undefined): never {
    if (!token) throw syntaxError(this.source, `${what}, but the filter ended`, this.source.length);
    throw syntaxError(this.source, what, token.position, token.text);
  }

  atEnd(): boolean {
    return this.i >= this.tokens.length;
  }

  /** `entity.key`, `key`, with quoting; a key may itself contain dots. */
  identifier(): Identifier {
    const first = this.next();
    if (!first || !(first.kind === 'word' || first.kind === 'quoted-ident' || first.kind === 'string')) {
      this.fail('expected an identifier such as metrics.accuracy, params.lr or attributes.status', first);
    }
    if (first.kind === 'string' && !first.text.startsWith('"')) this.fail('expected an identifier, not a string', first);
    const quotedFirst = first.kind !== 'word';
    const dot = this.peek();
    if (dot?.kind === 'dot' && this.tokens[this.i + 1] && this.tokens[this.i + 1]!.position === dot.position + 1) {
      this.next();
      const entity = first.value.toLowerCase();
      const keyStart = this.peek();
      if (keyStart && (keyStart.kind === 'quoted-ident' || (keyStart.kind === 'string' && keyStart.text.startsWith('"')))) {
        this.next();
        return { entity, key: keyStart.value, position: first.position };
      }
      return { entity, key: this.bareKey(), position: first.position };
    }
    if (quotedFirst) return { entity: null, key: first.value, position: first.position };
    // Bare word without a dot is an attribute name; `word.word` splits above.
    return { entity: null, key: first.value, position: first.position };
  }

  /** Joins adjacent word/dot/number tokens with no whitespace between them (`mlflow.runName`). */
  private bareKey(): string {
    const first = this.next();
    if (!first || !(first.kind === 'word' || first.kind === 'number')) this.fail('expected a key after the dot', first);
    let key = first.text;
    let end = first.position + first.text.length;
    for (;;) {
      const t = this.peek();
      if (!t || t.position !== end || !(t.kind === 'word' || t.kind === 'dot' || t.kind === 'number')) break;
      this.next();
      key += t.text;
      end = t.position + t.text.length;
    }
    return key;
  }

  /** `IS NULL` / `IS NOT NULL` if that comes next (and is allowed), else undefined. */
  nullCheck(): NullClause['comparator'] | undefined {
    const t = this.peek();
    if (t?.kind !== 'word' || t.text.toUpperCase() !== 'IS') return undefined;
    this.next();
    const t2 = this.next();
    const not = t2?.kind === 'word' && t2.text.toUpperCase() === 'NOT';
    const t3 = not ? this.next() : t2;
    if (t3?.kind === 'word' && t3.text.toUpperCase() === 'NULL') return not ? 'IS NOT NULL' : 'IS NULL';
    this.fail('expected NULL or NOT NULL after IS', t3);
  }

  comparator(): Comparator {
    const t = this.next();
    if (!t) this.fail('expected a comparator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN)', t);
    if (t.kind === 'op') {
      if (t.text === '==' || t.text === '<>') this.fail(`invalid comparator '${t.text}'`, t);
      return t.text as Comparator;
    }
    if (t.kind === 'word') {
      const w = t.text.toUpperCase();
      if (w === 'LIKE' || w === 'ILIKE' || w === 'IN') return w;
      if (w === 'NOT') {
        const t2 = this.next();
        if (t2?.kind === 'word' && t2.text.toUpperCase() === 'IN') return 'NOT IN';
        this.fail("expected IN after NOT (only 'NOT IN' is supported)", t2);
      }
    }
    this.fail('expected a comparator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN)', t);
  }

  value(comparator: Comparator): FilterValue {
    const t = this.next();
    if (comparator === 'IN' || comparator === 'NOT IN') {
      if (t?.kind !== 'lparen') this.fail(`expected a parenthesised list of quoted strings after ${comparator}`, t);
      const items: string[] = [];
      for (;;) {
        const v = this.next();
        if (v?.kind !== 'string') this.fail('expected a quoted string in the list', v);
        items.push(v.value);
        const sep = this.next();
        if (sep?.kind === 'rparen') break;
        if (sep?.kind !== 'comma') this.fail("expected ',' or ')' in the list", sep);
      }
      return { kind: 'list', value: items };
    }
    if (t?.kind === 'string') return { kind: 'string', value: t.value };
    if (t?.kind === 'number') return { kind: 'number', value: Number(t.text), text: t.text };
    this.fail('expected a value: a quoted string or a number', t);
  }

  /** Optional ASC/DESC; true when ascending. */
  direction(item: string): boolean {
    if (this.atEnd()) return true;
    const t = this.next();
    const dir = t?.kind === 'word' ? t.text.toUpperCase() : '';
    if (dir !== 'ASC' && dir !== 'DESC') {
      throw invalidParameter(`Invalid order_by clause '${item}': expected ASC or DESC after the key, got '${t?.text ?? ''}'.`);
    }
    return dir === 'ASC';
  }

  and(): void {
    const t = this.next();
    if (t?.kind === 'word' && t.text.toUpperCase() === 'AND') return;
    if (t?.kind === 'word' && t.text.toUpperCase() === 'OR') this.fail("'OR' is not supported; MLflow filters combine clauses with AND only", t);
    this.fail("expected 'AND' between clauses", t);
  }
}

/** Parses a filter string into clauses; an empty or blank filter yields no clauses. */
export function parseFilter(filter: string | undefined | null): Clause[] {
  return parse(filter, false) as Clause[];
}

/** Like parseFilter, also taking `identifier IS [NOT] NULL` clauses. */
export function parseFilterWithNullChecks(filter: string | undefined | null): (Clause | NullClause)[] {
  return parse(filter, true);
}

function parse(filter: string | undefined | null, nullChecks: boolean): (Clause | NullClause)[] {
  if (!filter || filter.trim() === '') return [];
  const tokens = tokenize(filter, filter);
  const p = new Parser(tokens, filter);
  const clauses: (Clause | NullClause)[] = [];
  for (;;) {
    const identifier = p.identifier();
    const nullCheck = nullChecks ? p.nullCheck() : undefined;
    if (nullCheck) {
      clauses.push({ identifier, comparator: nullCheck, position: identifier.position });
    } else {
      const comparator = p.comparator();
      const value = p.value(comparator);
      clauses.push({ identifier, comparator, value, position: identifier.position });
    }
    if (p.atEnd()) break;
    p.and();
  }
  return clauses;
}

export interface OrderBy {
  identifier: Identifier;
  ascending: boolean;
}

/** Parses one `order_by` item: `<identifier> [ASC|DESC]`. */
export function parseOrderBy(item: string): OrderBy {
  const tokens = tokenize(item, item);
  const p = new Parser(tokens, item);
  const identifier = p.identifier();
  const ascending = p.direction(item);
  if (!p.atEnd()) throw invalidParameter(`Invalid order_by clause '${item}': too many tokens; expected '<key> [ASC|DESC]'.`);
  return { identifier, ascending };
}
