/**
 * The filter language's tokens. The tokenizer never throws: an unterminated quote becomes a token
 * running to the end (and a diagnostic), an unexpected character is skipped (and a diagnostic),
 * so the parser can go on and an editor can complete inside the broken part.
 */
import type { FilterDiagnostic } from './filterAst';

export interface Token {
  kind: 'word' | 'quoted-ident' | 'string' | 'number' | 'op' | 'lparen' | 'rparen' | 'comma' | 'dot';
  text: string;
  /** For strings and quoted identifiers: the unquoted content. */
  value: string;
  position: number;
  /** A quote that the filter never closed. */
  unterminated?: boolean;
}

/** MLflow's error text for a syntax error, as the server has always answered it. */
export function syntaxMessage(source: string, what: string, position: number, near?: string): string {
  const at = near === undefined ? `at position ${position}` : `at position ${position} (near '${near}')`;
  return `Invalid filter string '${source}': ${what} ${at}.`;
}

export function syntaxDiagnostic(source: string, what: string, start: number, end: number, near?: string): FilterDiagnostic {
  return { start, end, severity: 'error', code: 'syntax', message: what, mlflowMessage: syntaxMessage(source, what, start, near) };
}

export function tokenize(source: string, diagnostics: FilterDiagnostic[] = []): Token[] {
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
      // A double-quoted token may also be an identifier: the parser decides by position.
      const token: Token = { kind: c === '`' ? 'quoted-ident' : 'string', text: source.slice(start, i), value, position: start };
      if (!closed) {
        token.unterminated = true;
        diagnostics.push(syntaxDiagnostic(source, `unterminated ${c === '`' ? 'backtick identifier' : 'string'}`, start, n, source.slice(start, start + 20)));
      }
      tokens.push(token);
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
    diagnostics.push(syntaxDiagnostic(source, `unexpected character '${c}'`, i, i + 1));
    i++;
  }
  return tokens;
}

/** The token's end offset (exclusive). */
export function tokenEnd(t: Token): number {
  return t.position + t.text.length;
}
