/**
 * The store behind /graphql's root fields, mirroring the `*_impl` functions MLflow's resolvers
 * call: each returns the RPC's response in proto-JSON shape (snake_case keys), which the executor
 * reads field by field. Metric values keep MLflow's quirks: in run data a NaN reads as null
 * (`MlflowMetricExtension`), elsewhere it is a Float error; ±Infinity reads as ±max double, the
 * value MLflow's SQL store keeps for it.
 */
import { validateRequestPath } from '../../store/artifacts/artifactPaths';
import { BULK_INTERVAL_MAX_RESULTS } from '../../store/limits';
import type { TrackingStore } from '../../backend/api/tracking';
import type { Metric, Run, ViewType } from '../../domain/types';
import { listRunArtifacts } from '../handlers/artifacts';
import type { Json, Resolvers } from './execute';

function finiteOrMax(v: number): number {
  return v === Infinity ? Number.MAX_VALUE : v === -Infinity ? -Number.MAX_VALUE : v;
}

function runJson(run: Run): Json {
  return { ...run, data: { ...run.data, metrics: run.data.metrics.map((m: Metric) => ({ ...m, value: finiteOrMax(m.value) })) } };
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

export function storeResolvers(store: TrackingStore): Resolvers {
  const input = (args: Json): Json => (args.input ?? {}) as Json;

  const searchRuns = async (args: Json): Promise<Json> => {
    const i = input(args);
    const page = await store.searchRuns({
      experimentIds: strings(i.experimentIds),
      filter: str(i.filter),
      viewType: (str(i.runViewType) as ViewType | undefined) ?? 'ACTIVE_ONLY',
      maxResults: typeof i.maxResults === 'number' ? i.maxResults : undefined,
      orderBy: strings(i.orderBy),
      pageToken: str(i.pageToken),
    });
    return { runs: page.items.map(runJson), next_page_token: page.nextPageToken ?? '' };
  };

  const searchModelVersions = async (filter: string | undefined, i: Json = {}): Promise<Json> => {
    const page = await store.registry.searchModelVersions({
      filter,
      maxResults: typeof i.maxResults === 'number' ? i.maxResults : undefined,
      orderBy: strings(i.orderBy),
      pageToken: str(i.pageToken),
    });
    return { model_versions: page.items, next_page_token: page.nextPageToken ?? '' };
  };

  return {
    roots: {
      Query: {
        mlflowGetExperiment: async (args) => ({ experiment: await store.getExperiment(str(input(args).experimentId) ?? '0') }),
        mlflowGetRun: async (args) => {
          const i = input(args);
          return { run: runJson(await store.getRun(str(i.runId) ?? str(i.runUuid) ?? '')) };
        },
        mlflowSearchRuns: searchRuns,
        // MLflow's resolver reads max_results and the step range from the HTTP query string, not
        // from `input`: over GraphQL they are always the defaults.
        mlflowGetMetricHistoryBulkInterval: async (args) => {
          const i = input(args);
          const runIds = strings(i.runIds);
          if (runIds.length === 0) return { metrics: [] };
          const metrics = await store.getMetricHistoryBulkInterval({ runIds, metricKey: str(i.metricKey) ?? '', maxResults: BULK_INTERVAL_MAX_RESULTS });
          return { metrics: metrics.map((m) => ({ ...m, value: finiteOrMax(m.value) })) };
        },
        mlflowListArtifacts: async (args) => {
          const i = input(args);
          const path = typeof i.path === 'string' ? validateRequestPath(i.path) : undefined;
          return { ...(await listRunArtifacts(store, str(i.runId) ?? str(i.runUuid) ?? '', path)), next_page_token: '' };
        },
        mlflowSearchModelVersions: async (args) => searchModelVersions(str(input(args).filter), input(args)),
        test: async (args) => ({ output: args.inputString ?? null }),
      },
      Mutation: {
        mlflowSearchRuns: searchRuns,
        mlflowSearchDatasets: async (args) => {
          const ids = strings(input(args).experimentIds);
          if (ids.length === 0) throw new Error('SearchDatasets request must specify at least one experiment_id.');
          if (ids.length > 20) throw new Error(`SearchDatasets request cannot specify more than 20 experiment_ids. Received ${ids.length} experiment_ids.`);
          return { dataset_summaries: await store.searchDatasets(ids) };
        },
        testMutation: async (args) => ({ output: args.inputString ?? null }),
      },
    },
    fields: {
      MlflowRunExtension: {
        experiment: async (run) => store.getExperiment(String((run.info as Json).experiment_id)),
        modelVersions: async (run) => (await searchModelVersions(`run_id='${String((run.info as Json).run_id)}'`)).model_versions,
      },
      // MLflow's extension: a NaN value reads as null rather than failing the field.
      MlflowMetricExtension: { value: (m) => (Number.isNaN(m.value) ? null : m.value) },
    },
  };
}
