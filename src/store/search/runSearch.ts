/**
 * Compiles a runs search (MLflow filter + order_by + view type) into one parameterised SQL
 * query over the runs table. Semantics follow MLflow's SQL store: a run missing the key never
 * matches; ordering puts NaN after numbers and missing values last, in both directions, then
 * `start_time DESC, run_id ASC`.
 */
import { invalidParameter } from '../../domain/errors';
import type { SqlValue } from 'sql.js';
import { placeholders, type Params } from '../sqlite';
import type { ViewType } from '../../domain/types';
import { parseFilterWithNullChecks, parseOrderBy, type Clause, type Comparator, type NullClause } from '../../filter/filterParser';
import { compareSql } from './sqlComparison';

type EntityType = 'metric' | 'parameter' | 'tag' | 'attribute' | 'dataset';

const ENTITY_ALIASES: Record<string, EntityType> = {
  metric: 'metric',
  metrics: 'metric',
  parameter: 'parameter',
  parameters: 'parameter',
  param: 'parameter',
  params: 'parameter',
  tag: 'tag',
  tags: 'tag',
  attribute: 'attribute',
  attributes: 'attribute',
  attr: 'attribute',
  run: 'attribute',
  dataset: 'dataset',
  datasets: 'dataset',
};

/** Searchable attribute -> runs column. */
const STRING_ATTRIBUTES: Record<string, string> = {
  run_id: 'r.run_uuid',
  run_name: 'r.name',
  'run name': 'r.name',
  'Run name': 'r.name',
  'Run Name': 'r.name',
  user_id: 'r.user_id',
  status: 'r.status',
  artifact_uri: 'r.artifact_uri',
};
const NUMERIC_ATTRIBUTES: Record<string, string> = {
  start_time: 'r.start_time',
  end_time: 'r.end_time',
  created: 'r.start_time',
  Created: 'r.start_time',
};
const ORDER_ONLY_ATTRIBUTES: Record<string, string> = { experiment_id: 'r.experiment_id' };

const METRIC_COMPARATORS: Comparator[] = ['=', '!=', '<', '<=', '>', '>='];
const STRING_COMPARATORS: Comparator[] = ['=', '!=', 'LIKE', 'ILIKE'];
const STRING_ATTRIBUTE_COMPARATORS: Comparator[] = ['=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'];
const DATASET_KEYS = ['name', 'digest', 'context'];

function entityOf(entity: string | null): EntityType {
  if (entity === null) return 'attribute';
  const e = ENTITY_ALIASES[entity];
  if (!e) {
    throw invalidParameter(
      `Invalid entity type '${entity}'. Valid values are ['metric', 'parameter', 'tag', 'attribute', 'dataset'] (or their plurals).`,
    );
  }
  return e;
}

function requireComparator(c: Clause, allowed: Comparator[], what: string): void {
  if (!allowed.includes(c.comparator)) {
    throw invalidParameter(`Invalid comparator '${c.comparator}' for ${what}; valid comparators are ${JSON.stringify(allowed)}.`);
  }
}

function requireString(c: Clause, what: string): string {
  if (c.value.kind !== 'string') {
    throw invalidParameter(`Expected a quoted string value for ${what} (e.g. 'my-value'). Got value ${valueText(c)}`);
  }
  return c.value.value;
}

function valueText(c: Clause): string {
  if (c.value.kind === 'list') return `(${c.value.value.map((v) => `'${v}'`).join(', ')})`;
  return c.value.kind === 'number' ? c.value.text : `'${c.value.value}'`;
}

/**
 * A compiled filter clause: either a condition on the runs row itself, or "the run is in this
 * set" (a table of per-run rows and a condition on them), which the compiler may express as
 * `r.id IN (...)` or as a correlated `EXISTS`, whichever is cheaper for this query.
 */
type CompiledClause = { kind: 'row'; sql: string; params: Params } | { kind: 'runSet'; from: string; runColumn: string; cond: string; params: Params };

/**
 * `params.k IS [NOT] NULL`, `tags.k IS [NOT] NULL`: as MLflow's SQL store, whether the run has
 * a param/tag with that key at all, whatever its value (an empty string is not NULL).
 */
