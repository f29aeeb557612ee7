/** Shared SQL fragments for filter comparators. Values are always bound, never spliced. */
import type { Comparator } from '../../filter/filterParser';
import { placeholders, type Params } from '../sqlite';

/** `column <comparator> ?` with case-sensitive LIKE (the store sets case_sensitive_like). */
export function compareSql(column: string, comparator: Comparator, value: string | number | string[], params: Params): string {
  switch (comparator) {
    case 'ILIKE':
      params.push(String(value));
      return `lower(${column}) LIKE lower(?)`;
    case 'IN':
    case 'NOT IN': {
      const list = value as string[];
      params.push(...list);
      return `${column} ${comparator} (${placeholders(list.length)})`;
    }
    default:
      params.push(value as string | number);
      return `${column} ${comparator} ?`;
  }
}
