// Which strings of a Python file the language server reads, and as what: filters and order_by
// items of searches (with the experiments they name), logged keys (fluent, MlflowClient, bare
// imports, dict forms) with the experiment set above them, and artifact paths with where the
// call writes. Plus the per-experiment key index those strings are checked against.
import * as assert from 'node:assert/strict';
import { findCalls, type PyScan } from '../../../src/languageServer/pythonScan';
import { indexRuns, mergeSnapshots, scoped } from '../../../src/languageServer/keyCache';
import type { WireRun } from '../../../src/client/wireTypes';

const roles = (scan: PyScan): string[][] =>
  scan.strings.map((s) => [s.use.role, s.token.value!, s.experiment ? JSON.stringify(s.experiment.ids ?? s.experiment.names) : '-']);

describe('language server: Python call scan', () => {
  it('reads filters and order_by items, with the experiments the search names as literals', () => {
    const scan = findCalls(`import mlflow
a = mlflow.search_runs(["1", "2"], "metrics.a > 1", order_by=["metrics.a DESC", 'params.b'])
b = mlflow.search_runs(experiment_names=["churn"], filter_string="params.x = 'y'")
c = client.search_runs([exp.experiment_id], "metrics.c > 0")
d = client.search_runs(experiment_ids="7", filter_string=f"metrics.{k} > 0")
e = mlflow.search_traces(["1"], "status = 'OK'")
`);
    assert.deepEqual(roles(scan), [
      ['filter', 'metrics.a > 1', '["1","2"]'],
      ['orderBy', 'metrics.a DESC', '["1","2"]'],
      ['orderBy', 'params.b', '["1","2"]'],
      ['filter', "params.x = 'y'", '["churn"]'],
      ['filter', 'metrics.c > 0', '-'],
      ['filter', "status = 'OK'", '-'],
    ]);
    // An f-string is no filter we can read; a variable id list scopes nothing; traces have no run keys.
    assert.deepEqual(scan.experimentRefs.map((r) => r.ids ?? r.names), [['1', '2'], ['churn'], ['7']]);
  });

  it('finds logged keys of the fluent API, MlflowClient (run id first), bare imports and aliases, and dicts', () => {
    const scan = findCalls(`import mlflow as mf
from mlflow import log_param, set_tag as tag
mf.log_metric("loss", 1.0)
client.log_metric(run.info.run_id, "acc", 0.9, step=1)
client.set_tag(run_id, key="team", value="x")
log_param("lr", 0.1)
tag("stage", "dev")
mf.log_metrics({"a": 1, "b": {"nested": 2}}, step=3)
mf.log_params(params={"depth": 3})
def log_param(x): pass
other.log_metric  # not a call
self.logger.log_param("optimizer", "adam")
self.client.log_metric(self.run_id, "val_auc", 0.9)
logger.log_metrics({"epoch_loss": 0.1})
`);
    assert.deepEqual(scan.strings.map((s) => [s.use.role === 'logKey' ? s.use.source : s.use.role, s.token.value!, s.call]), [
      ['metrics', 'loss', 'log_metric'],
      ['metrics', 'acc', 'log_metric'],
      ['tags', 'team', 'set_tag'],
      ['params', 'lr', 'log_param'],
      ['tags', 'stage', 'set_tag'],
      ['metrics', 'a', 'log_metrics'],
      ['metrics', 'b', 'log_metrics'],
      ['params', 'depth', 'log_params'],
      // Other receivers: a key first is the fluent form, a run id first the client's.
      ['params', 'optimizer', 'log_param'],
      ['metrics', 'val_auc', 'log_metric'],
      ['metrics', 'epoch_loss', 'log_metrics'],
    ]);
  });

  it('gives logged keys and artifact paths the experiment set above them', () => {
    const scan = findCalls(`import mlflow
mlflow.log_metric("before", 1)
mlflow.set_experiment("churn")
mlflow.log_metric("in_churn", 1)
with mlflow.start_run(experiment_id="4"):
    mlflow.log_param("in_4", 1)
mlflow.set_experiment(name_var)
mlflow.set_tag("unknown_again", 1)
mlflow.set_experiment(experiment_id="9")
mlflow.log_text("t", "notes.txt")
`);
    assert.deepEqual(roles(scan), [
      ['logKey', 'before', '-'],
      ['logKey', 'in_churn', '["churn"]'],
      ['logKey', 'in_4', '["4"]'],
      ['logKey', 'unknown_again', '-'],
    ]);
    assert.deepEqual(scan.artifacts.map((a) => [a.token.value, JSON.stringify(a.experiment?.ids)]), [['notes.txt', '["9"]']]);
    // set_experiment by name creates it; only those are exempt from the "no such experiment" check.
    assert.deepEqual(scan.experimentRefs.map((r) => [r.ids ?? r.names, !!r.creates]), [[['churn'], true], [['4'], false], [['9'], false]]);
  });

  it('knows where each artifact call writes', () => {
    const scan = findCalls(`import mlflow
mlflow.log_artifact("out/model.pkl")
mlflow.log_artifact("out/model.pkl", "models/")
mlflow.log_artifact(local_path="c.csv", artifact_path="data")
client.log_artifact(run_id, "plots/roc.png", "eval")
mlflow.log_artifacts("outdir", artifact_path="bundle")
mlflow.log_artifacts("outdir")
mlflow.log_text(report, "reports/summary.md")
client.log_dict(run_id, cfg, "config.json")
mlflow.log_figure(fig, artifact_file="figs/loss.png")
mlflow.log_image(img, "images/x.png")
mlflow.log_artifact(path_var, "where")
mlflow.log_artifact("lost.txt", dir_var)
self.client.log_text(self.run_id, body, "notes/a.txt")
tracker.log_text(body, "notes/b.txt")
`);
    assert.deepEqual(scan.artifacts.map((a) => [a.token.value, a.target.path, a.target.dir]), [
      ['out/model.pkl', 'model.pkl', false],
      ['out/model.pkl', 'models/model.pkl', false],
      ['models/', 'models/model.pkl', false],
      ['c.csv', 'data/c.csv', false],
      ['data', 'data/c.csv', false],
      ['plots/roc.png', 'eval/roc.png', false],
      ['eval', 'eval/roc.png', false],
      ['outdir', 'bundle', true],
      ['bundle', 'bundle', true],
      ['outdir', '', true],
      ['reports/summary.md', 'reports/summary.md', false],
      ['config.json', 'config.json', false],
      ['figs/loss.png', 'figs/loss.png', false],
      ['images/x.png', 'images/x.png', false],
      ['where', 'where', true],
      ['notes/a.txt', 'notes/a.txt', false],
      ['notes/b.txt', 'notes/b.txt', false],
    ]);
  });
});