function compileNullCheck(c: NullClause): CompiledClause {
  const type = entityOf(c.identifier.entity);
  const key = c.identifier.key;
  if (type !== 'parameter' && type !== 'tag') {
    throw invalidParameter(`IS NULL / IS NOT NULL is only supported for tags and params, not for '${type}' '${key}'`);
  }
  const table = type === 'parameter' ? 'params' : 'tags';
  if (c.comparator === 'IS NOT NULL') return { kind: 'runSet', from: `${table} x`, runColumn: 'x.run', cond: 'x.key = ?', params: [key] };
  return { kind: 'row', sql: `NOT EXISTS (SELECT 1 FROM ${table} x WHERE x.run = r.id AND x.key = ?)`, params: [key] };
}

function compileClause(c: Clause | NullClause): CompiledClause {
  if (!('value' in c)) return compileNullCheck(c);
  const params: Params = [];
  const row = (sql: string): CompiledClause => ({ kind: 'row', sql, params });
  const runSet = (from: string, runColumn: string, cond: string): CompiledClause => ({ kind: 'runSet', from, runColumn, cond, params });
  const type = entityOf(c.identifier.entity);
  const key = c.identifier.key;
  switch (type) {
    case 'metric': {
      requireComparator(c, METRIC_COMPARATORS, 'metrics');
      if (c.value.kind !== 'number') throw invalidParameter(`Expected numeric value type for metric. Found ${valueText(c)}`);
      params.push(key);
      // NaN is stored as NULL with is_nan = 1: IEEE semantics, it only satisfies '!='.
      const cmp = c.comparator === '!=' ? `(m.is_nan = 1 OR m.value != ?)` : `m.value ${c.comparator} ?`;
      params.push(c.value.value);
      return runSet('latest_metrics m', 'm.run', `m.key = ? AND ${cmp}`);
    }
    case 'parameter':
    case 'tag': {
      const what = type === 'parameter' ? 'parameter' : 'tag';
      requireComparator(c, STRING_COMPARATORS, `${what}s`);
      const value = requireString(c, what);
      const table = type === 'parameter' ? 'params' : 'tags';
      params.push(key);
      return runSet(`${table} x`, 'x.run', `x.key = ? AND ${compareSql('x.value', c.comparator, value, params)}`);
    }
    case 'dataset': {
      if (!DATASET_KEYS.includes(key)) {
        throw invalidParameter(`Invalid dataset key '${key}' specified. Valid keys are '${JSON.stringify(DATASET_KEYS)}'`);
      }
      requireComparator(c, STRING_ATTRIBUTE_COMPARATORS, 'dataset attributes');
      const value = c.value.kind === 'list' ? c.value.value : requireString(c, 'dataset attributes');
      if (key === 'context') {
        return runSet('run_input_tags t', 't.run', `t.key = 'mlflow.data.context' AND ${compareSql('t.value', c.comparator, value, params)}`);
      }
      return runSet('run_inputs ri JOIN datasets d ON d.id = ri.dataset', 'ri.run', compareSql(`d.${key}`, c.comparator, value, params));
    }
    case 'attribute': {
      const numeric = NUMERIC_ATTRIBUTES[key];
      if (numeric) {
        requireComparator(c, METRIC_COMPARATORS, `numeric attribute '${key}'`);
        if (c.value.kind !== 'number') throw invalidParameter(`Expected numeric value type for numeric attribute: ${key}. Found ${valueText(c)}`);
        params.push(c.value.value);
        return row(`${numeric} ${c.comparator} ?`);
      }
      const column = STRING_ATTRIBUTES[key];
      if (!column) {
        throw invalidParameter(
          `Invalid attribute key '${key}' specified. Valid keys are '${JSON.stringify([...Object.keys(STRING_ATTRIBUTES), ...Object.keys(NUMERIC_ATTRIBUTES)])}'`,
        );
      }
      requireComparator(c, STRING_ATTRIBUTE_COMPARATORS, `attribute '${key}'`);
      if (c.value.kind === 'list') {
        if (key !== 'run_id') throw invalidParameter("Only the 'run_id' attribute supports comparison with a list of quoted string values.");
        // As MLflow: run ids are lower-case hex, so values with upper-case letters cannot match.
        const ids = c.value.value.filter((v) => v === v.toLowerCase());
        if (ids.length === 0) return row(c.comparator === 'IN' ? '0' : '1');
        return row(compareSql(column, c.comparator, ids, params));
      }
      if (c.comparator === 'IN' || c.comparator === 'NOT IN') {
        throw invalidParameter(`Expected a parenthesised list of quoted strings for ${c.comparator}.`);
      }
      return row(compareSql(column, c.comparator, requireString(c, 'attributes'), params));
    }
  }
}

