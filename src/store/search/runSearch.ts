/**
 * Compiles a runs search (MLflow filter + order_by + view type) into one parameterised SQL
 * query over the runs table. Semantics follow MLflow's SQL store: a run missing the key never
 * matches; ordering puts NaN after numbers and missing values last, in both directions, then
 * `start_time DESC, run_id ASC`.
 */
import { invalidParameter } from '../errors';
import type { Params } from '../sqlite';
import type { ViewType } from '../types';
import { parseFilter, parseOrderBy, type Clause, type Comparator } from './filterParser';
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

function compileClause(c: Clause, params: Params): string {
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
      return `r.id IN (SELECT m.run FROM latest_metrics m WHERE m.key = ? AND ${cmp})`;
    }
    case 'parameter':
    case 'tag': {
      const what = type === 'parameter' ? 'parameter' : 'tag';
      requireComparator(c, STRING_COMPARATORS, `${what}s`);
      const value = requireString(c, what);
      const table = type === 'parameter' ? 'params' : 'tags';
      params.push(key);
      return `r.id IN (SELECT x.run FROM ${table} x WHERE x.key = ? AND ${compareSql('x.value', c.comparator, value, params)})`;
    }
    case 'dataset': {
      if (!DATASET_KEYS.includes(key)) {
        throw invalidParameter(`Invalid dataset key '${key}' specified. Valid keys are '${JSON.stringify(DATASET_KEYS)}'`);
      }
      requireComparator(c, STRING_ATTRIBUTE_COMPARATORS, 'dataset attributes');
      const value = c.value.kind === 'list' ? c.value.value : requireString(c, 'dataset attributes');
      if (key === 'context') {
        return `r.id IN (SELECT t.run FROM run_input_tags t WHERE t.key = 'mlflow.data.context' AND ${compareSql('t.value', c.comparator, value, params)})`;
      }
      return `r.id IN (SELECT ri.run FROM run_inputs ri JOIN datasets d ON d.id = ri.dataset WHERE ${compareSql(`d.${key}`, c.comparator, value, params)})`;
    }
    case 'attribute': {
      const numeric = NUMERIC_ATTRIBUTES[key];
      if (numeric) {
        requireComparator(c, METRIC_COMPARATORS, `numeric attribute '${key}'`);
        if (c.value.kind !== 'number') throw invalidParameter(`Expected numeric value type for numeric attribute: ${key}. Found ${valueText(c)}`);
        params.push(c.value.value);
        return `${numeric} ${c.comparator} ?`;
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
        if (ids.length === 0) return c.comparator === 'IN' ? '0' : '1';
        return compareSql(column, c.comparator, ids, params);
      }
      if (c.comparator === 'IN' || c.comparator === 'NOT IN') {
        throw invalidParameter(`Expected a parenthesised list of quoted strings for ${c.comparator}.`);
      }
      return compareSql(column, c.comparator, requireString(c, 'attributes'), params);
    }
  }
}

export interface CompiledOrder {
  joins: string[];
  joinParams: Params;
  orderSql: string;
}

/** Builds joins and ORDER BY for MLflow's ordering rules. */
export function compileRunOrder(orderBy: string[] | undefined): CompiledOrder {
  const joins: string[] = [];
  const joinParams: Params = [];
  const terms: string[] = [];
  const seen = new Set<string>();
  let orderedByStartTime = false;
  (orderBy ?? []).forEach((item, i) => {
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
      if (column === 'r.start_time') orderedByStartTime = true;
      terms.push(`(${column} IS NULL)`, `${column} ${dir}`);
      return;
    }
    const alias = `o${i}`;
    if (type === 'metric') {
      joins.push(`LEFT JOIN latest_metrics ${alias} ON ${alias}.run = r.id AND ${alias}.key = ?`);
      terms.push(`(CASE WHEN ${alias}.is_nan = 1 THEN 1 WHEN ${alias}.run IS NULL THEN 2 ELSE 0 END)`, `${alias}.value ${dir}`);
    } else if (type === 'parameter' || type === 'tag') {
      joins.push(`LEFT JOIN ${type === 'parameter' ? 'params' : 'tags'} ${alias} ON ${alias}.run = r.id AND ${alias}.key = ?`);
      terms.push(`(${alias}.value IS NULL)`, `${alias}.value ${dir}`);
    } else {
      throw invalidParameter(`Invalid order_by entity '${identifier.entity ?? ''}': datasets cannot be ordered by.`);
    }
    joinParams.push(key);
  });
  if (!orderedByStartTime) terms.push('r.start_time DESC');
  terms.push('r.run_uuid ASC');
  return { joins, joinParams, orderSql: terms.join(', ') };
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
export function compileRunSearch(q: RunQuery): { sql: string; params: Params } {
  const clauses = parseFilter(q.filter);
  const whereParams: Params = [];
  const where = [
    `r.experiment_id IN (${q.experimentIds.map(() => '?').join(', ') || 'NULL'})`,
    `r.lifecycle_stage IN (${lifecycleStages(q.viewType)
      .map((s) => `'${s}'`)
      .join(', ')})`,
  ];
  whereParams.push(...q.experimentIds);
  for (const c of clauses) where.push(compileClause(c, whereParams));
  const order = compileRunOrder(q.orderBy);
  const sql = `SELECT r.id FROM runs r ${order.joins.join(' ')} WHERE ${where.join(' AND ')} ORDER BY ${order.orderSql} LIMIT ? OFFSET ?`;
  return { sql, params: [...order.joinParams, ...whereParams, q.limit + 1, q.offset] };
}
