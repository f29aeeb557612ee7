/**
 * What fits at the cursor of a filter or order_by string — prefixes, attributes, keys ranked by
 * how many runs have them, comparators, values seen, AND — as plain items that the language
 * server turns into completion items and the views' filter boxes show in their dropdown. Knows
 * the store only through the key statistics it is given.
 */
import { formatIdentifier } from './filterCheck';
import { completionContext } from './filterCompletion';
import { attributeWord, entityWord, keyRule, VOCABULARIES, type EntityWord, type KeySource, type SearchKind } from './vocabulary';

/** What is known about one key across the searched things. */
export interface KeyStatsEntry {
  /** How many of them have the key. */
  count: number;
  /** Metrics: range and the latest value. */
  min?: number;
  max?: number;
  latest?: { value: number };
  /** Params and tags: how many have each value. */
  values?: ReadonlyMap<string, number>;
}

/**
 * Keys per source and out of how many searched things their counts are. A source is an entity's
 * key source (runs: metrics, params, tags) or else its first name (traces: tag).
 */
export interface KeyStatsLike {
  total: number;
  keys: Partial<Record<string, ReadonlyMap<string, KeyStatsEntry>>>;
}

export type SuggestionKind = 'prefix' | 'attribute' | 'key' | 'comparator' | 'value' | 'enum' | 'keyword';

export interface Suggestion {
  label: string;
  insertText: string;
  /** The item replaces the text [replaceStart, cursor). */
  replaceStart: number;
  kind: SuggestionKind;
  detail?: string;
  /** What the typed text is matched against, when not the label. */
  filterText?: string;
  /** Rank among the items (lower first); items without one keep their place. */
  sort?: number;
  /** After inserting it, suggest again (a prefix: its keys follow). */
  retrigger?: boolean;
}

const COMPARATOR_DOCS: Record<string, string> = { LIKE: 'SQL pattern, % and _ (case-sensitive)', ILIKE: 'SQL pattern, case-insensitive', IN: "one of a list: IN ('a', 'b')", 'NOT IN': "none of a list: NOT IN ('a', 'b')" };

/** A number short enough for a list or a hover. */
export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(3) : String(Number(v.toPrecision(4)));
}

/** Where an entity's keys are found in the statistics. */
const sourceOf = (e: EntityWord): string => e.keySource ?? e.names[0]!;

/**
 * The key statistics of `records`, newest first (the first value seen of a number is the latest):
 * each record maps a source to its keys and their values.
 */
export function keyStatsFrom(records: Iterable<Readonly<Record<string, Readonly<Record<string, string | number>>>>>): KeyStatsLike {
  const keys: Record<string, Map<string, { count: number; min?: number; max?: number; latest?: { value: number }; values?: Map<string, number> }>> = {};
  let total = 0;
  // for…in, not Object.entries: this walks every key of up to 50k runs on a keystroke.
  for (const record of records) {
    total++;
    for (const source in record) {
      const kv = record[source]!;
      const map = (keys[source] ??= new Map());
      for (const key in kv) {
        const value = kv[key]!;
        let s = map.get(key);
        if (!s) map.set(key, (s = { count: 0 }));
        s.count++;
        if (typeof value === 'number') {
          if (Number.isFinite(value)) {
            s.min = s.min === undefined ? value : Math.min(s.min, value);
            s.max = s.max === undefined ? value : Math.max(s.max, value);
          }
          s.latest ??= { value };
        } else (s.values ??= new Map()).set(value, (s.values.get(value) ?? 0) + 1);
      }
    }
  }
  return { total, keys };
}

function ranked(stats: ReadonlyMap<string, KeyStatsEntry> | undefined): [string, KeyStatsEntry][] {
  return [...(stats ?? new Map<string, KeyStatsEntry>()).entries()].sort((a, b) => b[1].count - a[1].count || a[0].localeCompare(b[0]));
}

function keyDetail(source: string, s: KeyStatsEntry, total: number, what: string): string {
  const share = `${s.count} of ${total} ${what}`;
  if (source === 'metrics' && s.min !== undefined) return `${share} · ${fmt(s.min)} … ${fmt(s.max!)}`;
  return share;
}

/** Every key of `source`, most used first, each replacing the whole string (a logged key's name). */
export function keySuggestions(source: KeySource, keys: KeyStatsLike | undefined): Suggestion[] {
  return ranked(keys?.keys[source]).map(([key, s], i) => ({ label: key, insertText: key, replaceStart: 0, kind: 'key', detail: keyDetail(source, s, keys!.total, 'runs'), sort: i }));
}

/**
 * The items that fit at `offset` of a `kind` filter (or order_by item). `keys` must describe the
 * things a `kind` search searches; without them no keys or seen values are offered.
 */
