// Zero config: an mlflow.db the real client wrote into the workspace shows in the explorer as a
// read-only source (no setting), with its experiments and runs; write actions are not offered on
// it, read actions read it; "Import into Runlens" copies its runs into the workspace store.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunlensApi } from '../../../src/extension/api';
import type { ExplorerNode, RunNode, SourceNode } from '../../../src/extension/tree/nodes';
import { mlflowDbSeedScript } from '../../support/mlflowDbSeed';
import { python, resultsDir, runlens, waitFor, workspaceDir } from './helpers';

function label(api: RunlensApi, node: ExplorerNode): string {
  const item = api.experiments.getTreeItem(node);
  return typeof item.label === 'string' ? item.label : (item.label?.label ?? '');
}

/** The `viewItem =~ /…/` regex of a command's explorer context-menu entries. */
function menuRegexes(command: string): RegExp[] {
  const ext = vscode.extensions.getExtension('runlens.runlens')!;
  const menus = (ext.packageJSON as { contributes: { menus: Record<string, { command: string; when?: string }[]> } }).contributes.menus['view/item/context']!;
  return menus
    .filter((m) => m.command === command && m.when?.includes('viewItem =~'))
    .map((m) => {
      const src = /viewItem =~ \/(.*?)\/(?:\s|$)/.exec(m.when!)![1]!;
      return new RegExp(src.replace(/\\\\/g, '\\'));
    });
}

function offered(command: string, contextValue: string | undefined): boolean {
  return menuRegexes(command).some((re) => re.test(contextValue ?? ''));
}

