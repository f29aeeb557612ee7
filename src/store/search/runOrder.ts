/**
 * Ordering plans for a runs search: the ORDER BY of MLflow's SQL store (each term's missing
 * values last in both directions, NaN metrics after numbers, then `start_time DESC, run_id ASC`)
 * as a list of groups, each of which SQLite can produce by walking an index in order and
 * stopping at the page size, instead of sorting every matching run.
 */
import type { SqlValue } from 'sql.js';
import type { Params } from '../sqlite';

/** One parsed order_by term. `joined` terms order by a metric/param/tag value of the run. */
export type OrderTerm =
  | { kind: 'attribute'; column: string; dir: 'ASC' | 'DESC' }
  | { kind: 'joined'; table: 'latest_metrics' | 'params' | 'tags'; key: string; dir: 'ASC' | 'DESC' };

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
export const SMALL_RUN_SET = 5000;
/** A param, tag or attribute ordered by is split per value (see orderedGroups) up to this many values. */
const MAX_SPLIT_VALUES = 32;

/** Run columns that can never be NULL: ordering by them needs no "missing last" rank. */
const NOT_NULL_COLUMNS = new Set(['r.run_uuid', 'r.experiment_id', 'r.name', 'r.user_id', 'r.status', 'r.artifact_uri']);
/**
 * Run columns with an index on (experiment_id, column, start_time) (schema.ts): one
 * experiment's runs can be walked in their order. The few-valued ones are split per value.
 */
const COLUMN_INDEXES: Record<string, string> = {
  'r.start_time': 'runs_by_experiment',
  'r.end_time': 'runs_by_experiment_end',
  'r.name': 'runs_by_experiment_name',
  'r.status': 'runs_by_experiment_status',
  'r.user_id': 'runs_by_experiment_user',
};
const FEW_VALUED_COLUMNS = new Set(['r.status', 'r.user_id']);

/** What the group planner knows about the query beyond its terms. */
export interface PlanContext {
  probe: SearchProbe | undefined;
  /** The experiment searched, when there is exactly one (attribute indexes lead with it). */
  experiment: number | undefined;
  /** Rows each group must deliver: offset + limit + 1. */
  needed: number;
}

/**
 * Joins and ORDER BY terms for `terms`, plus MLflow's tie-breakers (start_time DESC, run_id).
 * `firstPresent`: the caller has already kept only runs where the first (attribute) term is not
 * NULL, so its "missing last" rank is left out and the column's index can give the order.
 */