/** One parsed order_by term. `joined` terms order by a metric/param/tag value of the run. */
type OrderTerm =
  | { kind: 'attribute'; column: string; dir: 'ASC' | 'DESC' }
  | { kind: 'joined'; table: 'latest_metrics' | 'params' | 'tags'; key: string; dir: 'ASC' | 'DESC' };

function parseRunOrder(orderBy: string[] | undefined): OrderTerm[] {
  const terms: OrderTerm[] = [];
  const seen = new Set<string>();
  for (const item of orderBy ?? []) {
    const { identifier, ascending } = parseOrderBy(item);
    const type = entityOf(identifier.entity);
    const key = identifier.key;
    const dir = ascending ? 'ASC' : 'DESC';
    const seenKey = `${type}:${key}`;
    if (seen.has(seenKey)) throw invalidParameter(`\`order_by\` contains duplicate fields: ${JSON.stringify(orderBy)}`);
    seen.add(seenKey);
    if (type === 'attribute') {
      const column = STRING_ATTRIBUTES[key] ?? NUMERIC_ATTRIBUTES[key] ?? ORDER_ONLY_ATTRIBUTES[key];
      if (!column) throw invalidParameter(`Invalid order_by key '${key}': not an orderable attribute.`);
      terms.push({ kind: 'attribute', column, dir });
    } else if (type === 'dataset') {
      throw invalidParameter(`Invalid order_by entity '${identifier.entity ?? ''}': datasets cannot be ordered by.`);
    } else {
      terms.push({ kind: 'joined', table: type === 'metric' ? 'latest_metrics' : type === 'parameter' ? 'params' : 'tags', key, dir });
    }
  }
  return terms;
}

/** Joins and ORDER BY terms for `terms`, plus MLflow's tie-breakers (start_time DESC, run_id). */
function orderSql(terms: OrderTerm[], aliasBase: number): { joins: string[]; joinParams: Params; order: string[] } {
  const joins: string[] = [];
  const joinParams: Params = [];
  const order: string[] = [];
  let orderedByStartTime = false;
  terms.forEach((t, i) => {
    if (t.kind === 'attribute') {
      if (t.column === 'r.start_time') orderedByStartTime = true;
      order.push(`(${t.column} IS NULL)`, `${t.column} ${t.dir}`);
      return;
    }
    const alias = `o${aliasBase + i}`;
    joins.push(`LEFT JOIN ${t.table} ${alias} ON ${alias}.run = r.id AND ${alias}.key = ?`);
    joinParams.push(t.key);
    // NaN after numbers, then runs without the key, in both directions.
    const rank = t.table === 'latest_metrics' ? `(CASE WHEN ${alias}.is_nan = 1 THEN 1 WHEN ${alias}.run IS NULL THEN 2 ELSE 0 END)` : `(${alias}.value IS NULL)`;
    order.push(rank, `${alias}.value ${t.dir}`);
  });
  if (!orderedByStartTime) order.push('r.start_time DESC');
  order.push('r.run_uuid ASC');
  return { joins, joinParams, order };
}

/**
 * Counts the rows of `SELECT ...` (sql, params), stopping at `cap`. Lets the compiler pick a
 * plan from the data: MLflow filters carry no statistics SQLite could use (sql.js has no STAT4).
 */
export type SetSizeProbe = (sql: string, params: Params, cap: number) => number;

/** What the compiler may ask the data: set sizes, and the first column of a (small) query. */
export interface SearchProbe {
  countUpTo: SetSizeProbe;
  column?: (sql: string, params: Params) => SqlValue[];
}

