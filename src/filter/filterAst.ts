/**
 * The syntax tree of MLflow's search filter language and the diagnostics the recovering parser
 * reports. Offsets are UTF-16 indices into the filter string (as JavaScript strings and LSP
 * `utf-16` positions count), `end` exclusive.
 */

export type Comparator = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN';

export type FilterValue = { kind: 'string'; value: string } | { kind: 'number'; value: number; text: string } | { kind: 'list'; value: string[] };

export interface Span {
  start: number;
  end: number;
}

export interface Identifier {
  /** The entity prefix as written (lower-cased), or null for a bare attribute name. */
  entity: string | null;
  key: string;
  position: number;
  /** The whole identifier, and where the key part (without its quotes) is. */
  range: Span;
  keyRange: Span;
  /** The key was written in backticks or double quotes. */
  quotedKey: boolean;
}

export interface Clause {
  identifier: Identifier;
  comparator: Comparator;
  value: FilterValue;
  position: number;
  comparatorRange: Span;
  valueRange: Span;
}

export interface NullClause {
  identifier: Identifier;
  comparator: 'IS NULL' | 'IS NOT NULL';
  position: number;
  comparatorRange: Span;
}

export interface OrderBy {
  identifier: Identifier;
  ascending: boolean;
}

/** Syntax errors come from the parser; the others from checking clauses against a vocabulary. */
export type DiagnosticCode = 'syntax' | 'unknown-entity' | 'unknown-attribute' | 'comparator' | 'value-type' | 'unknown-key' | 'not-orderable';

export interface FilterDiagnostic extends Span {
  severity: 'error' | 'warning';
  code: DiagnosticCode;
  /** For people: what is wrong and, where we can tell, what to write instead. */
  message: string;
  /** The text of the INVALID_PARAMETER_VALUE error MLflow's server answers for it (syntax only). */
  mlflowMessage?: string;
  /** A replacement for the range that fixes it ("did you mean"), when there is one. */
  suggestion?: string;
}

export interface ParsedFilter {
  clauses: (Clause | NullClause)[];
  /** Every identifier read, also those of clauses broken further on (hover, checks). */
  identifiers: Identifier[];
  /** Sorted by position. */
  diagnostics: FilterDiagnostic[];
  /** The error the throwing API reports: the one the original parser met first. */
  firstError: FilterDiagnostic | undefined;
}

export interface ParsedOrderBy {
  orderBy: OrderBy | undefined;
  diagnostics: FilterDiagnostic[];
}

/** `IS [NOT] NULL` clauses have no value. */
export function isNullClause(c: Clause | NullClause): c is NullClause {
  return c.comparator === 'IS NULL' || c.comparator === 'IS NOT NULL';
}
