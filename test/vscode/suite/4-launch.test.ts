import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OUTPUT_ARTIFACT, type LaunchOutcome, type LaunchResult } from '../../../src/extension/terminal/launchRunner';
import type { LaunchNotice } from '../../../src/extension/terminal/pythonInterpreter';
import { tagValue } from '../../../src/client/wireTypes';
import { python, runlens, waitFor, workspaceDir, writeScript } from './helpers';

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

/** An executable that runs the test interpreter with `extra` flags (a stand-in environment). */
function wrapper(file: string, extra = ''): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `#!/bin/sh\nexec "${python()}" ${extra} "$@"\n`, { mode: 0o755 });
  return file;
}

async function withPythonSetting<T>(value: string, body: () => Promise<T>): Promise<T> {
  const config = vscode.workspace.getConfiguration('runlens');
  const before = config.inspect<string>('python.path')?.globalValue;
  await config.update('python.path', value, vscode.ConfigurationTarget.Global);
  try {
    return await body();
  } finally {
    await vscode.workspace.getConfiguration('runlens').update('python.path', before, vscode.ConfigurationTarget.Global);
  }
}

describe('Run Python File with Tracking: the interpreter', () => {
  it('picks the workspace .venv when no interpreter is selected or set, and it logs there', async () => {
    const api = await runlens();
    const venvPython = wrapper(path.join(workspaceDir(), '.venv', 'bin', 'python'));
    try {
      const outcome = await withPythonSetting('', async () => vscode.commands.executeCommand<LaunchOutcome>('runlens.runPythonFile', vscode.Uri.file(writeScript('venv_pick.py', OK))));
      assert.ok(outcome?.launchId, JSON.stringify(outcome));
      assert.deepEqual([outcome.interpreter.command, outcome.interpreter.source], [venvPython, 'workspace-venv']);
      const result = await api.launches.result(outcome.launchId)!;
      assert.equal(result.exitCode, 0);
      const run = await api.service.client.getRun(result.runIds[0]!);
      assert.match(tagValue(run, 'runlens.launch.command') ?? '', new RegExp(`^${venvPython.replace(/[.]/g, '\\.')} `));
    } finally {
      fs.rmSync(path.join(workspaceDir(), '.venv'), { recursive: true, force: true });
    }
  });

  it('says which interpreter lacks mlflow and how it was chosen, offers the install, and runs nothing', async () => {
    const api = await runlens();
    // -S: no site-packages, so this interpreter has no mlflow (as a fresh system python3)
    const bare = wrapper(path.join(workspaceDir(), 'no-mlflow', 'python'), '-S');
    const notices: LaunchNotice[] = [];
    const sub = api.launches.onDidNotice((n) => notices.push(n));
    try {
      const outcome = await withPythonSetting(bare, async () => vscode.commands.executeCommand<LaunchOutcome>('runlens.runPythonFile', vscode.Uri.file(writeScript('needs_mlflow.py', OK))));
      assert.equal(outcome?.refused, 'mlflowMissing');
      assert.equal(outcome.launchId, undefined, 'nothing was launched');
      assert.equal(notices.length, 1);
      assert.ok(notices[0]!.message.includes(`mlflow is not installed in ${bare}`), notices[0]!.message);
      assert.match(notices[0]!.message, /chosen from the "runlens\.python\.path" setting/);
      assert.deepEqual(notices[0]!.actions, ['Install mlflow', 'Choose Interpreter']);
      assert.equal(vscode.window.terminals.some((t) => t.name === 'Runlens: needs_mlflow.py'), false, 'no launch terminal');
    } finally {
      sub.dispose();
      fs.rmSync(path.dirname(bare), { recursive: true, force: true });
    }
  });
});
