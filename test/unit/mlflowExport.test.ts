import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import type { Database } from 'sql.js';
import { assessmentColumns, durationToMs, latestMetrics, lifecycle, loggedModelStatusInt, metricColumns, nanosText, otelIdHex, rfc3339ToMs, spanStatus, stageName } from '../../src/backend/mlflowdb/export/encode';
import { exportToMlflowDb, ExportTargetExistsError, formatSummary } from '../../src/backend/mlflowdb/export/exportToDb';
import { MLFLOW_SCHEMA } from '../../src/backend/mlflowdb/export/mlflowSchema.generated';
import type { MlflowSource, SourceRegisteredModel, SourceTrace } from '../../src/backend/api/source';
import { StoreSource } from '../../src/backend/transfer/storeSource';
import { loadSqlJs } from '../../src/store/sqlite';
import type { Experiment, Metric, Run } from '../../src/domain/types';
import type { LoggedModel } from '../../src/domain/modelTypes';
import { openStore, tempRoot } from './helpers';

describe('mlflow.db export: value encoding', () => {
  it('stores NaN as 0 with is_nan and infinities as the largest double', () => {
    assert.deepEqual(metricColumns(NaN), { value: 0, isNan: 1 });
    assert.deepEqual(metricColumns(Infinity), { value: 1.7976931348623157e308, isNan: 0 });
    assert.deepEqual(metricColumns(-Infinity), { value: -1.7976931348623157e308, isNan: 0 });
    assert.deepEqual(metricColumns(-0.5), { value: -0.5, isNan: 0 });
  });

  it('picks the latest metric by step, then timestamp, then stored value', () => {
    const m = (step: number, timestamp: number, value: number): Metric => ({ key: 'k', step, timestamp, value });
    assert.equal(latestMetrics([m(2, 1, 5), m(1, 9, 7)]).get('k')!.value, 5);
    assert.equal(latestMetrics([m(1, 1, 5), m(1, 2, 3)]).get('k')!.value, 3);
    assert.equal(latestMetrics([m(1, 1, 5), m(1, 1, 6)]).get('k')!.value, 6);
    // NaN compares as its stored 0: a later-logged NaN at the same step and time loses to 0.5.
    assert.equal(latestMetrics([m(1, 1, 0.5), m(1, 1, NaN)]).get('k')!.value, 0.5);
  });

  it('writes stages, statuses and lifecycles in the spellings MLflow checks', () => {
    assert.equal(stageName('production'), 'Production');
    assert.equal(stageName('ARCHIVED'), 'Archived');
    assert.equal(stageName(undefined), 'None');
    assert.equal(stageName('nonsense'), 'None');
    assert.deepEqual(['LOGGED_MODEL_PENDING', 'LOGGED_MODEL_READY', 'LOGGED_MODEL_UPLOAD_FAILED', 'x'].map(loggedModelStatusInt), [1, 2, 3, 0]);
    assert.equal(lifecycle('deleted'), 'deleted');
    assert.equal(lifecycle('active'), 'active');
    assert.equal(lifecycle(undefined), 'active');
  });

  it('converts protobuf timestamps, durations, span ids and nanosecond times exactly', () => {
    assert.equal(rfc3339ToMs('2024-05-01T10:00:00.123Z'), Date.UTC(2024, 4, 1, 10, 0, 0, 123));
    assert.equal(rfc3339ToMs('garbage'), undefined);
    assert.equal(durationToMs('1.250s'), 1250);
    assert.equal(durationToMs('0s'), 0);
    assert.equal(durationToMs(undefined), undefined);
    assert.equal(otelIdHex(Buffer.from('0011223344556677', 'hex').toString('base64')), '0011223344556677');
    assert.equal(otelIdHex('00112233aabbccdd'), '00112233aabbccdd');
    assert.equal(otelIdHex(null), null);
    assert.equal(nanosText('1733000000123456789'), '1733000000123456789');
    assert.equal(nanosText(1000), '1000');
    assert.equal(spanStatus('STATUS_CODE_ERROR'), 'ERROR');
    assert.equal(spanStatus('STATUS_CODE_UNSET'), 'UNSET');
    assert.equal(spanStatus(undefined), 'UNSET');
  });

  it('encodes assessment values as Python json.dumps does, with MLflow aggregates', () => {
    const base = { assessment_id: 'a-1', assessment_name: 'n', trace_id: 't', source: { source_type: 'HUMAN' as const }, create_time: '', last_update_time: '', valid: true };
    assert.deepEqual(assessmentColumns({ ...base, feedback: { value: true } }), { assessment_type: 'feedback', value: 'true', error: null, metadata: null, aggregate_value: 1, is_numeric_value: 0 });
    assert.deepEqual(assessmentColumns({ ...base, feedback: { value: 0.8 }, metadata: { k: 'v' } }), { assessment_type: 'feedback', value: '0.8', error: null, metadata: '{"k": "v"}', aggregate_value: 0.8, is_numeric_value: 1 });
    assert.equal(assessmentColumns({ ...base, feedback: { value: { a: [1, 'x'] } } }).value, '{"a": [1, "x"]}');
    assert.equal(assessmentColumns({ ...base, feedback: { error: { error_code: 'E', error_message: 'boom' } } }).error, '{"error_code": "E", "error_message": "boom", "stack_trace": null}');
    const exp = assessmentColumns({ ...base, expectation: { serialized_value: { serialization_format: 'JSON_FORMAT', value: '[1, 2]' } } });
    assert.equal(exp.assessment_type, 'expectation');
    assert.equal(exp.value, '[1, 2]');
  });
});

