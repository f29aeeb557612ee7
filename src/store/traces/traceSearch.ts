/**
 * MLflow's trace filter language (SearchTraceUtils, v3) compiled to sql.js over the trace
 * tables: attributes, tags, metadata, the span index and assessments. Span payloads are read
 * only to confirm a text search on the traces the span text index could not rule out.
 */
import { invalidParameter } from '../../domain/errors';
import { parseFilter, parseOrderBy, type Clause, type Comparator } from '../../filter/filterParser';
import { compareSql } from '../search/sqlComparison';
import type { Params } from '../sqlite';
import { requiredBits, TEXT_BLOOM_KEY } from './spanText';
import { TraceKeys } from '../../domain/traceTypes';

const STRING_OPS: Comparator[] = ['=', '!=', 'LIKE', 'ILIKE'];
const STRING_IN_OPS: Comparator[] = [...STRING_OPS, 'IN', 'NOT IN'];
const NUMERIC_OPS: Comparator[] = ['=', '!=', '<', '<=', '>', '>='];

const END_TIME = '(t.request_time + coalesce(t.execution_ms, 0))';

interface AttributeSpec {
  sql: string;
  numeric?: boolean;
  ops: Comparator[];
}

const tagValue = (key: string): string => `(SELECT value FROM trace_tags WHERE trace = t.id AND key = '${key}')`;

const ATTRIBUTES: Record<string, AttributeSpec> = {
  request_id: { sql: 't.trace_id', ops: STRING_IN_OPS },
  trace_id: { sql: 't.trace_id', ops: STRING_IN_OPS },
  client_request_id: { sql: 't.client_request_id', ops: STRING_IN_OPS },
  timestamp: { sql: 't.request_time', numeric: true, ops: NUMERIC_OPS },
  timestamp_ms: { sql: 't.request_time', numeric: true, ops: NUMERIC_OPS },
  request_time: { sql: 't.request_time', numeric: true, ops: NUMERIC_OPS },
  execution_time: { sql: 't.execution_ms', numeric: true, ops: NUMERIC_OPS },
  execution_time_ms: { sql: 't.execution_ms', numeric: true, ops: NUMERIC_OPS },
  execution_duration: { sql: 't.execution_ms', numeric: true, ops: NUMERIC_OPS },
  end_time: { sql: END_TIME, numeric: true, ops: NUMERIC_OPS },
  end_time_ms: { sql: END_TIME, numeric: true, ops: NUMERIC_OPS },
  status: { sql: 't.state', ops: STRING_IN_OPS },
  state: { sql: 't.state', ops: STRING_IN_OPS },
  name: { sql: tagValue(TraceKeys.traceName), ops: STRING_IN_OPS },
  // Runlens additions, for the traces view: previews, session and user.
  request_preview: { sql: 't.request_preview', ops: STRING_OPS },
  response_preview: { sql: 't.response_preview', ops: STRING_OPS },
  session_id: { sql: 't.session_id', ops: STRING_IN_OPS },
  user_id: { sql: 't.user_id', ops: STRING_IN_OPS },
  total_tokens: { sql: 't.total_tokens', numeric: true, ops: NUMERIC_OPS },
};

const ORDERABLE: Record<string, string> = {
  experiment_id: 't.experiment_id',
  timestamp: 't.request_time',
  timestamp_ms: 't.request_time',
  request_time: 't.request_time',
  execution_time: 't.execution_ms',
  execution_time_ms: 't.execution_ms',
  end_time: END_TIME,
  end_time_ms: END_TIME,
  status: 't.state',
  state: 't.state',
  request_id: 't.trace_id',
  trace_id: 't.trace_id',
  name: tagValue(TraceKeys.traceName),
  run_id: `(SELECT value FROM trace_metadata WHERE trace = t.id AND key = '${TraceKeys.sourceRun}')`,
  session_id: 't.session_id',
  total_tokens: 't.total_tokens',
};

