/** Compiles `search_experiments` filters and order_by (MLflow's SearchExperimentsUtils) to SQL. */
import { invalidParameter } from '../../domain/errors';
import type { Params } from '../sqlite';
import type { ViewType } from '../../domain/types';
import { parseFilter, parseOrderBy, type Comparator } from '../../filter/filterParser';
import { lifecycleStages } from './runSearch';
import { compareSql } from './sqlComparison';

const NUMERIC: Record<string, string> = { creation_time: 'e.creation_time', last_update_time: 'e.last_update_time' };
const ORDERABLE: Record<string, string> = { ...NUMERIC, name: 'e.name', experiment_id: 'e.experiment_id' };
const STRING_COMPARATORS: Comparator[] = ['=', '!=', 'LIKE', 'ILIKE'];
const NUMERIC_COMPARATORS: Comparator[] = ['=', '!=', '<', '<=', '>', '>='];

function entity(e: string | null): 'attribute' | 'tag' {
  if (e === null || e === 'attribute' || e === 'attributes' || e === 'attr') return 'attribute';
  if (e === 'tag' || e === 'tags') return 'tag';
  throw invalidParameter(`Invalid entity type '${e}'. Valid values are ['attribute', 'tag'].`);
}

export interface ExperimentQuery {
  filter?: string | undefined;
  orderBy?: string[] | undefined;
  viewType: ViewType;
  limit: number;
  offset: number;
}

export function compileExperimentSearch(q: ExperimentQuery): { sql: string; params: Params } {
  const params: Params = [];
  const where = [`e.lifecycle_stage IN (${lifecycleStages(q.viewType).map((s) => `'${s}'`).join(', ')})`];
  for (const c of parseFilter(q.filter)) {
    const type = entity(c.identifier.entity);
    const key = c.identifier.key;
    if (type === 'tag') {
      if (!STRING_COMPARATORS.includes(c.comparator)) throw invalidParameter(`Invalid comparator '${c.comparator}' for tags.`);
      if (c.value.kind !== 'string') throw invalidParameter(`Expected a quoted string value for tag. Got a number.`);
      params.push(key);
      where.push(`e.experiment_id IN (SELECT t.experiment_id FROM experiment_tags t WHERE t.key = ? AND ${compareSql('t.value', c.comparator, c.value.value, params)})`);
    } else if (key === 'name') {
      if (!STRING_COMPARATORS.includes(c.comparator)) throw invalidParameter(`Invalid comparator '${c.comparator}' for attribute 'name'.`);
      if (c.value.kind !== 'string') throw invalidParameter(`Expected a quoted string value for attribute 'name'.`);
      where.push(compareSql('e.name', c.comparator, c.value.value, params));
    } else if (NUMERIC[key]) {
      if (!NUMERIC_COMPARATORS.includes(c.comparator)) throw invalidParameter(`Invalid comparator '${c.comparator}' for attribute '${key}'.`);
      if (c.value.kind !== 'number') throw invalidParameter(`Expected numeric value type for numeric attribute: ${key}.`);
      where.push(compareSql(NUMERIC[key]!, c.comparator, c.value.value, params));
    } else {
      throw invalidParameter(`Invalid attribute key '${key}' specified. Valid keys are ['name', 'creation_time', 'last_update_time']`);
    }
  }
  const terms: string[] = [];
  const seen = new Set<string>();
  for (const item of q.orderBy ?? []) {
    const { identifier, ascending } = parseOrderBy(item);
    if (entity(identifier.entity) !== 'attribute' || !ORDERABLE[identifier.key]) {
      throw invalidParameter(`Invalid order_by key '${identifier.key}'. Experiments can be ordered by ${Object.keys(ORDERABLE).join(', ')}.`);
    }
    if (seen.has(identifier.key)) throw invalidParameter(`\`order_by\` contains duplicate fields: ${JSON.stringify(q.orderBy)}`);
    seen.add(identifier.key);
    terms.push(`${ORDERABLE[identifier.key]} ${ascending ? 'ASC' : 'DESC'}`);
  }
  if (terms.length === 0) terms.push('e.creation_time DESC');
  if (!seen.has('experiment_id')) terms.push('e.experiment_id ASC');
  params.push(q.limit + 1, q.offset);
  return { sql: `SELECT e.experiment_id FROM experiments e WHERE ${where.join(' AND ')} ORDER BY ${terms.join(', ')} LIMIT ? OFFSET ?`, params };
}
