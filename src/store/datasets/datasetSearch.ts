/**
 * `filter_string` and `order_by` for evaluation dataset search, with MLflow's rules: string
 * attributes (`name`, `created_by`, `last_updated_by`) compare with any comparator, `name` also
 * takes IN; `created_time` / `last_update_time` want integers; `tags.<key>` takes = != LIKE
 * ILIKE and, unlike the registry, `!=` only matches datasets that have the tag.
 */
import { invalidParameter } from '../../domain/errors';
import { parseFilter, parseOrderBy, type Comparator } from '../../filter/filterParser';
import { compareSql } from '../search/sqlComparison';
import type { Params } from '../sqlite';

const STRING_ATTRIBUTES = ['name', 'created_by', 'last_updated_by'];
const NUMERIC_ATTRIBUTES = ['created_time', 'last_update_time'];
const NUMERIC_COMPARATORS: Comparator[] = ['=', '!=', '<', '<=', '>', '>='];
const TAG_COMPARATORS: Comparator[] = ['=', '!=', 'LIKE', 'ILIKE'];
// As MLflow prints the Python sets in its messages.
const SEARCH_KEYS_TEXT = "{'created_time', 'name', 'created_by', 'last_updated_by', 'last_update_time'}";
const ORDER_KEYS_TEXT = "{'created_time', 'name', 'last_update_time'}";

function checkEntity(entity: string | null): 'attribute' | 'tag' {
  if (entity === null) return 'attribute';
  if (entity === 'tags') return 'tag';
  throw invalidParameter(`Invalid identifier token '${entity}' specified`);
}

export function compileDatasetFilter(filter: string | undefined, params: Params): string[] {
  const where: string[] = [];
  for (const c of parseFilter(filter)) {
    const { key } = c.identifier;
    const kind = checkEntity(c.identifier.entity);
    if (c.value.kind === 'list' && c.comparator !== 'IN') {
      throw invalidParameter("List values for 'name' are only supported with the IN comparator.");
    }
    if (kind === 'tag') {
      if (!TAG_COMPARATORS.includes(c.comparator)) throw invalidParameter(`Invalid comparator for tag: ${c.comparator}`);
      params.push(key);
      const value = c.value.kind === 'number' ? c.value.text : (c.value.value as string);
      where.push(`EXISTS (SELECT 1 FROM eval_dataset_tags t WHERE t.dataset_id = d.dataset_id AND t.key = ? AND ${compareSql('t.value', c.comparator, value, params)})`);
      continue;
    }
    if (!STRING_ATTRIBUTES.includes(key) && !NUMERIC_ATTRIBUTES.includes(key)) {
      throw invalidParameter(`Invalid attribute key '${key}' specified. Valid keys are: ${SEARCH_KEYS_TEXT}`);
    }
    if (NUMERIC_ATTRIBUTES.includes(key)) {
      if (!NUMERIC_COMPARATORS.includes(c.comparator)) throw invalidParameter(`Invalid comparator for numeric attribute: ${c.comparator}`);
      if (c.value.kind !== 'number') {
        throw invalidParameter(`Expected numeric value type for numeric attribute: ${key}. Found ${JSON.stringify(c.value.value).replace(/^"|"$/g, "'")}`);
      }
      if (!Number.isInteger(c.value.value) || /[.eE]/.test(c.value.text)) {
        throw invalidParameter(`Invalid value for numeric attribute '${key}': '${c.value.text}'`);
      }
      params.push(c.value.value);
      where.push(`d.${key} ${c.comparator} ?`);
      continue;
    }
    if (c.comparator === 'IN' && key !== 'name') throw invalidParameter(`Invalid comparator for string attribute: ${c.comparator}`);
    if (c.comparator === 'NOT IN') throw invalidParameter(`Invalid comparator for string attribute: ${c.comparator}`);
    const value = c.value.kind === 'number' ? c.value.text : c.value.value;
    where.push(compareSql(`d.${key}`, c.comparator, value, params));
  }
  return where;
}

/** ORDER BY terms; `created_time DESC` by default, `dataset_id DESC` breaking ties. */
export function compileDatasetOrder(orderBy: string[] | undefined): string {
  const terms: string[] = [];
  for (const item of orderBy?.length ? orderBy : ['created_time DESC']) {
    const { identifier, ascending } = parseOrderBy(item);
    const kind = checkEntity(identifier.entity);
    if (kind === 'tag') throw invalidParameter('Invalid order_by entity: tag');
    if (!['name', 'created_time', 'last_update_time'].includes(identifier.key)) {
      throw invalidParameter(`Invalid attribute key '${identifier.key}' specified. Valid keys are: ${ORDER_KEYS_TEXT}`);
    }
    terms.push(`d.${identifier.key} ${ascending ? 'ASC' : 'DESC'}`);
  }
  terms.push('d.dataset_id DESC');
  return terms.join(', ');
}
