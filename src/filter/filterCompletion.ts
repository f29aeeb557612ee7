/**
 * What may be typed at a position of a filter: an identifier (prefix, attribute or key under a
 * prefix), a comparator, a value, or AND — and which part of the text a completion replaces.
 * Read from the tokens before the cursor, so it works on filters still broken further on.
 */
import { tokenEnd, tokenize, type Token } from './filterTokens';

export type CompletionSlot =
  | { slot: 'identifier'; entity: string | null; partial: string }
  | { slot: 'comparator'; entity: string | null; key: string }
  | { slot: 'value'; entity: string | null; key: string; comparator: string; inQuote: boolean }
  | { slot: 'conjunction' };

export interface CompletionContext {
  at: CompletionSlot;
  /** The text the chosen item replaces: [start, cursor). */
  replaceStart: number;
}

const touching = (a: Token, b: Token): boolean => tokenEnd(a) === b.position;

/** The completion context at `offset` in `filter`. */
export function completionContext(filter: string, offset: number): CompletionContext {
  const text = filter.slice(0, offset);
  const tokens = tokenize(text);
  let state: 'identifier' | 'comparator' | 'value' | 'conjunction' = 'identifier';
  let entity: string | null = null;
  let key = '';
  let comparator = '';
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const last = (j: number): boolean => j === tokens.length - 1 && tokenEnd(tokens[j]!) === offset;
    if (state === 'identifier') {
      // An identifier: adjacent word / dot / quoted pieces.
      let j = i;
      while (j + 1 < tokens.length && touching(tokens[j]!, tokens[j + 1]!) && ['word', 'dot', 'number', 'quoted-ident', 'string'].includes(tokens[j + 1]!.kind)) j++;
      const first = tokens[i]!;
      const dot = tokens.slice(i, j + 1).findIndex((x) => x.kind === 'dot');
      if (last(j) || (tokens[j]!.unterminated && j === tokens.length - 1)) {
        if (dot < 0) return { at: { slot: 'identifier', entity: null, partial: first.value }, replaceStart: first.position };
        const keyStart = tokens[i + dot]!.position + 1;
        const partial = text.slice(keyStart).replace(/^[`"]/, '');
        return { at: { slot: 'identifier', entity: first.value.toLowerCase(), partial }, replaceStart: keyStart };
      }
      entity = dot < 0 ? null : first.value.toLowerCase();
      const keyTokens = dot < 0 ? [first] : tokens.slice(i + dot + 1, j + 1);
      key = keyTokens.length === 1 && keyTokens[0]!.kind !== 'word' ? keyTokens[0]!.value : keyTokens.map((x) => x.text).join('');
      i = j;
      state = 'comparator';
      continue;
    }
    if (state === 'comparator') {
      if (last(i) && t.kind === 'word') return { at: { slot: 'comparator', entity, key }, replaceStart: t.position };
      const w = t.text.toUpperCase();
      if (w === 'NOT' || w === 'IS') {
        if (last(i)) return { at: { slot: 'comparator', entity, key }, replaceStart: t.position };
        const t2 = tokens[i + 1];
        if (!t2) return { at: { slot: 'comparator', entity, key }, replaceStart: t.position };
        if (w === 'IS') {
          // IS [NOT] NULL has no value: a conjunction follows.
          let k = i + 1;
          if (tokens[k]?.text.toUpperCase() === 'NOT') k++;
          if (k >= tokens.length || last(k)) return { at: { slot: 'comparator', entity, key }, replaceStart: t.position };
          i = k;
          state = 'conjunction';
          continue;
        }
        comparator = 'NOT IN';
        i++;
      } else comparator = w;
      state = 'value';
      continue;
    }
    if (state === 'value') {
      if (t.kind === 'string' && (t.unterminated || last(i))) {
        if (t.unterminated) return { at: { slot: 'value', entity, key, comparator, inQuote: true }, replaceStart: t.position };
      }
      if (t.kind === 'lparen') {
        // A list: values until the closing parenthesis.
        let k = i + 1;
        while (k < tokens.length && tokens[k]!.kind !== 'rparen') k++;
        if (k >= tokens.length) {
          const lastTok = tokens[tokens.length - 1]!;
          const inQuote = lastTok.kind === 'string' && lastTok.unterminated === true;
          return { at: { slot: 'value', entity, key, comparator, inQuote }, replaceStart: inQuote ? lastTok.position : offset };
        }
        i = k;
      } else if (last(i) && t.kind !== 'string') {
        return { at: { slot: 'value', entity, key, comparator, inQuote: false }, replaceStart: t.position };
      }
      state = 'conjunction';
      continue;
    }
    // conjunction
    if (last(i)) return { at: { slot: 'conjunction' }, replaceStart: t.position };
    state = 'identifier';
    entity = null;
  }
  if (state === 'identifier') return { at: { slot: 'identifier', entity: null, partial: '' }, replaceStart: offset };
  if (state === 'comparator') return { at: { slot: 'comparator', entity, key }, replaceStart: offset };
  if (state === 'value') return { at: { slot: 'value', entity, key, comparator, inQuote: false }, replaceStart: offset };
  return { at: { slot: 'conjunction' }, replaceStart: offset };
}
