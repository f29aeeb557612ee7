import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { runlens, runPython, waitFor, writeScript } from './helpers';

const SEED = `
import mlflow
mlflow.set_experiment("lsp-host")
for i in range(3):
    with mlflow.start_run(run_name=f"lsp-{i}"):
        mlflow.log_param("optimizer", ["adam", "sgd", "adam"][i])
        mlflow.log_metric("val_accuracy", 0.8 + i * 0.05)
`;

const ANALYSIS = `import mlflow

runs = mlflow.search_runs(filter_string="val_accuracy > 0.9 and metrics. ")
best = mlflow.search_runs(filter_string="metrics.val_accuracy > 0.5")
`;

describe('language server in the editor', function () {
  this.timeout(120_000);

  it('puts a bad filter in Problems, completes a seeded metric key inside the string, hovers its values', async () => {
    const api = await runlens();
    await runPython(writeScript('lsp_seed.py', SEED), api.service.url!);
    const file = writeScript('analysis.py', ANALYSIS);
    const doc = await vscode.workspace.openTextDocument(file);
    await vscode.window.showTextDocument(doc);
    assert.equal(doc.languageId, 'python');

    const diags = await waitFor('runlens diagnostics on analysis.py', () => {
      const d = vscode.languages.getDiagnostics(doc.uri).filter((x) => x.source === 'runlens');
      return d.some((x) => /did you mean `metrics\.val_accuracy`/.test(x.message)) ? d : undefined;
    });
    const first = diags.find((d) => /did you mean/.test(d.message))!;
    assert.equal(doc.getText(first.range), 'val_accuracy');
    assert.equal(first.severity, vscode.DiagnosticSeverity.Error);

    const keyAt = doc.positionAt(ANALYSIS.indexOf('metrics. ') + 'metrics.'.length);
    const list = await waitFor('a completion with the seeded metric key', async () => {
      const l = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', doc.uri, keyAt);
      return l.items.some((i) => (typeof i.label === 'string' ? i.label : i.label.label) === 'val_accuracy') ? l : undefined;
    });
    const item = list.items.find((i) => (typeof i.label === 'string' ? i.label : i.label.label) === 'val_accuracy')!;
    assert.match(String(item.detail), /3 of \d+ runs/);

    const hoverAt = doc.positionAt(ANALYSIS.indexOf('metrics.val_accuracy > 0.5') + 10);
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, hoverAt);
    const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
    assert.match(text, /3 of \d+ runs/);
    assert.match(text, /min 0\.8 · max 0\.9/);
  });
});
