import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { createRun, runlens, runPython, waitFor, workspaceDir, writeScript } from './helpers';

const TWO_RUNS = `
import mlflow
mlflow.set_experiment("diff-me")
for name, lr, depth in (("baseline", 0.1, 3), ("tuned", 0.05, 3)):
    with mlflow.start_run(run_name=name) as run:
        mlflow.log_params({"lr": lr, "depth": depth})
        mlflow.log_metric("acc", 0.8 if name == "baseline" else 0.9)
        mlflow.set_tag("note", "multi\\nline")
        mlflow.log_text("hello", "notes/readme.txt")
        print("RUN_ID=" + run.info.run_id)
`;

describe('run documents and the diff editor', () => {
  let ids: string[] = [];

  before(async () => {
    const api = await runlens();
    const out = await runPython(writeScript('two_runs.py', TWO_RUNS), api.service.url!);
    ids = [...out.matchAll(/RUN_ID=(\w+)/g)].map((m) => m[1]!);
    assert.equal(ids.length, 2);
  });

  it('opens VS Code\'s diff editor on two runs rendered as stable, sorted documents', async () => {
    await vscode.commands.executeCommand('runlens.diffRuns', ids);
    const tab = await waitFor('a diff tab', () => {
      const t = vscode.window.tabGroups.activeTabGroup.activeTab;
      return t?.input instanceof vscode.TabInputTextDiff ? t : undefined;
    });
    const input = tab.input as vscode.TabInputTextDiff;
    assert.equal(input.original.scheme, 'runlens-run');
    assert.equal(tab.label, 'baseline ↔ tuned');
    const left = (await vscode.workspace.openTextDocument(input.original)).getText();
    const right = (await vscode.workspace.openTextDocument(input.modified)).getText();
    assert.match(left, /^# Run baseline$/m);
    assert.match(left, /## Parameters \(2\)\ndepth = 3\nlr = 0\.1\n/);
    assert.match(right, /## Parameters \(2\)\ndepth = 3\nlr = 0\.05\n/);
    assert.match(left, /^note = multi\\nline$/m, 'newlines are escaped so lines align');
    assert.match(left, /^notes\/readme\.txt {2}\(5 bytes\)$/m);
    // Same structure: only the lines that differ differ.
    const l = left.split('\n');
    const r = right.split('\n');
    assert.equal(l.length, r.length);
    const differing = l.map((line, i) => [line, r[i]]).filter(([a, b]) => a !== b).map(([a]) => a!.split(/[:=]/)[0]!.trim());
    for (const key of differing) assert.ok(/^(# Run baseline|run_id|start_time|end_time|duration|lr|acc|artifact_uri|mlflow.runName)$/.test(key), `unexpected difference in ${key}`);
  });

  it('re-renders an open run document when the run changes', async () => {
    const api = await runlens();
    await vscode.commands.executeCommand('runlens.openRunDocument', ids[0]);
    const editor = await waitFor('the run document', () => (vscode.window.activeTextEditor?.document.uri.scheme === 'runlens-run' ? vscode.window.activeTextEditor : undefined));
    await api.service.client.setTag(ids[0]!, 'reviewed', 'yes');
    await waitFor('the new tag in the document', () => (editor.document.getText().includes('reviewed = yes') ? true : undefined), 10_000);
  });

  it('compares more than two runs in one table with the differences first', async () => {
    const api = await runlens();
    const third = await api.service.client.searchRuns({ experimentIds: ['0'], maxResults: 1 });
    const all = [...ids, ...(third.runs[0] ? [third.runs[0].info.run_id] : [])];
    const uri = vscode.Uri.from({ scheme: 'runlens-compare', path: `/${all.join(',')}.md` });
    const text = (await vscode.workspace.openTextDocument(uri)).getText();
    assert.match(text, /# Comparing \d runs/);
    const diff = text.split('## Identical')[0]!;
    assert.match(diff, /\| param \| lr \| 0\.1 \| 0\.05 \|/);
  });

  it('gives a clear message for a run that no longer exists (stale tree item)', async () => {
    const api = await runlens();
    const { runs } = await api.service.client.searchRuns({ experimentIds: ['0'], maxResults: 1 });
    const result = await vscode.commands.executeCommand('runlens.openRunDocument', 'ffffffffffffffffffffffffffffffff');
    assert.equal(result, undefined, 'the command reports instead of throwing');
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.from({ scheme: 'runlens-run', path: '/ffffffffffffffffffffffffffffffff/gone.run' }));
    assert.match(doc.getText(), /Could not load/);
    assert.ok(runs);
  });

  it('copies run ids and runs:/ URIs', async () => {
    const uri = await vscode.commands.executeCommand<string>('runlens.copyRunUri', ids[0]);
    assert.equal(uri, `runs:/${ids[0]}/`);
    assert.equal(await vscode.env.clipboard.readText(), uri);
  });
});

describe('Log Artifact to Run', () => {
  it('uploads files and folders under a sub-path and the run lists them', async () => {
    const api = await runlens();
    const client = api.service.client;
    const expId = await client.createExperiment(`artifacts-${Date.now()}`);
    const runId = await createRun(client.baseUrl, { experiment_id: expId, run_name: 'target' });
    const dir = path.join(workspaceDir(), 'to-log');
    fs.mkdirSync(path.join(dir, 'inner'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'inner', 'table.csv'), 'a,b\n1,2\n');
    const single = path.join(workspaceDir(), 'report.md');
    fs.writeFileSync(single, '# Report\n');
    const big = path.join(workspaceDir(), 'big.bin');
    fs.writeFileSync(big, Buffer.alloc(12 * 1024 * 1024, 7));
    const uploaded = await vscode.commands.executeCommand<string[]>('runlens.logArtifact', vscode.Uri.file(single), [vscode.Uri.file(single), vscode.Uri.file(dir), vscode.Uri.file(big)], { runId, artifactPath: 'reports' });
    assert.deepEqual(uploaded, ['reports/report.md', 'reports/to-log/inner/table.csv', 'reports/big.bin']);
    const listing = await client.listArtifactsRecursive(runId);
    assert.deepEqual(listing.files.map((f) => [f.path, f.file_size]).sort(), [
      ['reports/big.bin', 12 * 1024 * 1024],
      ['reports/report.md', 9],
      ['reports/to-log/inner/table.csv', 8],
    ]);
    const csv = await fetch(`${client.baseUrl}/api/2.0/mlflow-artifacts/artifacts/${expId}/${runId}/artifacts/reports/to-log/inner/table.csv`);
    assert.equal(await csv.text(), 'a,b\n1,2\n');
  });

  it('logs files dropped onto a run in the explorer', async () => {
    const api = await runlens();
    const client = api.service.client;
    const expId = await client.createExperiment(`drop-${Date.now()}`);
    const runId = await createRun(client.baseUrl, { experiment_id: expId, run_name: 'drop-target' });
    const exp = (await api.experiments.getChildren()).find((n) => n.type === 'experiment' && n.experiment.experiment_id === expId);
    assert.ok(exp);
    const target = (await api.experiments.getChildren(exp)).find((n) => n.type === 'run' && n.run.info.run_id === runId);
    assert.ok(target);
    const file = path.join(workspaceDir(), 'dropped.json');
    fs.writeFileSync(file, '{"ok": true}');
    const data = new vscode.DataTransfer();
    data.set('text/uri-list', new vscode.DataTransferItem(vscode.Uri.file(file).toString()));
    await api.drop.handleDrop(target, data);
    const files = await client.listArtifacts(runId);
    assert.deepEqual(files.map((f) => [f.path, f.file_size]), [['dropped.json', 12]]);
  });

  it('refuses a path that escapes the run and reports it instead of throwing', async () => {
    const api = await runlens();
    const { runs } = await api.service.client.searchRuns({ experimentIds: ['0'], maxResults: 1 });
    const runId = runs[0]?.info.run_id ?? (await api.service.client.searchRuns({ experimentIds: (await api.service.client.listExperiments()).map((e) => e.experiment_id), maxResults: 1 })).runs[0]!.info.run_id;
    const file = path.join(workspaceDir(), 'report.md');
    const result = await vscode.commands.executeCommand('runlens.logArtifact', vscode.Uri.file(file), [vscode.Uri.file(file)], { runId, artifactPath: '../../escape' });
    assert.equal(result, undefined);
  });
});