/** Below this many matching rows a filter set is materialised with IN; above, checked with EXISTS. */
const SMALL_RUN_SET = 5000;
/** A param or tag ordered by is split per value (see orderedGroups) up to this many values. */
const MAX_SPLIT_VALUES = 32;

export interface RunQuery {
  experimentIds: number[];
  filter?: string | undefined;
  viewType: ViewType;
  orderBy?: string[] | undefined;
  limit: number;
  offset: number;
}

export function lifecycleStages(viewType: ViewType): string[] {
  return viewType === 'ACTIVE_ONLY' ? ['active'] : viewType === 'DELETED_ONLY' ? ['deleted'] : ['active', 'deleted'];
}

/** One ordered part of a page: `SELECT * FROM (… ORDER BY … LIMIT ?)`. */
interface Group {
  sql: string;
  params: Params;
}

/** The distinct values of a param or tag key, in order, if there are few (a loose index scan). */
function fewValues(table: 'params' | 'tags', key: string, dir: 'ASC' | 'DESC', probe: SearchProbe | undefined): SqlValue[] | undefined {
  if (!probe?.column) return undefined;
  // Each step seeks the (key, value) index past the previous value: O(values × log n), not O(runs).
  const values = probe.column(
    `WITH RECURSIVE v(x) AS (SELECT min(value) FROM ${table} WHERE key = ? ` +
      `UNION ALL SELECT (SELECT min(value) FROM ${table} WHERE key = ? AND value > v.x) FROM v WHERE v.x IS NOT NULL LIMIT ${MAX_SPLIT_VALUES + 2}) ` +
      'SELECT x FROM v WHERE x IS NOT NULL',
    [key, key],
  );
  if (values.length > MAX_SPLIT_VALUES) return undefined;
  return dir === 'ASC' ? values : values.reverse();
}

/**
 * Groups whose concatenation is the order of `terms` over the runs matching `where`, each
 * ordered on its own and cut at `needed` rows.
 *
 * When the first term is a metric, param or tag, the runs are split into the groups MLflow's
 * ordering produces — runs with a value, (metrics only) runs whose value is NaN, runs without the
 * key — so the first group can walk the (key, value) index in order and stop at the page size
 * instead of sorting every matching run (100k runs, order_by metric: 130 ms → under 1 ms).
 * A param or tag with few values (`params.model, metrics.loss`; also alone, as start_time breaks ties) would
 * still sort every run of one value by the next term (25k runs: ~68 ms), so it is split once
 * more, per value, and each value's runs are ordered by the terms after it in the same way.
 */