export function orderSql(terms: OrderTerm[], aliasBase: number, firstPresent = false): { joins: string[]; joinParams: Params; order: string[] } {
  const joins: string[] = [];
  const joinParams: Params = [];
  const order: string[] = [];
  let orderedByStartTime = false;
  terms.forEach((t, i) => {
    if (t.kind === 'attribute') {
      if (t.column === 'r.start_time') orderedByStartTime = true;
      if (!NOT_NULL_COLUMNS.has(t.column) && !(firstPresent && i === 0)) order.push(`(${t.column} IS NULL)`);
      order.push(`${t.column} ${t.dir}`);
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

/** One ordered part of a page: `SELECT * FROM (… ORDER BY … LIMIT ?)`. */
export interface Group {
  sql: string;
  params: Params;
}

/** Whether runs can be produced in the order of `t` by an index walk (see orderedGroups). */
export function walkable(t: OrderTerm | undefined, ctx: PlanContext): boolean {
  if (t === undefined) return true; // start_time DESC, on the experiment index
  return t.kind === 'joined' || (ctx.experiment !== undefined && t.column in COLUMN_INDEXES);
}

/** Up to MAX_SPLIT_VALUES distinct values of `column` (a loose index scan: O(values × log n)), in `dir` order. */
function fewValues(table: string, column: string, scope: string, scopeParams: Params, dir: 'ASC' | 'DESC', probe: SearchProbe | undefined): SqlValue[] | undefined {
  if (!probe?.column) return undefined;
  // Each step seeks the index past the previous value.
  const values = probe.column(
    `WITH RECURSIVE v(x) AS (SELECT min(${column}) FROM ${table} WHERE ${scope} ` +
      `UNION ALL SELECT (SELECT min(${column}) FROM ${table} WHERE ${scope} AND ${column} > v.x) FROM v WHERE v.x IS NOT NULL LIMIT ${MAX_SPLIT_VALUES + 2}) ` +
      'SELECT x FROM v WHERE x IS NOT NULL',
    [...scopeParams, ...scopeParams],
  );
  if (values.length > MAX_SPLIT_VALUES) return undefined;
  return dir === 'ASC' ? values : values.reverse();
}

/** One group sorted by SQLite as a whole (it may still walk an index if the order allows). */
function sortedGroup(terms: OrderTerm[], where: string[], whereParams: Params, ctx: PlanContext, firstPresent = false): Group {
  const o = orderSql(terms, 0, firstPresent);
  // Walking the first term's index: SQLite, without statistics, would rather take the
  // experiment index and sort every run (100k runs by run_name: 61 ms instead of ~2).
  const first = terms[0];
  const index = firstPresent && first?.kind === 'attribute' ? COLUMN_INDEXES[first.column] : undefined;
  return {
    sql: `SELECT * FROM (SELECT r.id FROM runs r ${index ? `INDEXED BY ${index} ` : ''}${o.joins.join(' ')} WHERE ${where.join(' AND ')} ORDER BY ${o.order.join(', ')} LIMIT ?)`,
    params: [...o.joinParams, ...whereParams, ctx.needed],
  };
}

/**
 * Groups whose concatenation is the order of `terms` over the runs matching `where`, each
 * ordered on its own and cut at `ctx.needed` rows.
 *
 * When the first term is a metric, param or tag, the runs are split into the groups MLflow's
 * ordering produces — runs with a value, (metrics only) runs whose value is NaN, runs without the
 * key — so the first group can walk the (key, value) index in order and stop at the page size
 * instead of sorting every matching run (100k runs, order_by metric: 130 ms → under 1 ms).
 * A nullable attribute (start_time, end_time) is split the same way into runs with a value,
 * walked on its experiment index, and runs without.
 * A param, tag or attribute with few values (`params.model, metrics.loss`, `attributes.status`;
 * also alone, as start_time breaks ties) would still sort every run of one value by the next
 * term (25k runs: ~68 ms), so it is split once more, per value, and each value's runs are
 * ordered by the terms after it in the same way.
 */
export function orderedGroups(terms: OrderTerm[], where: string[], whereParams: Params, ctx: PlanContext, single: boolean): Group[] {
  const first = terms[0];
  if (first === undefined || single || !walkable(first, ctx)) return [sortedGroup(terms, where, whereParams, ctx)];
  const rest = terms.slice(1);
  // Split per value only where each value's runs can then be walked in order.
  const splittable = walkable(rest[0], ctx);
  if (first.kind === 'attribute') {
    const values =
      FEW_VALUED_COLUMNS.has(first.column) && splittable
        ? fewValues('runs', first.column.slice(2), 'experiment_id = ?', [ctx.experiment!], first.dir, ctx.probe)
        : undefined;
    if (values) return values.flatMap((v) => orderedGroups(rest, [`${first.column} = ?`, ...where], [v, ...whereParams], ctx, false));
    // Walk the (experiment_id, column, start_time) index; ties are sorted on their own.
    if (NOT_NULL_COLUMNS.has(first.column)) return [sortedGroup(terms, where, whereParams, ctx, true)];
    return [
      sortedGroup(terms, [`${first.column} IS NOT NULL`, ...where], whereParams, ctx, true),
      ...orderedGroups(rest, [`${first.column} IS NULL`, ...where], whereParams, ctx, false),
    ];
  }
  const groups: Group[] = [];
  const values = first.table !== 'latest_metrics' && splittable ? fewValues(first.table, 'value', 'key = ?', [first.key], first.dir, ctx.probe) : undefined;
  if (values) {
    // Once one value's set is large, the page is most likely filled before the values after it,
    // whose groups SQLite then never runs: they are walked without counting them (a count costs
    // up to SMALL_RUN_SET index steps per value, a third of a 100k-run search).
    let probing = true;
    for (const v of values) {
      const small = probing && (ctx.probe?.countUpTo(`SELECT 1 FROM ${first.table} x WHERE x.key = ? AND x.value = ?`, [first.key, v], SMALL_RUN_SET) ?? 0) < SMALL_RUN_SET;
      if (!small) probing = false;
      // A small value set is materialised and sorted; a large one is checked per run of an index walk.
      const cond = small
        ? `r.id IN (SELECT x.run FROM ${first.table} x WHERE x.key = ? AND x.value = ?)`
        : `EXISTS (SELECT 1 FROM ${first.table} x WHERE x.run = r.id AND x.key = ? AND x.value = ?)`;
      // `+`: a materialised set is the better start than the experiment index (as in compileRunSearch).
      const scoped = small ? where.map((w) => (w.startsWith('r.experiment_id') ? `+${w}` : w)) : where;
      groups.push(...orderedGroups(rest, [cond, ...scoped], [first.key, v, ...whereParams], ctx, small));
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
        params: [...after.joinParams, first.key, ...whereParams, ctx.needed],
      });
    };
    if (first.table === 'latest_metrics') {
      present('o0.is_nan = 0');
      // NaN is stored as NULL: the index seeks to the NaN rows instead of scanning every value (~150 ms at 100k).
      present('o0.value IS NULL AND o0.is_nan = 1');
    } else {
      present('1');
    }
  }
  const missing = `NOT EXISTS (SELECT 1 FROM ${first.table} x WHERE x.run = r.id AND x.key = ?)`;
  groups.push(...orderedGroups(rest, [missing, ...where], [first.key, ...whereParams], ctx, true));
  return groups;
}
