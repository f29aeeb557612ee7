import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { OUTPUT_ARTIFACT, type LaunchResult } from '../../../src/extension/terminal/launchRunner';
import { tagValue } from '../../../src/client/wireTypes';
import { runlens, waitFor, writeScript } from './helpers';

const CRASH = `
import os, sys, traceback
import mlflow
mlflow.set_experiment("launch-capture")
run = mlflow.start_run(run_name="doomed")
mlflow.log_param("batch_size", 32)
mlflow.log_metric("loss", 0.5, step=0)
print("about to crash", flush=True)
try:
    raise RuntimeError("CUDA out of memory (simulated)")
except RuntimeError:
    traceback.print_exc()
sys.stderr.flush()
os._exit(3)  # like a hard crash: no atexit hook ends the run
`;

const OK = `
import mlflow
mlflow.set_experiment("launch-capture")
with mlflow.start_run(run_name="fine"):
    mlflow.log_metric("loss", 0.1)
print("all good")
`;

async function launch(file: string): Promise<LaunchResult> {
  const api = await runlens();
  const started = await vscode.commands.executeCommand<{ launchId: string }>('runlens.runPythonFile', vscode.Uri.file(file));
  assert.ok(started?.launchId, 'the command returns the launch id');
  const pending = api.launches.result(started.launchId);
  assert.ok(pending);
  return pending;
}

describe('Run Python File with Tracking', () => {
  it('marks the run of a crashed script FAILED, tags the exit code and attaches its output', async () => {
    const api = await runlens();
    const file = writeScript('crashy.py', CRASH);
    const result = await launch(file);
    assert.equal(result.exitCode, 3);
    assert.equal(result.runIds.length, 1);
    assert.deepEqual(result.closedRuns.map((c) => c.status), ['FAILED']);
    const run = await api.service.client.getRun(result.runIds[0]!);
    assert.equal(run.info.status, 'FAILED');
    assert.ok(run.info.end_time);
    assert.equal(tagValue(run, 'runlens.launch.exit_code'), '3');
    assert.equal(tagValue(run, 'runlens.launch.id'), result.launchId);
    assert.match(tagValue(run, 'runlens.launch.command') ?? '', /crashy\.py$/);
    assert.ok(tagValue(run, 'runlens.launch.cwd'));
    const files = await api.service.client.listArtifacts(run.info.run_id, 'runlens');
    assert.deepEqual(files.map((f) => f.path), [OUTPUT_ARTIFACT]);
    const artifactRoot = run.info.artifact_uri!.replace('mlflow-artifacts:/', '');
    const log = await (await fetch(`${api.service.client.baseUrl}/api/2.0/mlflow-artifacts/artifacts/${artifactRoot}/${OUTPUT_ARTIFACT}`)).text();
    assert.match(log, /about to crash/);
    assert.match(log, /RuntimeError: CUDA out of memory \(simulated\)/);
    // The tree shows it failed (expanding the experiment loads its runs, as a click does).
    const exp = (await api.experiments.getChildren()).find((n) => n.type === 'experiment' && n.experiment.experiment_id === run.info.experiment_id);
    assert.ok(exp);
    const item = await waitFor('the FAILED run in the tree', async () => {
      const found = (await api.experiments.getChildren(exp)).find((n) => n.type === 'run' && n.run.info.run_id === run.info.run_id);
      return found?.type === 'run' && found.run.info.status === 'FAILED' ? found : undefined;
    }, 10_000);
    assert.equal((api.experiments.getTreeItem(item).iconPath as vscode.ThemeIcon).id, 'error');
  });

  it('leaves a cleanly finished run FINISHED and still records exit code and output', async () => {
    const api = await runlens();
    const result = await launch(writeScript('fine.py', OK));
    assert.equal(result.exitCode, 0);
    assert.equal(result.closedRuns.length, 0, 'mlflow already ended it');
    const run = await api.service.client.getRun(result.runIds[0]!);
    assert.equal(run.info.status, 'FINISHED');
    assert.equal(tagValue(run, 'runlens.launch.exit_code'), '0');
  });
});
