import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ArtifactLocation, MlflowSource, SourceRegisteredModel, SourceRun, SourceTrace } from '../../src/backend/api/source';
import type { LoggedModel } from '../../src/domain/modelTypes';
import type { Experiment, Metric } from '../../src/domain/types';
import { formatImportSummary, importSource } from '../../src/store/import/storeImport';
import type { LocalStore } from '../../src/store/localStore';
import { openStore, tempRoot } from './helpers';

const T0 = 1_700_000_000_000;

function run(id: string, exp: string, extra: Partial<SourceRun['info']> = {}, tags: [string, string][] = []): SourceRun {
  return {
    info: {
      run_id: id,
      run_uuid: id,
      run_name: `run-${id.slice(0, 4)}`,
      experiment_id: exp,
      user_id: 'alice',
      status: 'FINISHED',
      start_time: T0,
      end_time: T0 + 5000,
      artifact_uri: `/elsewhere/${exp}/${id}/artifacts`,
      lifecycle_stage: 'active',
      ...extra,
    },
    data: { metrics: [], params: [{ key: 'lr', value: '0.1' }], tags: [{ key: 'mlflow.runName', value: `run-${id.slice(0, 4)}` }, ...tags.map(([key, value]) => ({ key, value }))] },
    inputs: { dataset_inputs: [], model_inputs: [] },
    outputs: { model_outputs: [] },
  };
}

/** A source held in memory: what a reader of mlflow.db or mlruns/ would yield. */
class MemorySource implements MlflowSource {
  readonly kind = 'mlflow.db' as const;
  readonly description = 'test source';
  constructor(
    readonly exps: Experiment[],
    readonly runsByExp: Map<string, SourceRun[]>,
    readonly history: Map<string, Metric[]>,
    readonly artifactDirs: Map<string, string>,
    readonly models: SourceRegisteredModel[],
    readonly tracesByExp: Map<string, SourceTrace[]>,
  ) {}
  async *experiments(): AsyncIterable<Experiment> {
    yield* this.exps;
  }
  async *runs(experimentId: string): AsyncIterable<SourceRun> {
    yield* this.runsByExp.get(experimentId) ?? [];
  }
  async *metricHistory(runId: string): AsyncIterable<Metric[]> {
    const h = this.history.get(runId) ?? [];
    // In two chunks, as a reader paging through a big table would.
    yield h.slice(0, 700);
    yield h.slice(700);
  }
  runArtifacts(r: SourceRun): ArtifactLocation {
    return { dir: this.artifactDirs.get(r.info.run_id), uri: r.info.artifact_uri };
  }
  async *registeredModels(): AsyncIterable<SourceRegisteredModel> {
    yield* this.models;
  }
  async *loggedModels(): AsyncIterable<LoggedModel> {}
  loggedModelArtifacts(m: LoggedModel): ArtifactLocation {
    return { dir: undefined, uri: m.info.artifact_uri };
  }
  async *traces(experimentId: string): AsyncIterable<SourceTrace> {
    yield* this.tracesByExp.get(experimentId) ?? [];
  }
  async close(): Promise<void> {}
}