function orderedGroups(terms: OrderTerm[], where: string[], whereParams: Params, needed: number, probe: SearchProbe | undefined, single: boolean): Group[] {
  const first = terms[0];
  if (first?.kind !== 'joined' || single) {
    const o = orderSql(terms, 0);
    return [{ sql: `SELECT * FROM (SELECT r.id FROM runs r ${o.joins.join(' ')} WHERE ${where.join(' AND ')} ORDER BY ${o.order.join(', ')} LIMIT ?)`, params: [...o.joinParams, ...whereParams, needed] }];
  }
  const rest = terms.slice(1);
  const groups: Group[] = [];
  // Split only where each value's runs can then be walked in order: by the next metric/param/tag
  // index, or (no terms after) by start_time on the experiment index. An explicit attribute next
  // sorts with its NULL rank, so splitting would only sort the same runs in more pieces.
  const walkable = rest.length === 0 || rest[0]!.kind === 'joined';
  const values = first.table !== 'latest_metrics' && walkable ? fewValues(first.table, first.key, first.dir, probe) : undefined;
  if (values) {
    for (const v of values) {
      const small = (probe?.countUpTo(`SELECT 1 FROM ${first.table} x WHERE x.key = ? AND x.value = ?`, [first.key, v], SMALL_RUN_SET) ?? 0) < SMALL_RUN_SET;
      // A small value set is materialised and sorted; a large one is checked per run of an index walk.
      const cond = small
        ? `r.id IN (SELECT x.run FROM ${first.table} x WHERE x.key = ? AND x.value = ?)`
        : `EXISTS (SELECT 1 FROM ${first.table} x WHERE x.run = r.id AND x.key = ? AND x.value = ?)`;
      // `+`: a materialised set is the better start than the experiment index (as in compileRunSearch).
      const scoped = small ? where.map((w) => (w.startsWith('r.experiment_id') ? `+${w}` : w)) : where;
      groups.push(...orderedGroups(rest, [cond, ...scoped], [first.key, v, ...whereParams], needed, probe, small));
    }
  } else {
    const after = orderSql(rest, 1);
    const present = (valueCondition: string): void => {
      // CROSS JOIN fixes the loop order: walk the (key, value) index, look each run up.
      groups.push({
        sql:
          `SELECT * FROM (SELECT r.id FROM ${first.table} o0 CROSS JOIN runs r ON r.id = o0.run ${after.joins.join(' ')} ` +
          `WHERE o0.key = ? AND ${valueCondition} AND ${where.join(' AND ')} ` +
          `ORDER BY o0.value ${first.dir}, ${after.order.join(', ')} LIMIT ?)`,
        params: [...after.joinParams, first.key, ...whereParams, needed],
      });
    };
    if (first.table === 'latest_metrics') {
      present('o0.is_nan = 0');
      present('o0.is_nan = 1');
    } else {
      present('1');
    }
  }
  const missing = `NOT EXISTS (SELECT 1 FROM ${first.table} x WHERE x.run = r.id AND x.key = ?)`;
  groups.push(...orderedGroups(rest, [missing, ...where], [first.key, ...whereParams], needed, probe, true));
  return groups;
}

/** SQL returning `r.id` for one page (limit + 1 rows, so the caller knows if more exist). */
export function compileRunSearch(q: RunQuery, probe?: SearchProbe): { sql: string; params: Params } {
  const clauses = parseFilterWithNullChecks(q.filter).map(compileClause);
  const filters: string[] = [];
  const filterParams: Params = [];
  let smallSet = false;
  for (const c of clauses) {
    if (c.kind === 'row') filters.push(c.sql);
    else if (probe && probe.countUpTo(`SELECT 1 FROM ${c.from} WHERE ${c.cond}`, c.params, SMALL_RUN_SET) >= SMALL_RUN_SET) {
      // A large set: check it per run while walking runs in page order, and stop at the page.
      filters.push(`EXISTS (SELECT 1 FROM ${c.from} WHERE ${c.runColumn} = r.id AND ${c.cond})`);
    } else {
      // A small set: materialise it once and drive the query from it.
      smallSet = true;
      filters.push(`r.id IN (SELECT ${c.runColumn} FROM ${c.from} WHERE ${c.cond})`);
    }
    filterParams.push(...c.params);
  }
  // With a small set to drive from, `+` keeps SQLite off the experiment index (it has no
  // statistics to know the set is the better start).
  const where = [
    `${smallSet ? '+' : ''}r.experiment_id IN (${placeholders(q.experimentIds.length) || 'NULL'})`,
    `r.lifecycle_stage IN (${lifecycleStages(q.viewType)
      .map((s) => `'${s}'`)
      .join(', ')})`,
    ...filters,
  ];
  const whereParams = [...q.experimentIds, ...filterParams];
  const terms = parseRunOrder(q.orderBy);
  if (terms[0]?.kind !== 'joined' || smallSet) {
    const o = orderSql(terms, 0);
    const sql = `SELECT r.id FROM runs r ${o.joins.join(' ')} WHERE ${where.join(' AND ')} ORDER BY ${o.order.join(', ')} LIMIT ? OFFSET ?`;
    return { sql, params: [...o.joinParams, ...whereParams, q.limit + 1, q.offset] };
  }
  const groups = orderedGroups(terms, where, whereParams, q.offset + q.limit + 1, probe, false);
  return { sql: `SELECT id FROM (${groups.map((g) => g.sql).join(' UNION ALL ')}) LIMIT ? OFFSET ?`, params: [...groups.flatMap((g) => g.params), q.limit + 1, q.offset] };
}
