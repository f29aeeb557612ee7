import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { openSourceAt } from '../../../src/extension/webviews/openSource';
import { EXTENSION_ID, runlens, workspaceDir, writeScript } from './helpers';

interface WalkthroughStep {
  id: string;
  title: string;
  description: string;
  media: { markdown?: string; image?: string };
  completionEvents?: string[];
}

describe('first run: walkthrough and traceback links', () => {
  it('contributes a walkthrough whose buttons, completion events and media all exist', async () => {
    await runlens();
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    const walkthroughs = (ext.packageJSON as { contributes: { walkthroughs?: { id: string; steps: WalkthroughStep[] }[] } }).contributes.walkthroughs ?? [];
    assert.equal(walkthroughs.length, 1);
    const steps = walkthroughs[0]!.steps;
    assert.deepEqual(steps.map((s) => s.id), ['firstRun', 'charts', 'compare', 'trace']);
    const registered = new Set(await vscode.commands.getCommands(true));
    for (const step of steps) {
      const linked = [...step.description.matchAll(/\(command:([\w.]+)\)/g)].map((m) => m[1]!);
      assert.ok(linked.length > 0, `${step.id} has a button`);
      for (const c of linked) assert.ok(registered.has(c), `${step.id}: ${c} is a registered command`);
      for (const e of step.completionEvents ?? []) {
        if (e.startsWith('onCommand:')) assert.ok(registered.has(e.slice('onCommand:'.length)), `${step.id}: ${e}`);
        else assert.match(e, /^onContext:runlens\.\w+/, `${step.id}: ${e}`);
      }
      const media = step.media.markdown ?? step.media.image;
      assert.ok(media && fs.existsSync(path.join(ext.extensionPath, media)), `${step.id}: media ${media} exists`);
    }
    await vscode.commands.executeCommand('runlens.openWalkthrough');
  });

  it('the traced LLM sample runs with the real client and records a trace', async () => {
    const api = await runlens();
    const uri = await vscode.commands.executeCommand<vscode.Uri>('runlens.createTraceSample');
    assert.ok(uri && fs.existsSync(uri.fsPath));
    const outcome = await vscode.commands.executeCommand<{ launchId?: string }>('runlens.runPythonFile', uri);
    assert.ok(outcome?.launchId);
    const result = await api.launches.result(outcome.launchId)!;
    assert.equal(result.exitCode, 0);
    const exp = (await api.service.client.listExperiments('ALL')).find((e) => e.name === 'runlens-traces');
    assert.ok(exp, 'the sample made its experiment');
    assert.equal(await api.service.client.traceCount(exp.experiment_id, ''), 2, 'one trace per question');
    fs.rmSync(uri.fsPath);
  });

  it('opens a traceback frame at its line when the file is in the workspace, and not otherwise', async () => {
    const file = writeScript('frames.py', ['a = 1', 'b = 2', 'c = 3', 'raise SystemExit(4)', ''].join('\n'));
    const editor = await openSourceAt(file, 4);
    assert.ok(editor);
    assert.equal(editor.document.uri.fsPath, file);
    assert.equal(editor.selection.active.line, 3, 'line 4, zero-based');
    const outside = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-outside-')), 'x.py');
    fs.writeFileSync(outside, 'x = 1\n');
    assert.equal(await openSourceAt(outside, 1), undefined, 'a file outside the workspace is not opened');
    assert.equal(await openSourceAt(path.join(workspaceDir(), 'missing.py'), 1), undefined);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
});