describe('MLflow stores in the workspace', function () {
  this.timeout(180_000);
  let api: RunlensApi;
  let dbPath: string;
  let scratch: string;

  before(async () => {
    api = await runlens();
    dbPath = path.join(workspaceDir(), 'mlflow.db');
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-mlflowdb-'));
    const script = path.join(scratch, 'seed.py');
    fs.writeFileSync(script, mlflowDbSeedScript(dbPath));
    await new Promise<void>((resolve, reject) =>
      execFile(python(), [script], { cwd: scratch, env: { ...process.env, MLFLOW_DISABLE_TELEMETRY: 'true', DO_NOT_TRACK: 'true' } }, (err, _out, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve())),
    );
  });

  after(() => {
    // Later windows of the harness start from a workspace without it.
    fs.rmSync(dbPath, { force: true });
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  let source: SourceNode;
  let runs: RunNode[];

  it('shows a found mlflow.db as a read-only source beside the workspace store, with no setting', async () => {
    assert.deepEqual(vscode.workspace.getConfiguration('runlens').get('mlflowStores'), []);
    // Found by the file watcher, not by a call from the test.
    const root = await waitFor('the explorer to show sources', async () => {
      const children = await api.experiments.getChildren();
      return children.length >= 2 && children.every((c) => c.type === 'source') ? (children as SourceNode[]) : undefined;
    }, 30_000);
    assert.equal(label(api, root[0]!), 'Workspace store');
    source = root.find((s) => s.key === dbPath)!;
    assert.ok(source, `no source for ${dbPath}: ${root.map((r) => r.key).join(', ')}`);
    const item = api.experiments.getTreeItem(source);
    assert.equal(item.label, 'mlflow.db');
    assert.equal(item.description, 'read-only');
    assert.match(String(item.tooltip), /found in the workspace folder/);
    assert.equal(api.experiments.getTreeItem(root[0]!).collapsibleState, vscode.TreeItemCollapsibleState.Expanded);
    // The workspace's own experiments are under "Workspace store" (earlier suites made some; alone, it says it has none).
    const own = await api.experiments.getChildren(root[0]);
    assert.ok(own.some((n) => n.type === 'experiment') || own.some((n) => n.type === 'message' && /No runs yet/.test(n.message)), own.map((n) => n.type).join(', '));
  });

  it("lists the store's experiments and runs through its own read-only server", async () => {
    const experiments = await api.experiments.getChildren(source);
    const names = experiments.map((e) => label(api, e));
    assert.ok(names.includes('legacy-churn') && names.includes('legacy-baseline'), names.join(', '));
    const churn = experiments.find((e) => label(api, e) === 'legacy-churn')!;
    runs = (await api.experiments.getChildren(churn)).filter((n): n is RunNode => n.type === 'run');
    assert.deepEqual(runs.map((r) => r.run.info.run_name).sort(), ['xgb-lr0.01', 'xgb-lr0.03', 'xgb-lr0.1']);
    const found = api.sources.getFound(dbPath)!;
    assert.ok(found.pid && found.pid !== process.pid && found.pid !== (api.service.state.kind === 'ready' ? api.service.state.pid : 0));
    fs.appendFileSync(path.join(resultsDir(), 'server-pids.txt'), `${found.pid}\n`);
    const info = (await (await fetch(`${found.client.baseUrl}/runlens/api/store`)).json()) as { read_only: boolean };
    assert.equal(info.read_only, true);
    // Its runs do not clash with the workspace's in the tree (ids are per source).
    assert.ok(String(api.experiments.getTreeItem(runs[0]!).id).startsWith(`${dbPath}|`));
  });

  it('offers read actions but no write action on its nodes', async () => {
    const runItem = api.experiments.getTreeItem(runs[0]!);
    for (const cmd of ['runlens.deleteRun', 'runlens.renameRun', 'runlens.logArtifact', 'runlens.setRunTag', 'runlens.editRunNote']) {
      assert.equal(offered(cmd, runItem.contextValue), false, `${cmd} is offered on ${runItem.contextValue}`);
    }
    for (const cmd of ['runlens.openRun', 'runlens.showCharts', 'runlens.copyRunId', 'runlens.diffRuns']) assert.equal(offered(cmd, runItem.contextValue), true, `${cmd} is not offered`);
    const expItem = api.experiments.getTreeItem(runs[0]!.parent);
    for (const cmd of ['runlens.renameExperiment', 'runlens.deleteExperiment', 'runlens.setDefaultExperiment']) assert.equal(offered(cmd, expItem.contextValue), false, cmd);
    assert.equal(offered('runlens.openRunsTable', expItem.contextValue), true);
    // A workspace run's context value still gets them (the check can fail).
    assert.equal(offered('runlens.deleteRun', 'runlens.run;active;finished'), true);
  });

  it('opens a run of the store as a document, read from that store', async () => {
    const run = runs.find((r) => r.run.info.run_name === 'xgb-lr0.1')!;
    // A click previews the run page, on that store (the click passes the node, so its source).
    const clicked = api.experiments.getTreeItem(run).command!;
    assert.equal(clicked.command, 'runlens.previewRun');
    assert.equal(await vscode.commands.executeCommand(clicked.command, ...(clicked.arguments ?? [])), run.run.info.run_id);
    const editor = (await vscode.commands.executeCommand('runlens.openRunDocument', run)) as vscode.TextEditor;
    const text = editor.document.getText();
    assert.match(text, /xgb-lr0\.1/);
    assert.match(text, /val_auc/);
    assert.match(text, /legacy-churn/);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    // A view of the store opens the next view (here the run page) on the same store, as its actions do.
    assert.equal(await vscode.commands.executeCommand('runlens.openRun', { runIds: [run.run.info.run_id], source: dbPath }), run.run.info.run_id);
    // The same run id against the workspace store (not imported yet) is not found: the routing matters.
    assert.equal(await vscode.commands.executeCommand('runlens.openRun', run.run.info.run_id), undefined);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('Import into Runlens copies its runs into the workspace store', async () => {
    const job = (await vscode.commands.executeCommand('runlens.importStore', source)) as { state: string; progress: { runs: number } } | undefined;
    assert.ok(job, 'the import command failed (see the output channel)');
    assert.equal(job.state, 'done');
    assert.equal(job.progress.runs, 4);
    const exps = await api.service.client.listExperiments();
    const churn = exps.find((e) => e.name === 'legacy-churn');
    assert.ok(churn, 'the imported experiment is not in the workspace store');
    const page = await api.service.client.searchRuns({ experimentIds: [churn.experiment_id] });
    assert.deepEqual(page.runs.map((r) => r.info.run_id).sort(), runs.map((r) => r.run.info.run_id).sort());
    const models = await api.service.client.listRegisteredModels();
    assert.ok(models.some((m) => m.name === 'churn-model'), 'the registered model was not imported');
    // And the workspace store's tree shows it.
    const ws = (await api.experiments.getChildren()).find((n) => n.type === 'source' && n.key === 'workspace')!;
    await waitFor('the imported experiment in the workspace tree', async () => (await api.experiments.getChildren(ws)).some((n) => n.type === 'experiment' && n.experiment.name === 'legacy-churn') || undefined, 15_000);
  });

  it('goes back to the plain tree when the store disappears, stopping its server', async () => {
    const pid = api.sources.getFound(dbPath)!.pid!;
    fs.rmSync(dbPath, { force: true });
    await waitFor('the explorer without sources', async () => ((await api.experiments.getChildren()).every((c) => c.type === 'experiment') ? true : undefined), 30_000);
    await waitFor('the read-only server to exit', () => {
      try {
        process.kill(pid, 0);
        return undefined;
      } catch {
        return true;
      }
    }, 15_000);
  });
});
