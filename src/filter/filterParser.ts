/**
 * The throwing face of the filter parser, for the server's search compilers: the clauses, or the
 * INVALID_PARAMETER_VALUE error MLflow's server answers for the first syntax error. Editors and
 * views read every diagnostic from filterSyntax.ts instead.
 */
import { invalidParameter } from '../domain/errors';
import type { Clause, NullClause, OrderBy } from './filterAst';
import { parseFilterText, parseOrderByText } from './filterSyntax';

export type { Clause, Comparator, FilterValue, Identifier, NullClause, OrderBy } from './filterAst';

/** Parses a filter string into clauses; an empty or blank filter yields no clauses. */
export function parseFilter(filter: string | undefined | null): Clause[] {
  return parse(filter, false) as Clause[];
}

/** Like parseFilter, also taking `identifier IS [NOT] NULL` clauses. */
export function parseFilterWithNullChecks(filter: string | undefined | null): (Clause | NullClause)[] {
  return parse(filter, true);
}

function parse(filter: string | undefined | null, nullChecks: boolean): (Clause | NullClause)[] {
  const parsed = parseFilterText(filter, { nullChecks });
  if (parsed.firstError) throw invalidParameter(parsed.firstError.mlflowMessage ?? parsed.firstError.message);
  return parsed.clauses;
}

/** Parses one `order_by` item: `<identifier> [ASC|DESC]`. */
export function parseOrderBy(item: string): OrderBy {
  const parsed = parseOrderByText(item);
  const first = parsed.diagnostics[0];
  if (first || !parsed.orderBy) throw invalidParameter(first?.mlflowMessage ?? first?.message ?? `Invalid order_by clause '${item}'.`);
  return parsed.orderBy;
}
