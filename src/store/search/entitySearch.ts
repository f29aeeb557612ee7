/**
 * Filter and order_by compilation for the smaller search APIs (registered models, model
 * versions, logged models): a table of searchable attributes and key/value sets per entity,
 * compiled to parameterised SQL with MLflow's comparator rules and error messages.
 */
import { invalidParameter } from '../../domain/errors';
import type { Params } from '../sqlite';
import { parseFilter, parseOrderBy, type Comparator } from '../../filter/filterParser';
import { compareSql } from './sqlComparison';

export const STRING_OPS: Comparator[] = ['=', '!=', 'LIKE', 'ILIKE'];
export const NUMERIC_OPS: Comparator[] = ['=', '!=', '<', '<=', '>', '>='];

export interface AttributeSpec {
  column: string;
  numeric?: boolean;
  comparators: Comparator[];
}

/** A key/value set such as tags: `EXISTS (SELECT 1 FROM <from> WHERE <link> AND key = ? AND <value cmp>)`. */
export interface KeyValueSpec {
  from: string;
  link: string;
  valueColumn: string;
  numeric?: boolean;
  comparators: Comparator[];
}

export interface EntitySearchSpec {
  /** For messages: "registered models". */
  what: string;
  attributes: Record<string, AttributeSpec>;
  /** Keyed by every accepted prefix spelling: `tags`, `tag`, … */
  keyValues: Record<string, KeyValueSpec>;
}

function describeValue(v: { kind: string; value: unknown }): string {
  return JSON.stringify(v.value);
}

/** A string-valued tag table under both spellings MLflow accepts (`tags.k` and `tag.k`). */
export function tagSets(from: string, link: string): Record<string, KeyValueSpec> {
  const spec: KeyValueSpec = { from: `${from} kv`, link, valueColumn: 'kv.value', comparators: STRING_OPS };
  return { tags: spec, tag: spec };
}

export function compileEntityFilter(spec: EntitySearchSpec, filter: string | undefined, params: Params): string[] {
  const where: string[] = [];
  for (const c of parseFilter(filter)) {
    const { entity, key } = c.identifier;
    if (entity !== null && entity !== 'attribute' && entity !== 'attributes' && entity !== 'attr') {
      const kv = spec.keyValues[entity];
      if (!kv) {
        throw invalidParameter(`Invalid entity type '${entity}' in filter for ${spec.what}. Valid prefixes: ${JSON.stringify(Object.keys(spec.keyValues))}.`);
      }
      if (!kv.comparators.includes(c.comparator)) {
        throw invalidParameter(`Invalid comparator '${c.comparator}' for ${entity} in ${spec.what} search; valid comparators are ${JSON.stringify(kv.comparators)}.`);
      }
      if (kv.numeric ? c.value.kind !== 'number' : c.value.kind !== 'string') {
        throw invalidParameter(`Expected a ${kv.numeric ? 'numeric' : 'quoted string'} value for ${entity}.${key}, got ${describeValue(c.value)}.`);
      }
      params.push(key);
      if (c.comparator === '!=' && c.value.kind !== 'list') {
        // As MLflow's registry: an entity without the key counts as "not equal" (the client
        // itself appends `tags.mlflow.prompt.is_prompt != 'true'` to hide prompts).
        params.push(c.value.value);
        where.push(`NOT EXISTS (SELECT 1 FROM ${kv.from} WHERE ${kv.link} AND kv.key = ? AND ${kv.valueColumn} = ?)`);
      } else {
        where.push(`EXISTS (SELECT 1 FROM ${kv.from} WHERE ${kv.link} AND kv.key = ? AND ${compareSql(kv.valueColumn, c.comparator, c.value.value, params)})`);
      }
      continue;
    }
    const attr = spec.attributes[key];
    if (!attr) {
      throw invalidParameter(`Invalid attribute key '${key}' in filter for ${spec.what}. Valid keys are ${JSON.stringify(Object.keys(spec.attributes))}.`);
    }
    if (!attr.comparators.includes(c.comparator)) {
      throw invalidParameter(`Invalid comparator '${c.comparator}' for attribute '${key}' in ${spec.what} search; valid comparators are ${JSON.stringify(attr.comparators)}.`);
    }
    if (c.value.kind === 'list') {
      where.push(compareSql(attr.column, c.comparator, c.value.value, params));
    } else if (attr.numeric) {
      if (c.value.kind !== 'number') throw invalidParameter(`Expected a numeric value for attribute '${key}', got ${describeValue(c.value)}.`);
      params.push(c.value.value);
      where.push(`${attr.column} ${c.comparator} ?`);
    } else {
      if (c.value.kind !== 'string') throw invalidParameter(`Expected a quoted string value for attribute '${key}', got ${describeValue(c.value)}.`);
      where.push(compareSql(attr.column, c.comparator, c.value.value, params));
    }
  }
  return where;
}

/** `order_by` strings over `orderable` columns; duplicate fields are an error, as in MLflow. */
export function compileEntityOrder(what: string, orderBy: string[] | undefined, orderable: Record<string, string>): string[] {
  const terms: string[] = [];
  const seen = new Set<string>();
  for (const item of orderBy ?? []) {
    const { identifier, ascending } = parseOrderBy(item);
    const column = identifier.entity === null || identifier.entity === 'attribute' ? orderable[identifier.key] : undefined;
    if (!column) throw invalidParameter(`Invalid order by key '${item}' for ${what}. Valid keys are ${JSON.stringify(Object.keys(orderable))}.`);
    if (seen.has(column)) throw invalidParameter(`\`order_by\` contains duplicate fields: ${JSON.stringify(orderBy)}`);
    seen.add(column);
    terms.push(`${column} ${ascending ? 'ASC' : 'DESC'}`);
  }
  return terms;
}