export function suggest(kind: SearchKind, text: string, offset: number, keys: KeyStatsLike | undefined, role: 'filter' | 'orderBy'): Suggestion[] {
  const vocab = VOCABULARIES[kind];
  const ctx = completionContext(text, offset);
  const items: Suggestion[] = [];
  const replaceStart = ctx.replaceStart;
  const at = ctx.at;
  if (at.slot === 'identifier' && at.entity === null) {
    vocab.entities.forEach((e, i) => items.push({ label: `${e.names[0]}.`, insertText: `${e.names[0]}.`, replaceStart, kind: 'prefix', detail: e.doc, sort: i, retrigger: true }));
    Object.entries(vocab.attributes).forEach(([name, w], i) => items.push({ label: name, insertText: name, replaceStart, kind: 'attribute', detail: `${w.type} attribute — ${w.doc}`, sort: 100 + i }));
    if (vocab.attributePrefixes[0]) items.push({ label: `${vocab.attributePrefixes[0]}.`, insertText: `${vocab.attributePrefixes[0]}.`, replaceStart, kind: 'prefix', detail: 'an attribute, written explicitly', sort: 90, retrigger: true });
  } else if (at.slot === 'identifier') {
    const entity = at.entity!;
    const e = entityWord(vocab, entity);
    // Replace the whole identifier so keys needing backticks can be quoted.
    const idStart = Math.max(0, replaceStart - entity.length - 1);
    if (vocab.attributePrefixes.includes(entity)) {
      Object.entries(vocab.attributes).forEach(([name, w], i) => items.push({ label: name, insertText: `${entity}.${name}`, replaceStart: idStart, kind: 'attribute', detail: w.doc, filterText: `${entity}.${name}`, sort: i }));
    } else if (e?.fixedKeys) {
      e.fixedKeys.forEach((key, i) => items.push({ label: key, insertText: `${entity}.${key}`, replaceStart: idStart, kind: 'attribute', detail: e.doc, filterText: `${entity}.${key}`, sort: i }));
    } else if (e && keys) {
      const source = sourceOf(e);
      ranked(keys.keys[source]).forEach(([key, s], i) =>
        items.push({ label: key, insertText: formatIdentifier(entity, key), replaceStart: idStart, kind: 'key', detail: keyDetail(source, s, keys.total, vocab.what), filterText: `${entity}.${key}`, sort: i }),
      );
    }
  } else if (at.slot === 'comparator') {
    const e = at.entity !== null && !vocab.attributePrefixes.includes(at.entity) ? entityWord(vocab, at.entity) : undefined;
    const attr = e ? undefined : attributeWord(vocab, at.key);
    const rule = e ? keyRule(e, at.key) : attr?.word;
    const list = role === 'orderBy' ? ['ASC', 'DESC'] : [...(rule?.comparators ?? []), ...(e?.nullChecks ? ['IS NULL', 'IS NOT NULL'] : [])];
    list.forEach((c, i) => items.push({ label: c, insertText: c, replaceStart, kind: 'comparator', detail: COMPARATOR_DOCS[c] ?? (rule?.type === 'number' ? 'numeric comparison' : 'comparison'), sort: i }));
  } else if (at.slot === 'value') {
    const e = at.entity !== null ? entityWord(vocab, at.entity) : undefined;
    const stats = e && keys ? keys.keys[sourceOf(e)]?.get(at.key) : undefined;
    if (stats?.values) {
      const values = [...stats.values.entries()].sort((a, b) => b[1] - a[1]).slice(0, 100);
      values.forEach(([v, n], i) => items.push({ label: `'${v}'`, insertText: `'${v.replace(/'/g, "''")}'`, replaceStart, kind: 'value', detail: `${n} ${n === 1 ? vocab.what.replace(/s$/, '') : vocab.what}`, sort: i }));
    } else if (stats?.min !== undefined) {
      for (const [label, v] of [['min', stats.min], ['max', stats.max!], ['latest', stats.latest!.value]] as const) items.push({ label: fmt(v), insertText: fmt(v), replaceStart, kind: 'value', detail: label });
    } else if (!e && (at.key === 'status' || at.key === 'state')) {
      // The status attribute (not a tag or param named status).
      const states = kind === 'traces' ? ['OK', 'ERROR', 'IN_PROGRESS'] : ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'];
      states.forEach((v, i) => items.push({ label: `'${v}'`, insertText: `'${v}'`, replaceStart, kind: 'enum', sort: i }));
    }
  } else {
    items.push({ label: 'AND', insertText: 'AND ', replaceStart, kind: 'keyword' });
  }
  return items;
}
