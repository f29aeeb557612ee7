import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { tagValue } from '../../../src/client/wireTypes';
import { createRun, postJson, python, report, runlens, runNodes, treeSnapshot, waitFor, workspaceDir, writeScript } from './helpers';

const NESTED = `
import mlflow
mlflow.set_experiment("terminal-nested")
with mlflow.start_run(run_name="sweep-parent"):
    mlflow.log_param("optimizer", "adam")
    for i in range(3):
        with mlflow.start_run(run_name=f"trial-{i}", nested=True):
            mlflow.log_param("lr", 0.1 / (i + 1))
            for step in range(5):
                mlflow.log_metric("loss", 1.0 / (step + 1 + i), step=step)
print("nested done")
`;

describe('experiment explorer', () => {
  it('shows a real mlflow client run from an integrated terminal with nested children', async () => {
    const api = await runlens();
    writeScript('nested_train.py', NESTED);
    const terminal = vscode.window.createTerminal({ name: 'train', cwd: workspaceDir() });
    terminal.show();
    terminal.sendText(`"${python()}" nested_train.py`);
    const snapshot = await waitFor(
      'the parent run with three children in the tree',
      async () => {
        const snap = await treeSnapshot(api);
        const parent = snap.find((s) => s.label === 'sweep-parent');
        const children = snap.filter((s) => /^trial-\d$/.test(s.label));
        return parent && children.length === 3 && children.every((c) => c.depth === parent.depth + 1) ? snap : undefined;
      },
      90_000,
      500,
    );
    const exp = snapshot.find((s) => s.label === 'terminal-nested');
    assert.ok(exp, 'experiment node');
    assert.equal(exp.depth, 0);
    const parent = runNodes(snapshot).find((n) => n.run.info.run_name === 'sweep-parent')!;
    assert.equal(parent.loadedChildren.length, 3);
    const item = api.experiments.getTreeItem(parent);
    assert.equal(item.collapsibleState, vscode.TreeItemCollapsibleState.Expanded);
    assert.match(String(item.contextValue), /^runlens\.run;active;/);
    const finished = await waitFor('all four runs FINISHED', async () => {
      const snap = runNodes(await treeSnapshot(api)).filter((n) => n.run.info.experiment_id === parent.run.info.experiment_id);
      return snap.length === 4 && snap.every((n) => n.run.info.status === 'FINISHED') ? snap : undefined;
    });
    const finishedParent = finished.find((n) => n.run.info.run_name === 'sweep-parent')!;
    const tooltip = api.experiments.getTreeItem(finishedParent).tooltip as vscode.MarkdownString;
    assert.match(tooltip.value, /optimizer/);
    assert.equal((api.experiments.getTreeItem(finishedParent).iconPath as vscode.ThemeIcon).id, 'pass');
    terminal.dispose();
  });

  it('records the command line of runs started by hand when shell integration is available', async function () {
    const api = await runlens();
    const terminal = vscode.window.createTerminal({ name: 'shell-integration', cwd: workspaceDir() });
    writeScript('by_hand.py', 'import mlflow\nmlflow.set_experiment("by-hand")\nwith mlflow.start_run(run_name="typed"):\n    mlflow.log_metric("m", 1)\n');
    const integrated = await waitFor('shell integration', () => terminal.shellIntegration, 15_000).catch(() => undefined);
    if (!integrated) {
      terminal.dispose();
      this.skip(); // this host's shell has no VS Code shell integration: nothing to record
    }
    integrated.executeCommand(`"${python()}" by_hand.py`);
    const run = await waitFor('runlens.command on the typed run', async () => {
      const exps = await api.service.client.listExperiments();
      const id = exps.find((e) => e.name === 'by-hand')?.experiment_id;
      if (!id) return undefined;
      const r = (await api.service.client.searchRuns({ experimentIds: [id] })).runs[0];
      return r && tagValue(r, 'runlens.command.exit_code') !== undefined ? r : undefined;
    });
    assert.match(tagValue(run, 'runlens.command') ?? '', /by_hand\.py/);
    assert.equal(tagValue(run, 'runlens.command.exit_code'), '0');
    terminal.dispose();
  });

  it('filters with the MLflow filter language, sorts by a metric, and reports a bad filter', async () => {
    const api = await runlens();
    const tree = api.experiments;
    tree.filter = "params.lr = '0.1'";
    tree.refreshAll();
    const filtered = await treeSnapshot(api);
    let names = runNodes(filtered).map((n) => n.run.info.run_name);
    // The parent does not match but stays, dimmed, so its matching child is not shown flat.
    assert.deepEqual(names, ['sweep-parent', 'trial-0']);
    const [parentRow, childRow] = filtered.filter((s) => s.node.type === 'run');
    assert.equal(childRow!.depth, parentRow!.depth + 1, 'the match stays under its parent');
    const parentItem = api.experiments.getTreeItem(parentRow!.node);
    assert.match(String(parentItem.description), /^not matching/);
    assert.equal(((parentItem.iconPath as vscode.ThemeIcon).color as vscode.ThemeColor).id, 'disabledForeground');
    assert.doesNotMatch(String(api.experiments.getTreeItem(childRow!.node).description), /not matching/);
    tree.filter = '';
    tree.sort = { label: 'loss ↑', orderBy: ['metrics.`loss` ASC'] };
    tree.refreshAll();
    const exp = (await treeSnapshot(api)).find((s) => s.label === 'terminal-nested')!;
    names = (await tree.getChildren(exp.node)).filter((n) => n.type === 'run').map((n) => (n.type === 'run' ? n.run.info.run_name : ''));
    assert.equal(names[0], 'sweep-parent'); // the parent has no loss; its children sort under it
    const children = (await tree.getChildren((await tree.getChildren(exp.node))[0])).map((n) => (n.type === 'run' ? n.run.info.run_name : ''));
    assert.deepEqual(children, ['trial-2', 'trial-1', 'trial-0']);
    tree.sort = { label: 'default', orderBy: ['attributes.start_time DESC'] };
    tree.filter = 'metrics.loss >';
    tree.refreshAll();
    const snap = await treeSnapshot(api);
    const messages = snap.filter((s) => s.node.type === 'message').map((s) => s.label);
    assert.ok(messages.some((m) => /filter|Invalid|expected/i.test(m)), `a filter error is shown: ${messages.join(' | ')}`);
    tree.filter = '';
    tree.refreshAll();
  });

  it('shows a new run within a few hundred ms of its first request (measured)', async () => {
    const api = await runlens();
    const client = api.service.client;
    const expId = await client.createExperiment(`latency-${Date.now()}`);
    await waitFor('the new experiment in the tree', async () => (await treeSnapshot(api)).find((s) => s.node.type === 'experiment' && s.node.experiment.experiment_id === expId));
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = Date.now();
      const runId = await createRun(client.baseUrl, { experiment_id: expId, run_name: `latency-${i}` });
      await waitFor('the run in the tree', () => api.experiments.loadedRuns(expId).some((r) => r.info.run_id === runId) || undefined, 10_000, 5);
      samples.push(Date.now() - t0);
      await new Promise((r) => setTimeout(r, 400)); // a quiet spell between samples
    }
    samples.sort((a, b) => a - b);
    report(`first request → tree item: median ${samples[2]} ms (min ${samples[0]}, max ${samples[4]}; first write after a quiet spell refreshes at once)`);
    assert.ok(samples.length === 5);
  });

  it('lists registered models with versions, stages and aliases', async () => {
    const api = await runlens();
    const post = (route: string, body: unknown) => postJson(api.service.client.baseUrl, `/api/2.0/mlflow${route}`, body);
    const run = await post('/runs/create', { experiment_id: '0', run_name: 'trainer' }) as { run: { info: { run_id: string } } };
    const source = `runs:/${run.run.info.run_id}/model`;
    await post('/registered-models/create', { name: 'churn-model' });
    await post('/model-versions/create', { name: 'churn-model', source, run_id: run.run.info.run_id });
    await post('/model-versions/create', { name: 'churn-model', source, run_id: run.run.info.run_id });
    await post('/model-versions/transition-stage', { name: 'churn-model', version: '1', stage: 'Production', archive_existing_versions: false });
    await post('/registered-models/alias', { name: 'churn-model', alias: 'champion', version: '2' });
    const models = await api.models.getChildren();
    const model = models.find((m) => m.type === 'model' && m.model.name === 'churn-model');
    assert.ok(model);
    const versions = (await api.models.getChildren(model)).map((v) => api.models.getTreeItem(v));
    assert.deepEqual(versions.map((v) => [v.label, v.description]), [
      ['Version 2', '@champion'],
      ['Version 1', 'Production'],
    ]);
  });

  it('shows an experiment\'s traces in the tree, live, and opens them in the traces view', async () => {
    const api = await runlens();
    const base = api.service.client.baseUrl;
    const expId = await api.service.client.createExperiment('llm-app');
    const snapshotWith = (count: string) =>
      waitFor(`a Traces node with ${count}`, async () => {
        const snap = await treeSnapshot(api);
        const node = snap.find((s) => s.node.type === 'traces' && s.node.parent.experiment.experiment_id === expId);
        return node && api.experiments.getTreeItem(node.node).description === count ? node : undefined;
      }, 30_000, 200);
    const send = async (traceHex: string): Promise<void> => {
      const start = BigInt(Date.now()) * 1_000_000n;
      const body = { resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: traceHex, spanId: '1'.repeat(16), name: 'chat', startTimeUnixNano: String(start), endTimeUnixNano: String(start + 5_000_000n), status: { code: 1 } }] }] }] };
      const res = await fetch(`${base}/v1/traces`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'x-mlflow-experiment-id': expId }, body: JSON.stringify(body) });
      assert.equal(res.status, 200);
    };
    await send('c'.repeat(32));
    const node = await snapshotWith('1 trace');
    assert.equal(node.depth, 1);
    await send('d'.repeat(32)); // arrives while the tree is shown: the count follows
    await snapshotWith('2 traces');
    const item = api.experiments.getTreeItem(node.node);
    assert.equal(item.command?.command, 'runlens.openTraces');
    await vscode.commands.executeCommand(item.command!.command, ...(item.command!.arguments ?? []));
    const tab = await waitFor('the traces view tab', () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.label === 'Traces: llm-app'), 10_000);
    assert.ok(tab.input instanceof vscode.TabInputWebview);
    assert.match((tab.input as vscode.TabInputWebview).viewType, /runlens\.traces$/);
    await vscode.window.tabGroups.close(tab);
  });
});