const run = (id: string, exp: string, start: number, metrics: Record<string, number>, params: Record<string, string> = {}): WireRun =>
  ({
    info: { run_id: id, run_name: id, experiment_id: exp, status: 'FINISHED', start_time: start },
    data: { metrics: Object.entries(metrics).map(([key, value]) => ({ key, value, timestamp: start, step: 0 })), params: Object.entries(params).map(([key, value]) => ({ key, value })), tags: [] },
  }) as unknown as WireRun;

describe('language server: keys per experiment', () => {
  const experiments = [
    { id: '1', name: 'churn' },
    { id: '2', name: 'vision' },
    { id: '3', name: 'empty' },
  ];
  const index = indexRuns(experiments, [
    run('a', '1', 100, { acc: 0.5, loss: 2 }, { model: 'rf' }),
    run('b', '1', 300, { acc: 0.7 }, { model: 'gbm' }),
    run('c', '2', 200, { acc: 0.9, iou: 0.4 }, { model: 'rf' }),
  ]);

  it('merges experiments into the store: counts add, ranges widen, the latest is the newest run, values add', () => {
    assert.equal(index.runCount, 3);
    assert.equal(index.scope, 'the store');
    assert.deepEqual(index.runs.map((r) => r.runId), ['b', 'c', 'a']);
    const acc = index.keys.metrics.get('acc')!;
    assert.deepEqual([acc.count, acc.min, acc.max, acc.latest!.value, acc.latest!.run.runId], [3, 0.5, 0.9, 0.7, 'b']);
    assert.deepEqual([...index.keys.params.get('model')!.values!].sort(), [['gbm', 1], ['rf', 2]]);
    // Merging did not change an experiment's own figures.
    assert.equal(index.byExperiment.get('1')!.keys.params.get('model')!.values!.get('rf'), 1);
  });

  it('scopes to the experiments a reference names, by id or name, and falls back to the store on an unknown one', () => {
    const churn = scoped(index, { names: ['churn'] })!;
    assert.equal(churn.scope, "experiment 'churn'");
    assert.deepEqual([churn.runCount, [...churn.known.metrics!].sort()], [2, ['acc', 'loss']]);
    const both = scoped(index, { ids: ['2', '1'] })!;
    assert.equal(both.scope, "experiments 'vision', 'churn'");
    assert.deepEqual([both.runCount, both.keys.metrics.get('acc')!.count, both.keys.metrics.get('iou')!.count], [3, 3, 1]);
    assert.equal(scoped(index, { ids: ['1', '2'] }), both, 'a merged scope is built once');
    assert.equal(scoped(index, { names: ['churn', 'nope'] }), index);
    assert.equal(scoped(index, undefined), index);
    const empty = scoped(index, { ids: ['3'] })!;
    assert.deepEqual([empty.runCount, empty.known.metrics!.size], [0, 0]);
    assert.equal(mergeSnapshots([], 'nothing').runCount, 0);
  });
});