function fixture(): MemorySource {
  const parent = 'a'.repeat(32);
  const child = 'b'.repeat(32);
  const gone = 'c'.repeat(32);
  const artifacts = tempRoot('runlens-src-artifacts-');
  fs.mkdirSync(path.join(artifacts, 'plots'), { recursive: true });
  fs.writeFileSync(path.join(artifacts, 'notes.txt'), 'hello');
  fs.writeFileSync(path.join(artifacts, 'plots', 'loss.csv'), '1,2\n');
  const history: Metric[] = [];
  for (let step = 0; step < 1000; step++) history.push({ key: 'loss', value: 1 / (step + 1), timestamp: T0 + step, step });
  history.push({ key: 'loss', value: 1, timestamp: T0, step: 0 }); // an exact duplicate: stored once
  history.push({ key: 'acc', value: NaN, timestamp: T0, step: 0 });
  const exps: Experiment[] = [
    { experiment_id: '0', name: 'Default', artifact_location: '/elsewhere/0', lifecycle_stage: 'active', creation_time: T0, last_update_time: T0, tags: [] },
    { experiment_id: '7', name: 'sweep', artifact_location: '/elsewhere/7', lifecycle_stage: 'active', creation_time: T0, last_update_time: T0, tags: [{ key: 'team', value: 'vision' }] },
    { experiment_id: '9', name: 'old', artifact_location: '/elsewhere/9', lifecycle_stage: 'deleted', creation_time: T0, last_update_time: T0 + 1, tags: [] },
  ];
  const runs = new Map<string, SourceRun[]>([
    ['7', [run(parent, '7'), run(child, '7', {}, [['mlflow.parentRunId', parent]])]],
    ['9', [run(gone, '9', { lifecycle_stage: 'deleted' })]],
  ]);
  const models: SourceRegisteredModel[] = [
    {
      model: { name: 'clf', creation_timestamp: T0, last_updated_timestamp: T0 + 10, description: 'best', tags: [{ key: 'owner', value: 'alice' }], aliases: [{ alias: 'champion', version: '2' }] },
      versions: [2, 1].map((v) => ({
        name: 'clf',
        version: String(v),
        creation_timestamp: T0 + v,
        last_updated_timestamp: T0 + v,
        current_stage: v === 2 ? 'Production' : 'None',
        source: `runs:/${parent}/model`,
        run_id: parent,
        status: 'READY' as const,
        tags: [],
        aliases: [],
      })),
    },
  ];
  const traceId = 'tr-' + 'd'.repeat(32);
  const traces = new Map<string, SourceTrace[]>([
    [
      '7',
      [
        {
          info: {
            trace_id: traceId,
            trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: '7' } },
            request_time: new Date(T0).toISOString(),
            execution_duration: '0.250s',
            state: 'OK',
            trace_metadata: { 'mlflow.sourceRun': parent },
            tags: { 'mlflow.traceName': 'predict', 'mlflow.artifactLocation': '/elsewhere/traces' },
            assessments: [
              {
                assessment_id: 'a-1',
                assessment_name: 'correct',
                trace_id: traceId,
                source: { source_type: 'HUMAN', source_id: 'bob' },
                create_time: new Date(T0 + 1).toISOString(),
                last_update_time: new Date(T0 + 1).toISOString(),
                feedback: { value: true },
                valid: true,
              },
            ],
          },
          spans: [
            {
              trace_id: 'AAAAAAAAAAAAAAAAAAAAAA==',
              span_id: 'AAAAAAAAAAE=',
              parent_span_id: null,
              name: 'predict',
              start_time_unix_nano: T0 * 1e6,
              end_time_unix_nano: (T0 + 250) * 1e6,
              attributes: { 'mlflow.spanType': '"CHAIN"' },
              status: { code: 'STATUS_CODE_OK' },
              events: [],
            },
          ],
        },
      ],
    ],
  ]);
  return new MemorySource(exps, runs, new Map([[parent, history]]), new Map([[parent, artifacts]]), models, traces);
}

