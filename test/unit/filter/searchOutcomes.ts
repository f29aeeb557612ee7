/**
 * What the parser and each search compiler make of one filter / order_by item, as plain JSON:
 * the clauses (in the shape the compilers read), the compiled SQL and parameters, or the MLflow
 * error message. filterGolden.json holds these outcomes as recorded before the parser recovered.
 */
import { MlflowError } from '../../../src/domain/errors';
import { parseFilter, parseFilterWithNullChecks, parseOrderBy } from '../../../src/filter/filterParser';
import { compileRunSearch } from '../../../src/store/search/runSearch';
import { compileExperimentSearch } from '../../../src/store/search/experimentSearch';
import { compileEntityFilter, compileEntityOrder, NUMERIC_OPS, STRING_OPS, tagSets, type EntitySearchSpec } from '../../../src/store/search/entitySearch';
import { compileTraceFilter, compileTraceOrder } from '../../../src/store/traces/traceSearch';
import { compileDatasetFilter, compileDatasetOrder } from '../../../src/store/datasets/datasetSearch';
import type { Params } from '../../../src/store/sqlite';

type Outcome = unknown;

function outcome(fn: () => unknown): Outcome {
  try {
    return { ok: fn() };
  } catch (err) {
    if (err instanceof MlflowError) return { error: err.errorCode, message: err.message };
    return { thrown: String(err) };
  }
}

/** The clause fields the compilers read (later parsers may add ranges; those are not compared). */
function clauseShape(c: { identifier: { entity: string | null; key: string; position: number }; comparator: string; position: number; value?: unknown }): unknown {
  return { entity: c.identifier.entity, key: c.identifier.key, idPos: c.identifier.position, comparator: c.comparator, value: c.value ?? null, position: c.position };
}

/** A spec of the model-version kind: attributes of every type, a tag set, IN lists. */
const ENTITY_SPEC: EntitySearchSpec = {
  what: 'model versions',
  attributes: {
    name: { column: 'mv.name', comparators: [...STRING_OPS, 'IN'] },
    run_id: { column: 'mv.run_id', comparators: ['=', '!=', 'IN', 'NOT IN'] },
    version_number: { column: 'mv.version', numeric: true, comparators: NUMERIC_OPS },
  },
  keyValues: { ...tagSets('model_version_tags', 'kv.name = mv.name'), metrics: { from: 'm kv', link: 'kv.id = mv.id', valueColumn: 'kv.value', numeric: true, comparators: NUMERIC_OPS } },
};

export function filterOutcomes(filter: string): Record<string, Outcome> {
  return {
    parse: outcome(() => parseFilter(filter).map(clauseShape)),
    parseWithNullChecks: outcome(() => parseFilterWithNullChecks(filter).map(clauseShape)),
    // The runs compiler's SQL is its own business (plans change); what it accepts and its messages are the parser's.
    runs: outcome(() => (compileRunSearch({ experimentIds: [1], filter, viewType: 'ACTIVE_ONLY', limit: 10, offset: 0 }), 'compiled')),
    experiments: outcome(() => compileExperimentSearch({ filter, viewType: 'ACTIVE_ONLY', limit: 10, offset: 0 })),
    entity: outcome(() => {
      const params: Params = [];
      return { where: compileEntityFilter(ENTITY_SPEC, filter, params), params };
    }),
    traces: outcome(() => {
      const params: Params = [];
      return { where: compileTraceFilter(filter, params), params };
    }),
    datasets: outcome(() => {
      const params: Params = [];
      return { where: compileDatasetFilter(filter, params), params };
    }),
  };
}

export function orderOutcomes(item: string): Record<string, Outcome> {
  return {
    parse: outcome(() => {
      const o = parseOrderBy(item);
      return { entity: o.identifier.entity, key: o.identifier.key, position: o.identifier.position, ascending: o.ascending };
    }),
    runs: outcome(() => (compileRunSearch({ experimentIds: [1], viewType: 'ACTIVE_ONLY', orderBy: [item], limit: 10, offset: 0 }), 'compiled')),
    experiments: outcome(() => compileExperimentSearch({ viewType: 'ACTIVE_ONLY', orderBy: [item], limit: 10, offset: 0 }).sql),
    entity: outcome(() => compileEntityOrder('model versions', [item], { name: 'mv.name', version_number: 'mv.version' })),
    traces: outcome(() => compileTraceOrder([item])),
    datasets: outcome(() => compileDatasetOrder([item])),
  };
}