function run(runId: string, experimentId: string, metrics: Metric[], extra: Partial<Run['info']> = {}): Run {
  return {
    info: { run_id: runId, run_uuid: runId, run_name: `r-${runId}`, experiment_id: experimentId, user_id: 'u', status: 'FINISHED', start_time: 10, end_time: 20, artifact_uri: `mlflow-artifacts:/${experimentId}/${runId}/artifacts`, lifecycle_stage: 'active', ...extra },
    data: { metrics, params: [{ key: 'p', value: '1' }], tags: [{ key: 'mlflow.runName', value: `r-${runId}` }] },
    inputs: { dataset_inputs: [{ tags: [{ key: 'mlflow.data.context', value: 'train' }], dataset: { name: 'ds', digest: 'abc', source_type: 'local', source: '{}' } }], model_inputs: [] },
    outputs: { model_outputs: [] },
  };
}

/** A source given as plain data: the writer's input, so each encoding can be checked in the rows. */
function literalSource(parts: { experiments: Experiment[]; runs: Run[]; history: Record<string, Metric[]>; models?: SourceRegisteredModel[]; logged?: LoggedModel[]; traces?: SourceTrace[] }): MlflowSource {
  async function* each<T>(xs: T[]): AsyncIterable<T> {
    yield* xs;
  }
  return {
    kind: 'mlflow.db',
    description: 'literal',
    experiments: () => each(parts.experiments),
    runs: (id) => each(parts.runs.filter((r) => r.info.experiment_id === id)),
    metricHistory: (id) => each([parts.history[id] ?? []]),
    runArtifacts: (r) => ({ dir: undefined, uri: r.info.artifact_uri }),
    registeredModels: () => each(parts.models ?? []),
    loggedModels: (id) => each((parts.logged ?? []).filter((m) => m.info.experiment_id === id)),
    loggedModelArtifacts: (m) => ({ dir: undefined, uri: m.info.artifact_uri }),
    traces: (id) => each((parts.traces ?? []).filter((t) => t.info.trace_location.mlflow_experiment.experiment_id === id)),
    close: async () => undefined,
  };
}

async function openDb(file: string): Promise<Database> {
  const SQL = await loadSqlJs();
  return new SQL.Database(fs.readFileSync(file));
}

function rows(db: Database, sql: string): Record<string, unknown>[] {
  const res = db.exec(sql);
  if (res.length === 0) return [];
  return res[0]!.values.map((v) => Object.fromEntries(res[0]!.columns.map((c, i) => [c, v[i]])));
}

