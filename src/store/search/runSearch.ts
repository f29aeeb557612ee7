/**
 * Compiles a runs search (MLflow filter + order_by + view type) into one parameterised SQL
 * query over the runs table. Semantics follow MLflow's SQL store: a run missing the key never
 * matches; ordering puts NaN after numbers and missing values last, in both directions, then
 * `start_time DESC, run_id ASC`.
 */
import { invalidParameter } from '../../domain/errors';
import { placeholders, type Params } from '../sqlite';
import type { ViewType } from '../../domain/types';
import { parseFilterWithNullChecks, parseOrderBy, type Clause, type Comparator, type NullClause } from '../../filter/filterParser';
import { compareSql } from './sqlComparison';
import { orderedGroups, orderSql, SMALL_RUN_SET, walkable, type OrderTerm, type PlanContext, type SearchProbe } from './runOrder';

export type { SearchProbe, SetSizeProbe } from './runOrder';

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
type CompiledClause =
  | { kind: 'row'; sql: string; params: Params }
  | { kind: 'runSet'; from: string; runColumn: string; cond: string; params: Params; existsCond?: string };

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
      const cmp = (v: string): string => (c.comparator === '!=' ? `(m.is_nan = 1 OR ${v} != ?)` : `${v} ${c.comparator} ?`);
      params.push(c.value.value);
      // Checked per run (EXISTS), `+` keeps SQLite on the (run, key) primary key: with the
      // (key, value) index it would scan every matching row once per run (10k runs: 2.4 s).
      return { kind: 'runSet', from: 'latest_metrics m', runColumn: 'm.run', cond: `m.key = ? AND ${cmp('m.value')}`, existsCond: `m.key = ? AND ${cmp('+m.value')}`, params };
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
      filters.push(`EXISTS (SELECT 1 FROM ${c.from} WHERE ${c.runColumn} = r.id AND ${c.existsCond ?? c.cond})`);
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
  const ctx: PlanContext = { probe, experiment: q.experimentIds.length === 1 ? q.experimentIds[0] : undefined, needed: q.offset + q.limit + 1 };
  // A small filter set is cheaper to sort whole; the default order walks the experiment index.
  if (terms.length === 0 || smallSet || !walkable(terms[0], ctx)) {
    const o = orderSql(terms, 0);
    const sql = `SELECT r.id FROM runs r ${o.joins.join(' ')} WHERE ${where.join(' AND ')} ORDER BY ${o.order.join(', ')} LIMIT ? OFFSET ?`;
    return { sql, params: [...o.joinParams, ...whereParams, q.limit + 1, q.offset] };
  }
  const groups = orderedGroups(terms, where, whereParams, ctx, false);
  return { sql: `SELECT id FROM (${groups.map((g) => g.sql).join(' UNION ALL ')}) LIMIT ? OFFSET ?`, params: [...groups.flatMap((g) => g.params), q.limit + 1, q.offset] };
}