describe('import from an existing MLflow store', () => {
  let store: LocalStore;
  beforeEach(async () => {
    store = await openStore(tempRoot());
  });
  afterEach(async () => {
    await store.close();
  });

  it('keeps ids, names, times, histories, artifacts, registry and traces', async () => {
    const summary = await importSource(fixture(), store.importTarget());
    // Default matched by name (not counted); sweep and old are new.
    assert.equal(formatImportSummary(summary), 'imported 2 experiments, 3 runs, 1001 metric points, 2 artifacts, 1 models, 1 traces');
    const sweep = await store.getExperimentByName('sweep');
    assert.equal(sweep?.experiment_id, '7', 'a free experiment id is kept');
    assert.deepEqual(sweep?.tags, [{ key: 'team', value: 'vision' }]);
    assert.equal(sweep?.artifact_location, 'mlflow-artifacts:/7', 'artifacts live in this store, not where the source kept them');
    assert.equal((await store.getExperimentByName('old'))?.lifecycle_stage, 'deleted');

    const parent = await store.getRun('a'.repeat(32));
    assert.equal(parent.info.start_time, T0);
    assert.equal(parent.info.end_time, T0 + 5000);
    assert.equal(parent.info.status, 'FINISHED');
    assert.equal(parent.info.user_id, 'alice');
    assert.deepEqual(parent.data.params, [{ key: 'lr', value: '0.1' }]);
    const loss = await store.getMetricHistory(parent.info.run_id, 'loss');
    assert.equal(loss.items.length, 1000);
    assert.deepEqual(loss.items[999], { key: 'loss', value: 1 / 1000, timestamp: T0 + 999, step: 999 });
    const acc = await store.getMetricHistory(parent.info.run_id, 'acc');
    assert.ok(Number.isNaN(acc.items[0]!.value));
    const child = await store.getRun('b'.repeat(32));
    assert.equal(child.data.tags.find((t) => t.key === 'mlflow.parentRunId')?.value, parent.info.run_id);
    assert.equal((await store.getRun('c'.repeat(32))).info.lifecycle_stage, 'deleted');

    const files = (await store.artifacts.listRecursive(`7/${parent.info.run_id}/artifacts`)).filter((f) => !f.is_dir).map((f) => f.path);
    assert.deepEqual(files.sort(), ['notes.txt', 'plots/loss.csv']);

    const model = await store.registry.getRegisteredModel('clf');
    assert.equal(model.description, 'best');
    assert.deepEqual(model.aliases, [{ alias: 'champion', version: '2' }]);
    assert.equal((await store.registry.getModelVersion('clf', '2')).current_stage, 'Production');
    assert.equal((await store.registry.getModelVersion('clf', '1')).source, `runs:/${parent.info.run_id}/model`);

    const trace = await store.traces.get('tr-' + 'd'.repeat(32));
    assert.equal(trace.execution_duration, '0.25s');
    assert.equal(trace.trace_location.mlflow_experiment.experiment_id, '7');
    assert.equal(trace.tags['mlflow.traceName'], 'predict');
    assert.notEqual(trace.tags['mlflow.artifactLocation'], '/elsewhere/traces', 'the trace payload lives in this store');
    assert.deepEqual(trace.assessments.map((a) => [a.assessment_id, a.feedback?.value]), [['a-1', true]]);
    assert.deepEqual((await store.traces.readSpans(trace.trace_id)).map((s) => s.name), ['predict']);
  });

  it('adds nothing the second time', async () => {
    await importSource(fixture(), store.importTarget());
    const again = await importSource(fixture(), store.importTarget());
    assert.equal(formatImportSummary(again), 'imported 0 experiments, 0 runs, 0 metric points, 0 artifacts, 0 models, 0 traces');
    assert.equal(again.skipped.get('run already in the store'), 3);
    assert.equal(again.skipped.get('trace already in the store'), 1);
    assert.equal((await store.getMetricHistory('a'.repeat(32), 'loss')).items.length, 1000);
  });

  it('gives an experiment whose id is taken the next free id, and survives a restart', async () => {
    const root = tempRoot();
    const s = await openStore(root);
    await s.createExperiment('mine'); // takes id 1
    const src = fixture();
    src.exps[1] = { ...src.exps[1]!, experiment_id: '1' };
    src.runsByExp.set('1', src.runsByExp.get('7')!);
    src.tracesByExp.set('1', src.tracesByExp.get('7')!);
    await importSource(src, s.importTarget());
    await s.close({ checkpoint: false });
    const reopened = await openStore(root);
    try {
      const sweep = await reopened.getExperimentByName('sweep');
      assert.equal(sweep?.experiment_id, '2');
      assert.equal((await reopened.getExperimentByName('mine'))?.experiment_id, '1');
      assert.equal((await reopened.getMetricHistory('a'.repeat(32), 'loss')).items.length, 1000, 'replayed from the journal');
      assert.equal((await reopened.getRun('a'.repeat(32))).info.experiment_id, '2');
    } finally {
      await reopened.close();
    }
  });
});
