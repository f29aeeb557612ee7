import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { ModelNode } from '../../../src/extension/tree/modelsTree';
import { runlens, runPython, waitFor, writeScript } from './helpers';

const NAME = `iris-host-${Date.now()}`;

// The real client logs an MLflow 3 model and registers it twice (versions 1 and 2).
const SEED = `
import mlflow, pandas as pd
from sklearn.linear_model import LogisticRegression
mlflow.set_experiment("models-host")
X = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]})
with mlflow.start_run(run_name="fit") as run:
    info = mlflow.sklearn.log_model(LogisticRegression().fit(X, [0, 0, 1, 1]), name="clf", input_example=X.iloc[:2], registered_model_name="${NAME}")
mlflow.register_model(f"models:/{info.model_id}", "${NAME}")
print("MODEL=" + info.model_id)
`;

type VersionNode = Extract<ModelNode, { type: 'version' }>;

describe('the Models tree and its version commands', function () {
  this.timeout(240_000);
  let base: string;

  async function versions(): Promise<VersionNode[]> {
    const api = await runlens();
    const model = (await api.models.getChildren()).find((m) => m.type === 'model' && m.model.name === NAME);
    if (!model) return [];
    return (await api.models.getChildren(model)).filter((v): v is VersionNode => v.type === 'version');
  }

  async function version(n: string): Promise<VersionNode> {
    return waitFor(`version ${n} in the Models tree`, async () => (await versions()).find((v) => v.version.version === n));
  }

  async function get(route: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${base}/api/2.0/mlflow${route}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  before(async () => {
    const api = await runlens();
    base = api.service.client.baseUrl;
    await runPython(writeScript('log_models.py', SEED), base);
  });

  it('opens the model version page (a webview, not the run document) on click', async () => {
    const api = await runlens();
    const v1 = await version('1');
    const item = api.models.getTreeItem(v1);
    assert.equal(item.command?.command, 'runlens.openModelVersion');
    await vscode.commands.executeCommand(item.command!.command, ...(item.command!.arguments ?? []));
    const tab = await waitFor('the model version tab', () =>
      vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('runlens.modelPage') && t.label === `${NAME} v1`),
    );
    assert.ok(tab.isActive);
    assert.ok(!vscode.window.tabGroups.all.flatMap((g) => g.tabs).some((t) => t.input instanceof vscode.TabInputText && t.input.uri.scheme === 'runlens-run'));
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  it('sets and removes an alias through the registry, and the tree shows it', async () => {
    const api = await runlens();
    assert.equal(await vscode.commands.executeCommand('runlens.setModelVersionAlias', await version('1'), undefined, 'champion'), 'champion');
    const alias = await get(`/registered-models/alias?name=${NAME}&alias=champion`);
    assert.equal((alias.body.model_version as { version: string }).version, '1');
    const shown = await waitFor('@champion on version 1', async () => {
      const v = await version('1');
      return String(api.models.getTreeItem(v).description).includes('@champion') ? v : undefined;
    });
    assert.match(String(api.models.getTreeItem(shown).contextValue), /;hasAlias/);
    assert.equal(await vscode.commands.executeCommand('runlens.copyModelVersionUri', shown, undefined, `models:/${NAME}@champion`), `models:/${NAME}@champion`);
    assert.equal(await vscode.env.clipboard.readText(), `models:/${NAME}@champion`);
    assert.equal(await vscode.commands.executeCommand('runlens.removeModelVersionAlias', shown), 'champion');
    assert.deepEqual(((await get(`/registered-models/get?name=${NAME}`)).body.registered_model as { aliases?: unknown[] }).aliases ?? [], []);
  });

  it('transitions a stage and copies the models:/name/version URI', async () => {
    assert.equal(await vscode.commands.executeCommand('runlens.transitionModelVersionStage', await version('2'), undefined, 'Staging'), 'Staging');
    assert.equal(((await get(`/model-versions/get?name=${NAME}&version=2`)).body.model_version as { current_stage: string }).current_stage, 'Staging');
    const api = await runlens();
    await waitFor('Staging in the tree', async () => String(api.models.getTreeItem(await version('2')).description).includes('Staging') || undefined);
    const uri = await vscode.commands.executeCommand<string>('runlens.copyModelVersionUri', await version('2'));
    assert.equal(uri, `models:/${NAME}/2`);
    assert.equal(await vscode.env.clipboard.readText(), uri);
  });

  it('diffs two selected versions in the diff editor', async () => {
    const v1 = await version('1');
    const v2 = await version('2');
    await vscode.commands.executeCommand('runlens.compareModelVersions', v2, [v2, v1]);
    const tab = await waitFor('a diff tab', () => vscode.window.tabGroups.activeTabGroup.activeTab?.input instanceof vscode.TabInputTextDiff ? vscode.window.tabGroups.activeTabGroup.activeTab : undefined);
    const input = tab.input as vscode.TabInputTextDiff;
    assert.equal(input.original.scheme, 'runlens-model');
    const [left, right] = await Promise.all([vscode.workspace.openTextDocument(input.original), vscode.workspace.openTextDocument(input.modified)]);
    assert.match(left.getText(), /^version: 1$/m);
    assert.match(right.getText(), /^version: 2$/m);
    // Older on the left whatever the selection order; both from the same logged model, so only registry lines differ.
    const differing = left.getText().split('\n').filter((l, i) => l !== right.getText().split('\n')[i]);
    assert.ok(differing.includes('version: 1') && differing.every((l) => /^(version|stage): /.test(l)), differing.join('|'));
    assert.match(left.getText(), /^ {2}flavors: \[python_function, sklearn\]$/m);
    assert.match(left.getText(), /^ {4}- x: double$/m);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  it('deletes a version after confirmation', async () => {
    assert.equal(await vscode.commands.executeCommand('runlens.deleteModelVersion', await version('2'), undefined, true), true);
    assert.equal((await get(`/model-versions/get?name=${NAME}&version=2`)).status, 404);
    await waitFor('version 2 gone from the tree', async () => ((await versions()).some((v) => v.version.version === '2') ? undefined : true));
  });
});
