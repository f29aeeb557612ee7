import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { report, runlens, runPython, waitFor, writeScript } from './helpers';

// A sweep as sklearn autolog logs a GridSearchCV: a parent, child runs with a 200-step history
// and single-value scores (logged with the real client, batch per child to keep the suite short).
const SWEEP = `
import math, time, mlflow
from mlflow.entities import Metric
mlflow.set_experiment("chart-sweep")
client = mlflow.MlflowClient()
ids = []
with mlflow.start_run(run_name="sweep-parent") as parent:
    for i in range(20):
        with mlflow.start_run(run_name=f"trial-{i:02d}", nested=True) as c:
            mlflow.log_params({"max_depth": None if i % 4 == 0 else i % 4, "max_features": ("sqrt", "log2")[i % 2]})
            now = int(time.time() * 1000)
            client.log_batch(c.info.run_id, metrics=[Metric("val_loss", math.exp(-s / (20 + i)), now + s, s) for s in range(200)])
            mlflow.log_metrics({"accuracy": 0.8 + 0.005 * i, "f1": 0.7 + 0.01 * i})
            ids.append(c.info.run_id)
print("PARENT=" + parent.info.run_id)
print("CHILDREN=" + ",".join(ids))
`;

/** The open Runlens panels of a view type, as tabs. */
function panels(viewType: string): vscode.Tab[] {
  return vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith(viewType));
}

describe('charts and compare panels on a sweep', () => {
  let parent: string;
  let children: string[];

  before(async function () {
    this.timeout(180_000);
    const api = await runlens();
    await api.service.ready();
    const out = await runPython(writeScript('chart_sweep.py', SWEEP), api.service.url!);
    parent = /PARENT=(\S+)/.exec(out)![1]!;
    children = /CHILDREN=(\S+)/.exec(out)![1]!.split(',');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('reuses the charts panel for the next selection, and keeps a pinned one', async () => {
    const t0 = Date.now();
    await vscode.commands.executeCommand('runlens.showCharts', [parent]);
    await waitFor('a charts panel', () => (panels('runlens.charts').length === 1 ? true : undefined));
    report(`charts panel on a 20-child sweep parent: command → tab ${Date.now() - t0} ms`);
    await vscode.commands.executeCommand('runlens.showCharts', [children[0]!]);
    await waitFor('the same panel retitled', () => (panels('runlens.charts').length === 1 && panels('runlens.charts')[0]!.label === 'Metrics: trial-00' ? true : undefined), 10_000);
    // Pinned, the panel stays; the next selection opens a second panel, which is then reused.
    await vscode.commands.executeCommand('runlens.pinPanel');
    await vscode.commands.executeCommand('runlens.showCharts', [children[1]!]);
    await waitFor('a second panel', () => (panels('runlens.charts').length === 2 ? true : undefined), 10_000);
    await vscode.commands.executeCommand('runlens.showCharts', [children[2]!]);
    await new Promise((r) => setTimeout(r, 500));
    const labels = panels('runlens.charts').map((t) => t.label).sort();
    assert.deepEqual(labels, ['Metrics: trial-00', 'Metrics: trial-02']);
  });

  it('reuses the compare panel for the next selection', async () => {
    await vscode.commands.executeCommand('runlens.compareRuns', children.slice(0, 3));
    await waitFor('a compare panel', () => (panels('runlens.compare').length === 1 ? true : undefined));
    await vscode.commands.executeCommand('runlens.compareRuns', children.slice(3, 8));
    await waitFor('the same panel retitled', () => (panels('runlens.compare')[0]?.label === 'Compare 5 runs' ? true : undefined), 10_000);
    assert.equal(panels('runlens.compare').length, 1);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
});
