// How runs open from the explorer and how the tree reads: a click previews without taking focus,
// Enter (the keybinding) opens the run page, sort by metric shows that metric, new runs keep the
// user's selection. In a real extension host.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { knownMetricKeys, metricSort } from '../../../src/extension/commands/sortRuns';
import type { RunNode } from '../../../src/extension/tree/nodes';
import { createRun, postJson, runlens, runNodes, treeSnapshot, waitFor } from './helpers';

interface Keybinding {
  command: string;
  key: string;
  when?: string;
  args?: unknown;
}

const webviewTabs = (): vscode.Tab[] => vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputWebview);

describe('explorer: opening runs and reading the tree', () => {
  let expId = '';
  const names = ['alpha', 'beta', 'gamma'];
  const runIds: string[] = [];
  let createOptions: (vscode.ViewColumn | { viewColumn: vscode.ViewColumn; preserveFocus?: boolean })[] = [];
  const original = vscode.window.createWebviewPanel;

  before(async () => {
    const api = await runlens();
    const base = api.service.client.baseUrl;
    expId = await api.service.client.createExperiment(`open-runs-${Date.now()}`);
    for (const [i, name] of names.entries()) {
      const id = await createRun(base, { experiment_id: expId, run_name: name, start_time: 1_700_000_000_000 + i });
      await postJson(base, '/api/2.0/mlflow/runs/log-batch', { run_id: id, metrics: [{ key: 'acc', value: [0.7, 0.9, 0.8][i], timestamp: 1, step: 0 }], params: [{ key: 'lr', value: String(i) }] });
      runIds.push(id);
    }
    // The options every webview panel is created with, to see whether it was asked to keep focus where it is.
    (vscode.window as { createWebviewPanel: typeof original }).createWebviewPanel = (...args: Parameters<typeof original>) => {
      createOptions.push(args[2]);
      return original(...args);
    };
  });

  after(async () => {
    (vscode.window as { createWebviewPanel: typeof original }).createWebviewPanel = original;
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  async function nodeOf(name: string): Promise<RunNode> {
    const api = await runlens();
    return waitFor(`${name} in the tree`, async () => runNodes(await treeSnapshot(api)).find((n) => n.run.info.experiment_id === expId && n.run.info.run_name === name));
  }

  it('a single click previews the run page without taking focus, a second click opens it', async () => {
    const api = await runlens();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const node = await nodeOf('alpha');
    const item = api.experiments.getTreeItem(node);
    assert.equal(item.command?.command, 'runlens.previewRun', 'a click previews; it does not open the text document');
    createOptions = [];
    await vscode.commands.executeCommand(item.command!.command, ...(item.command!.arguments ?? []));
    await waitFor('the run page tab', () => webviewTabs().find((t) => t.label === 'Run: alpha'));
    assert.equal(vscode.window.activeTextEditor, undefined, 'no text document was opened');
    assert.deepEqual(createOptions.map((o) => (typeof o === 'object' ? o.preserveFocus : undefined)), [true], 'the preview keeps the focus in the tree');
    // Clicking the next run replaces the preview rather than piling up tabs.
    await new Promise((r) => setTimeout(r, 600));
    const beta = api.experiments.getTreeItem(await nodeOf('beta')).command!;
    createOptions = [];
    // A double click (VS Code runs the item's command once per click) opens it for good, in one tab.
    await Promise.all([vscode.commands.executeCommand(beta.command, ...(beta.arguments ?? [])), vscode.commands.executeCommand(beta.command, ...(beta.arguments ?? []))]);
    await waitFor('beta replaces alpha', () => (webviewTabs().some((t) => t.label === 'Run: beta') && !webviewTabs().some((t) => t.label === 'Run: alpha')) || undefined);
    assert.equal(createOptions.length, 1, 'the open run is revealed, not opened twice');
    const gamma = api.experiments.getTreeItem(await nodeOf('gamma')).command!;
    await new Promise((r) => setTimeout(r, 600));
    await vscode.commands.executeCommand(gamma.command, ...(gamma.arguments ?? []));
    await waitFor('gamma previewed beside the kept beta', () => (webviewTabs().some((t) => t.label === 'Run: gamma') && webviewTabs().some((t) => t.label === 'Run: beta')) || undefined);
  });

  it('Enter on the selected run opens its run page, focused (the keybinding)', async () => {
    const api = await runlens();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '../../../../package.json'), 'utf8')) as { contributes: { keybindings: Keybinding[] } };
    const enter = pkg.contributes.keybindings.find((k) => k.key === 'enter');
    assert.equal(enter?.command, 'runlens.openRun');
    assert.match(String(enter?.when), /focusedView == runlens\.experiments/);
    const node = await nodeOf('gamma');
    await api.explorer.reveal(node, { select: true, focus: true });
    await waitFor('gamma selected', () => api.explorer.selection.some((n) => n.type === 'run' && n.run.info.run_id === node.run.info.run_id) || undefined);
    createOptions = [];
    const opened = await vscode.commands.executeCommand('runlens.openRun', enter!.args);
    assert.equal(opened, node.run.info.run_id);
    const tab = await waitFor('the run page', () => webviewTabs().find((t) => t.label === 'Run: gamma'));
    assert.equal(tab.isActive, true);
    assert.deepEqual(createOptions.map((o) => (typeof o === 'object' ? o.preserveFocus : undefined)), [false], 'Enter moves the focus to the run page');
    assert.equal(vscode.window.activeTextEditor, undefined, 'the run page, not the text document');
  });

  it('after sorting by a metric, each run shows that metric instead of its duration', async () => {
    const api = await runlens();
    const tree = api.experiments;
    const saved = tree.sort;
    try {
      tree.sort = { label: 'acc ↓', orderBy: ['metrics.`acc` DESC'] };
      tree.refreshAll();
      const exp = await waitFor('the experiment', async () => (await treeSnapshot(api)).find((s) => s.node.type === 'experiment' && s.node.experiment.experiment_id === expId));
      const runs = (await tree.getChildren(exp.node)).filter((n): n is RunNode => n.type === 'run');
      assert.deepEqual(runs.map((n) => n.run.info.run_name), ['beta', 'gamma', 'alpha']);
      assert.deepEqual(runs.map((n) => tree.getTreeItem(n).description), ['acc 0.9', 'acc 0.8', 'acc 0.7']);
      const tooltip = (tree.getTreeItem(runs[0]!).tooltip as vscode.MarkdownString).value;
      assert.ok(tooltip.indexOf('acc') < tooltip.indexOf('lr'), 'the tooltip leads with the metrics');
      assert.match(tooltip, /command:runlens\.openRun/, 'and links to the run page');
    } finally {
      tree.sort = saved;
      tree.refreshAll();
    }
  });

  it('"Sort Runs…" offers the metric keys the store\'s runs have, most common first', async () => {
    const api = await runlens();
    const extra = await createRun(api.service.client.baseUrl, { experiment_id: expId, run_name: 'extra-metric' });
    await postJson(api.service.client.baseUrl, '/api/2.0/mlflow/runs/log-batch', { run_id: extra, metrics: [{ key: 'zz_only_here', value: 1, timestamp: 1, step: 0 }] });
    const keys = await knownMetricKeys(api.service.client, [expId]);
    assert.deepEqual(keys, [
      { key: 'acc', runs: 3 },
      { key: 'zz_only_here', runs: 1 },
    ]);
    assert.deepEqual(metricSort('acc', false), { label: 'acc ↓', orderBy: ['metrics.`acc` DESC'] });
    await postJson(api.service.client.baseUrl, '/api/2.0/mlflow/runs/delete', { run_id: extra });
  });

  it('a new run inserted at the top keeps the user\'s selected run', async () => {
    const api = await runlens();
    const node = await nodeOf('alpha');
    // A reveal while the tree is re-reading (the previous test's writes) can be dropped: retry it.
    await waitFor('alpha selected', async () => {
      await api.explorer.reveal(node, { select: true, focus: true }).then(undefined, () => undefined);
      await new Promise((r) => setTimeout(r, 200));
      return api.explorer.selection.some((n) => n.type === 'run' && n.run.info.run_id === node.run.info.run_id) || undefined;
    }, 30_000, 300);
    const fresh = await createRun(api.service.client.baseUrl, { experiment_id: expId, run_name: 'newcomer' });
    await waitFor('the new run in the tree', () => api.experiments.loadedRuns(expId).some((r) => r.info.run_id === fresh) || undefined, 15_000);
    await new Promise((r) => setTimeout(r, 500));
    const selected = api.explorer.selection.filter((n): n is RunNode => n.type === 'run').map((n) => n.run.info.run_name);
    assert.deepEqual(selected, ['alpha']);
  });
});