describe('mlflow.db export: the rows written', () => {
  const exp = (id: string, stage: 'active' | 'deleted' = 'active'): Experiment => ({ experiment_id: id, name: `e${id}`, artifact_location: `mlflow-artifacts:/${id}`, lifecycle_stage: stage, creation_time: 1, last_update_time: 2, tags: [{ key: 't', value: id }] });
  const pt = (key: string, step: number, value: number, timestamp = 100 + step): Metric => ({ key, step, value, timestamp });

  it('writes experiments, runs, metrics, datasets, registry, logged models and traces in MLflow encodings', async () => {
    const dir = tempRoot('runlens-export-');
    const file = path.join(dir, 'out', 'mlflow.db');
    const history = [pt('loss', 0, NaN), pt('loss', 1, Infinity), pt('loss', 1, Infinity), pt('acc', 0, 0.5)];
    const span = {
      trace_id: Buffer.from('00112233445566778899aabbccddeeff', 'hex').toString('base64'),
      span_id: Buffer.from('0102030405060708', 'hex').toString('base64'),
      parent_span_id: null,
      name: 'root',
      start_time_unix_nano: '1733000000123456789',
      end_time_unix_nano: '1733000000223456789',
      attributes: { 'mlflow.spanType': '"CHAIN"', 'mlflow.traceRequestId': '"tr-1"' },
      status: { code: 'STATUS_CODE_OK' },
      events: [],
    };
    const trace: SourceTrace = {
      info: {
        trace_id: 'tr-1',
        trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: '1' } },
        request_time: '2024-05-01T10:00:00.000Z',
        execution_duration: '0.1s',
        state: 'OK',
        trace_metadata: { 'mlflow.trace.session': 's-1', 'mlflow.trace.tokenUsage': '{"input_tokens": 3, "total_tokens": 5}', other: 'x' },
        tags: { 'mlflow.traceName': 'root', keep: 'me' },
        assessments: [{ assessment_id: 'a-1', assessment_name: 'helpful', trace_id: 'tr-1', source: { source_type: 'HUMAN', source_id: 'me' }, create_time: '2024-05-01T10:00:01.000Z', last_update_time: '2024-05-01T10:00:02.000Z', feedback: { value: true }, valid: true }],
      },
      spans: [span],
    };
    const logged: LoggedModel = {
      info: { model_id: 'm-1', experiment_id: '1', name: 'clf', creation_timestamp_ms: 5, last_updated_timestamp_ms: 6, artifact_uri: 'mlflow-artifacts:/1/models/m-1/artifacts', status: 'LOGGED_MODEL_READY', source_run_id: 'r1', tags: [{ key: 'k', value: 'v' }], registrations: [] },
      data: { params: [{ key: 'C', value: '1' }], metrics: [{ key: 'acc', value: 0.5, timestamp: 1, step: 0, run_id: 'r1', model_id: 'm-1' }, { key: 'bad', value: NaN, timestamp: 1, step: 0, run_id: 'r1', model_id: 'm-1' }] },
    };
    const registered: SourceRegisteredModel = {
      model: { name: 'reg', creation_timestamp: 7, last_updated_timestamp: 8, tags: [{ key: 'rk', value: 'rv' }], aliases: [{ alias: 'champion', version: '2' }] },
      versions: [
        { name: 'reg', version: '1', creation_timestamp: 7, last_updated_timestamp: 7, current_stage: 'production', source: 'models:/m-1', run_id: 'r1', status: 'READY', tags: [], aliases: [] },
        { name: 'reg', version: '2', creation_timestamp: 8, last_updated_timestamp: 8, current_stage: 'None', source: 'mlflow-artifacts:/1/r1/artifacts/model', run_id: 'r1', status: 'READY', tags: [{ key: 'vk', value: 'vv' }], aliases: ['champion'] },
      ],
    };
    const source = literalSource({
      experiments: [exp('0'), exp('1'), exp('2', 'deleted')],
      runs: [run('r1', '1', [pt('loss', 1, Infinity), pt('acc', 0, 0.5)]), run('r2', '2', [], { lifecycle_stage: 'deleted' })],
      history: { r1: history },
      models: [registered],
      logged: [logged],
      traces: [trace],
    });
    const art = path.join(dir, 'art');
    const summary = await exportToMlflowDb(source, { file, artifactsDir: art });
    assert.equal(formatSummary(summary), 'exported 3 experiments, 2 runs, 3 metric points, 0 artifacts, 2 models, 1 traces');
    assert.ok(summary.skipped.some((s) => s.includes('NaN value of metric bad')), summary.skipped.join('\n'));
    assert.ok(summary.skipped.some((s) => s.includes('run r1: artifacts at mlflow-artifacts:/1/r1/artifacts are not on this machine')));
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ['mlflow.db'], 'no temp file left beside it');

    const db = await openDb(file);
    try {
      assert.equal(rows(db, 'SELECT version_num FROM alembic_version')[0]!.version_num, MLFLOW_SCHEMA.alembicRevision);
      assert.deepEqual(rows(db, 'SELECT experiment_id, lifecycle_stage, workspace FROM experiments ORDER BY 1'), [
        { experiment_id: 0, lifecycle_stage: 'active', workspace: 'default' },
        { experiment_id: 1, lifecycle_stage: 'active', workspace: 'default' },
        { experiment_id: 2, lifecycle_stage: 'deleted', workspace: 'default' },
      ]);
      const artUri = (...p: string[]): string => `file://${path.join(art, ...p)}`;
      assert.equal(rows(db, 'SELECT artifact_location FROM experiments WHERE experiment_id = 1')[0]!.artifact_location, artUri('1'));
      assert.deepEqual(rows(db, "SELECT artifact_uri, lifecycle_stage, source_type, status FROM runs WHERE run_uuid = 'r1'")[0], { artifact_uri: artUri('1', 'r1', 'artifacts'), lifecycle_stage: 'active', source_type: 'UNKNOWN', status: 'FINISHED' });
      assert.equal(rows(db, "SELECT lifecycle_stage FROM runs WHERE run_uuid = 'r2'")[0]!.lifecycle_stage, 'deleted');
      // The duplicate +Inf point folds into one row, as MLflow's primary key does.
      assert.deepEqual(rows(db, "SELECT step, value, is_nan FROM metrics WHERE key = 'loss' ORDER BY step"), [
        { step: 0, value: 0, is_nan: 1 },
        { step: 1, value: 1.7976931348623157e308, is_nan: 0 },
      ]);
      assert.deepEqual(rows(db, "SELECT key, step, value, is_nan FROM latest_metrics WHERE run_uuid = 'r1' ORDER BY key"), [
        { key: 'acc', step: 0, value: 0.5, is_nan: 0 },
        { key: 'loss', step: 1, value: 1.7976931348623157e308, is_nan: 0 },
      ]);
      // One dataset row per experiment (MLflow's key is experiment, name, digest), shared by its runs.
      assert.deepEqual(rows(db, 'SELECT name, digest, experiment_id FROM datasets ORDER BY experiment_id'), [
        { name: 'ds', digest: 'abc', experiment_id: 1 },
        { name: 'ds', digest: 'abc', experiment_id: 2 },
      ]);
      assert.deepEqual(rows(db, "SELECT i.destination_id, t.name, t.value FROM inputs i JOIN input_tags t USING (input_uuid) WHERE i.source_type = 'DATASET' ORDER BY 1"), [
        { destination_id: 'r1', name: 'mlflow.data.context', value: 'train' },
        { destination_id: 'r2', name: 'mlflow.data.context', value: 'train' },
      ]);
      assert.deepEqual(rows(db, 'SELECT status, lifecycle_stage, artifact_location FROM logged_models')[0], { status: 2, lifecycle_stage: 'active', artifact_location: artUri('1', 'models', 'm-1', 'artifacts') });
      assert.deepEqual(rows(db, 'SELECT metric_name FROM logged_model_metrics'), [{ metric_name: 'acc' }]);
      assert.deepEqual(rows(db, 'SELECT version, current_stage, source, storage_location FROM model_versions ORDER BY version'), [
        { version: 1, current_stage: 'Production', source: 'models:/m-1', storage_location: artUri('1', 'models', 'm-1', 'artifacts') },
        { version: 2, current_stage: 'None', source: `${artUri('1', 'r1', 'artifacts')}/model`, storage_location: `${artUri('1', 'r1', 'artifacts')}/model` },
      ]);
      assert.deepEqual(rows(db, 'SELECT alias, version FROM registered_model_aliases'), [{ alias: 'champion', version: 2 }]);
      assert.deepEqual(rows(db, 'SELECT timestamp_ms, execution_time_ms, status, trace_name, session_id, input_tokens, total_tokens, output_tokens FROM trace_info')[0], {
        timestamp_ms: Date.UTC(2024, 4, 1, 10),
        execution_time_ms: 100,
        status: 'OK',
        trace_name: 'root',
        session_id: 's-1',
        input_tokens: 3,
        total_tokens: 5,
        output_tokens: null,
      });
      assert.deepEqual(rows(db, 'SELECT key, value FROM trace_tags ORDER BY key'), [
        { key: 'keep', value: 'me' },
        { key: 'mlflow.artifactLocation', value: `${artUri('1')}/traces/tr-1/artifacts` },
        { key: 'mlflow.trace.spansLocation', value: 'TRACKING_STORE' },
      ]);
      assert.deepEqual(rows(db, 'SELECT key FROM trace_request_metadata ORDER BY key'), [{ key: 'mlflow.trace.infoFinalized' }, { key: 'other' }]);
      const s = rows(db, 'SELECT span_id, parent_span_id, type, status, start_time_unix_nano AS st, duration_ns, content FROM spans')[0]!;
      assert.deepEqual({ ...s, content: undefined }, { span_id: '0102030405060708', parent_span_id: null, type: 'CHAIN', status: 'OK', st: 1733000000123456800, duration_ns: 100000000, content: undefined });
      assert.match(String(s.content), /"start_time_unix_nano": 1733000000123456789,/);
      assert.deepEqual(rows(db, 'SELECT assessment_type, value, created_timestamp, last_updated_timestamp, valid, experiment_id FROM assessments')[0], {
        assessment_type: 'feedback',
        value: 'true',
        created_timestamp: Date.UTC(2024, 4, 1, 10, 0, 1),
        last_updated_timestamp: Date.UTC(2024, 4, 1, 10, 0, 2),
        valid: 1,
        experiment_id: 1,
      });
    } finally {
      db.close();
    }

    // Never over an existing file without force; with force, replaced whole.
    await assert.rejects(exportToMlflowDb(source, { file }), ExportTargetExistsError);
    const before = fs.statSync(file).ino;
    await exportToMlflowDb(source, { file, force: true });
    assert.notEqual(fs.statSync(file).ino, before);
  });

  it('exports a local store through StoreSource: full histories and copied artifacts', async () => {
    const root = tempRoot();
    const store = await openStore(root);
    const exps: string[] = [];
    let points = 0;
    try {
      for (let e = 0; e < 2; e++) {
        const id = await store.createExperiment(`exp-${e}`, undefined, [{ key: 'k', value: String(e) }]);
        exps.push(id);
        for (let r = 0; r < 3; r++) {
          const created = await store.createRun({ experimentId: id, runName: `run-${r}` });
          const metrics = Array.from({ length: 250 }, (_, i) => ({ key: 'loss', value: i === 7 ? NaN : 1 / (i + 1), timestamp: 1000 + i, step: i }));
          await store.logBatch(created.info.run_id, { metrics, params: [{ key: 'r', value: String(r) }] });
          points += metrics.length;
          const rel = `${id}/${created.info.run_id}/artifacts/sub/file.txt`;
          await store.artifacts.write(rel, Readable.from([Buffer.from(`run ${r}`)]));
        }
      }
      await store.deleteExperiment(exps[1]!);
      const file = path.join(tempRoot('runlens-export-'), 'mlflow.db');
      const art = tempRoot('runlens-export-art-');
      const summary = await exportToMlflowDb(new StoreSource(store, root), { file, artifactsDir: art });
      assert.equal(formatSummary(summary), `exported 3 experiments, 6 runs, ${points} metric points, 6 artifacts, 0 models, 0 traces`);
      const db = await openDb(file);
      try {
        assert.equal(rows(db, 'SELECT count(*) AS n FROM metrics WHERE is_nan = 1')[0]!.n, 6);
        assert.equal(rows(db, "SELECT lifecycle_stage FROM experiments WHERE name = 'exp-1'")[0]!.lifecycle_stage, 'deleted');
        for (const r of rows(db, 'SELECT run_uuid, experiment_id, artifact_uri FROM runs')) {
          const dirOnDisk = path.join(art, String(r.experiment_id), String(r.run_uuid), 'artifacts');
          assert.equal(r.artifact_uri, `file://${dirOnDisk}`);
          assert.match(fs.readFileSync(path.join(dirOnDisk, 'sub', 'file.txt'), 'utf8'), /^run \d$/);
        }
      } finally {
        db.close();
      }
    } finally {
      await store.close();
    }
  });
});