const SPAN_COLUMNS: Record<string, string> = { name: 's.name', type: 's.type', status: 's.status', span_id: 's.span_id' };

const ATTRIBUTE_ENTITIES = new Set(['attribute', 'attributes', 'attr', 'trace']);
const KV_TABLES: Record<string, string> = {
  tag: 'trace_tags',
  tags: 'trace_tags',
  metadata: 'trace_metadata',
  request_metadata: 'trace_metadata',
};

function expect(c: Clause, kind: 'string' | 'number' | 'list', what: string): void {
  const ok = c.value.kind === kind || (kind === 'string' && c.value.kind === 'list' && (c.comparator === 'IN' || c.comparator === 'NOT IN'));
  if (!ok) throw invalidParameter(`Expected ${kind === 'number' ? 'a numeric value' : 'a quoted string value'} for ${what}, got ${JSON.stringify(c.value.value)}.`);
}

function checkOp(c: Clause, ops: Comparator[], what: string): void {
  if (!ops.includes(c.comparator)) {
    throw invalidParameter(`Invalid comparator '${c.comparator}' for ${what} in trace search; valid comparators are ${JSON.stringify(ops)}.`);
  }
}

function attributeClause(c: Clause, params: Params): string {
  const key = c.identifier.key;
  if (key === 'run_id') {
    checkOp(c, STRING_IN_OPS, 'run_id');
    expect(c, 'string', 'run_id');
    // A trace belongs to a run by its source-run metadata or by link-to-run.
    const viaMeta = compareSql('m.value', c.comparator, c.value.value, params);
    const viaLink = compareSql('r.run_id', c.comparator, c.value.value, params);
    return `(EXISTS (SELECT 1 FROM trace_metadata m WHERE m.trace = t.id AND m.key = '${TraceKeys.sourceRun}' AND ${viaMeta})
      OR EXISTS (SELECT 1 FROM trace_runs r WHERE r.trace = t.id AND ${viaLink}))`;
  }
  const spec = ATTRIBUTES[key];
  if (!spec) {
    throw invalidParameter(
      `Invalid attribute key '${key}' in trace search. Valid keys are ${JSON.stringify([...Object.keys(ATTRIBUTES), 'run_id'])}, or use tag.<key>, metadata.<key>, span.<name|type|status>, feedback.<name>, expectation.<name>.`,
    );
  }
  checkOp(c, spec.ops, `attribute '${key}'`);
  expect(c, spec.numeric ? 'number' : 'string', `attribute '${key}'`);
  if (spec.numeric) {
    params.push(c.value.value as number);
    return `${spec.sql} ${c.comparator} ?`;
  }
  return compareSql(spec.sql, c.comparator, c.value.value, params);
}

/**
 * `trace.text` and `span.content`: some span's JSON matches the LIKE (case-sensitive) or ILIKE
 * (ASCII folded) pattern. Bloom filters choose the candidates; only their payloads are read.
 */
function spanTextClause(c: Clause, what: string, params: Params): string {
  if (c.comparator !== 'LIKE' && c.comparator !== 'ILIKE') {
    throw invalidParameter(`span.content comparator '${c.comparator}' not one of '{'LIKE', 'ILIKE'}'`);
  }
  expect(c, 'string', what);
  const pattern = String(c.value.value);
  params.push(TEXT_BLOOM_KEY, JSON.stringify(requiredBits(pattern)), pattern, c.comparator === 'ILIKE' ? 1 : 0);
  return `(EXISTS (SELECT 1 FROM trace_span_attrs b WHERE b.trace = t.id AND b.key = ? AND rl_bloom_has(b.value, ?)) AND rl_trace_text_like(t.trace_id, ?, ?))`;
}

