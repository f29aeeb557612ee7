/**
 * `/graphql`, as `mlflow server` answers it: `{"query", "variables", "operationName"}` in a JSON
 * POST (or the query string of a GET), the MLflow UI's schema, and always 200 with
 * `{"data": …, "errors": [<message>, …] | null}` — errors are bare messages, as MLflow flattens
 * them — keys sorted, as Flask's jsonify writes them. A body that is not one request (a batch
 * array, no `query`, a syntax error) gets a 400 in MLflow's error format, where `mlflow server`
 * fails with a 500.
 */
import { invalidParameter } from '../../domain/errors';
import type { TrackingStore } from '../../backend/api/tracking';
import { coerceVariables, Executor, pickOperation, type ExecutionResult, type Json } from '../graphql/execute';
import { GraphQLSyntaxError, parseDocument } from '../graphql/parser';
import { storeResolvers } from '../graphql/resolvers';
import { safetyProblem, validateDocument } from '../graphql/validate';
import type { Fields } from '../requestFields';
import type { RawResponse, Router } from '../router';

function envLimit(name: string, fallback: number): number {
  const v = Number(process.env[name]);
  return Number.isInteger(v) && v > 0 ? v : fallback;
}

function sorted(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sorted);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Json)[k])]));
  return v;
}

function readVariables(raw: unknown): Json {
  if (raw === undefined || raw === null || raw === '') return {};
  if (typeof raw === 'string') {
    try {
      return readVariables(JSON.parse(raw));
    } catch {
      throw invalidParameter('GraphQL variables must be a JSON object.');
    }
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) throw invalidParameter('GraphQL variables must be a JSON object.');
  return raw as Json;
}

export async function executeGraphql(store: TrackingStore, query: string, variables: Json, operationName: string | undefined): Promise<ExecutionResult> {
  let doc;
  try {
    doc = parseDocument(query);
  } catch (err) {
    if (err instanceof GraphQLSyntaxError) throw invalidParameter(err.message);
    throw err;
  }
  const unsafe = safetyProblem(doc, { maxRootFields: envLimit('MLFLOW_SERVER_GRAPHQL_MAX_ROOT_FIELDS', 10), maxAliases: envLimit('MLFLOW_SERVER_GRAPHQL_MAX_ALIASES', 10) });
  if (unsafe) return { data: null, errors: [unsafe] };
  const invalid = validateDocument(doc);
  if (invalid.length) return { data: null, errors: invalid };
  const op = pickOperation(doc, operationName);
  if (typeof op === 'string') return { data: null, errors: [op] };
  const coerced = coerceVariables(op, variables);
  if ('errors' in coerced) return { data: null, errors: coerced.errors };
  return new Executor(doc, storeResolvers(store), coerced.values).run(op);
}

export function registerGraphqlRoutes(router: Router, store: TrackingStore): void {
  const handle = async ({ fields }: { fields: Fields }): Promise<RawResponse> => {
    const query = fields.source.query;
    if (typeof query !== 'string' || query === '') throw invalidParameter("Missing value for required parameter 'query': send a GraphQL document as the 'query' string.");
    const name = fields.source.operationName;
    const result = await executeGraphql(store, query, readVariables(fields.source.variables), typeof name === 'string' && name !== '' ? name : undefined);
    return { raw: true, status: 200, contentType: 'application/json', body: `${JSON.stringify(sorted(result))}\n` };
  };
  router.plain('POST', '/graphql', handle);
  router.plain('GET', '/graphql', handle);
}