function clauseSql(c: Clause, params: Params): string {
  const entity = c.identifier.entity;
  const key = c.identifier.key;
  if ((entity === null || ATTRIBUTE_ENTITIES.has(entity)) && key === 'text') return spanTextClause(c, 'trace.text', params);
  if (entity === 'span' && key === 'content') return spanTextClause(c, 'span.content', params);
  if (entity === null || ATTRIBUTE_ENTITIES.has(entity)) return attributeClause(c, params);
  const table = KV_TABLES[entity];
  if (table) {
    checkOp(c, STRING_IN_OPS, `${entity}.${key}`);
    expect(c, 'string', `${entity}.${key}`);
    params.push(key);
    return `EXISTS (SELECT 1 FROM ${table} kv WHERE kv.trace = t.id AND kv.key = ? AND ${compareSql('kv.value', c.comparator, c.value.value, params)})`;
  }
  if (entity === 'span') {
    if (key.startsWith('attributes.') && key.length > 'attributes.'.length) {
      checkOp(c, STRING_IN_OPS, `span.${key}`);
      const value = c.value.kind === 'number' ? c.value.text : c.value.value;
      params.push(key.slice('attributes.'.length));
      return `EXISTS (SELECT 1 FROM trace_span_attrs sa WHERE sa.trace = t.id AND sa.key = ? AND ${compareSql('sa.value', c.comparator, value, params)})`;
    }
    const column = SPAN_COLUMNS[key];
    if (!column) {
      throw invalidParameter(
        `Invalid span key '${key}' in trace search: Runlens filters on span.name, span.type, span.status, span.span_id and span.attributes.<key> (scalar values up to 500 characters); span content is not indexed.`,
      );
    }
    checkOp(c, STRING_IN_OPS, `span.${key}`);
    expect(c, 'string', `span.${key}`);
    const value = key === 'status' && typeof c.value.value === 'string' ? c.value.value.replace(/^STATUS_CODE_/, '') : c.value.value;
    return `EXISTS (SELECT 1 FROM trace_spans s WHERE s.trace = t.id AND ${compareSql(column, c.comparator, value, params)})`;
  }
  if (entity === 'feedback' || entity === 'expectation') {
    checkOp(c, STRING_IN_OPS, `${entity}.${key}`);
    const value = c.value.kind === 'number' ? c.value.text : c.value.value;
    params.push(key, entity);
    return `EXISTS (SELECT 1 FROM assessments a WHERE a.trace = t.id AND a.name = ? AND a.kind = ? AND a.valid = 1 AND ${compareSql('a.value_text', c.comparator, value, params)})`;
  }
  throw invalidParameter(
    `Invalid entity type '${entity}' in trace search. Valid prefixes: ["attribute", "trace", "tag", "metadata", "request_metadata", "span", "feedback", "expectation"].`,
  );
}

export function compileTraceFilter(filter: string | undefined, params: Params): string[] {
  return parseFilter(filter).map((c) => clauseSql(c, params));
}

/** ORDER BY terms; the trace id always breaks ties so pages never overlap. */
export function compileTraceOrder(orderBy: string[] | undefined): string {
  const terms: string[] = [];
  const seen = new Set<string>();
  for (const item of orderBy ?? []) {
    const { identifier, ascending } = parseOrderBy(item);
    const column = identifier.entity === null || ATTRIBUTE_ENTITIES.has(identifier.entity) ? ORDERABLE[identifier.key] : undefined;
    if (!column) throw invalidParameter(`Invalid order by key '${item}' for traces. Valid keys are ${JSON.stringify(Object.keys(ORDERABLE))}.`);
    if (seen.has(column)) throw invalidParameter(`\`order_by\` contains duplicate fields: ${JSON.stringify(orderBy)}`);
    seen.add(column);
    terms.push(`${column} ${ascending ? 'ASC' : 'DESC'}`);
  }
  if (terms.length === 0) terms.push('t.request_time DESC');
  if (!seen.has('t.trace_id')) terms.push('t.trace_id ASC');
  return terms.join(', ');
}
