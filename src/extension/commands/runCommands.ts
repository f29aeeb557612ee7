/** Commands on runs: open, diff, compare, rename, tag, note, delete/restore, copy id/URI, reveal artifacts. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Logger } from '../../domain/logger';
import type { TrackingService } from '../backend/trackingService';
import { proxyPath } from '../../domain/artifactUri';
import { NOTE_TAG, tagValue, type WireRun } from '../../client/wireTypes';
import { compareDocumentUri, runDocumentUri } from '../runDocument/runDocumentProvider';
import { runLabel } from '../../ui/runFormat';
import { isRunNode, sourceOf, type ExplorerNode } from '../tree/nodes';
import type { StoreSources } from '../sources/storeSources';
import type { TrackingClient } from '../../client/trackingClient';
import type { ViewPanels } from '../webviews/viewPanels';
import { guarded } from './guard';
import { pickRuns } from './pickRun';
import { RunPageOpener } from './runPageOpener';
import { fromKeybinding } from './treeSelectionArg';

/** Runs of a found store named by a view of that store (its actions open more views on it). */
export interface StoreRunsArg {
  runIds: string[];
  source: string;
}

function isStoreRunsArg(arg: unknown): arg is StoreRunsArg {
  return typeof arg === 'object' && arg !== null && Array.isArray((arg as StoreRunsArg).runIds) && typeof (arg as StoreRunsArg).source === 'string';
}

/** Run ids a command applies to: the tree selection, one clicked item, an id, or none (ask). */
export function runIdsFromArgs(arg: unknown, selection: unknown): string[] {
  if (Array.isArray(selection) && selection.some(isRunNode)) return selection.filter(isRunNode).map((n) => n.run.info.run_id);
  if (isRunNode(arg)) return [arg.run.info.run_id];
  if (isStoreRunsArg(arg)) return arg.runIds.filter((x) => typeof x === 'string');
  if (typeof arg === 'string' && arg) return [arg];
  if (Array.isArray(arg)) return arg.filter((x): x is string => typeof x === 'string');
  return [];
}

/** The found store (its path) the command's runs are in, from the clicked node or selection; undefined: the workspace store. */
export function sourceFromArgs(arg: unknown, selection: unknown): string | undefined {
  if (isStoreRunsArg(arg)) return arg.source;
  const node = Array.isArray(selection) && selection.some(isRunNode) ? selection.find(isRunNode) : isRunNode(arg) ? arg : undefined;
  return node ? sourceOf(node as ExplorerNode) : undefined;
}

/** `treeSelection`: the explorer's selected nodes, for commands run from a keybinding. */
export function registerRunCommands(context: vscode.ExtensionContext, service: TrackingService, log: Logger, views: ViewPanels, sources: StoreSources, treeSelection: () => readonly unknown[] = () => []): void {
  // Commands act on the store their runs are in (the read-only stores' menus offer read actions
  // only). Each invocation resolves its own store, so commands running at once never cross stores.
  interface Target {
    /** The found store's path, or undefined for the workspace store. */
    source: string | undefined;
    client(): TrackingClient;
  }
  const ready = async (arg: unknown, selection: unknown): Promise<Target> => {
    const source = sourceFromArgs(arg, selection);
    await (source ? sources.get(source) : undefined)?.ready();
    await service.ready();
    return {
      source,
      client: () => {
        const found = source ? sources.get(source) : undefined;
        if (source && !found) throw new Error(`${source} is no longer among the workspace's MLflow stores.`);
        return (found ?? service).client;
      },
    };
  };
  const one = async (arg: unknown, selection: unknown, title: string): Promise<{ at: Target; run: WireRun | undefined }> => {
    const at = await ready(arg, selection);
    const ids = runIdsFromArgs(arg, selection);
    if (ids[0]) return { at, run: await at.client().getRun(ids[0]) };
    return { at, run: (await pickRuns(at.client(), { title, canPickMany: false }))?.[0] };
  };
  const many = async (arg: unknown, selection: unknown, title: string): Promise<{ at: Target; ids: string[] }> => {
    const at = await ready(arg, selection);
    const ids = runIdsFromArgs(arg, selection);
    if (ids.length) return { at, ids };
    return { at, ids: (await pickRuns(at.client(), { title, canPickMany: true }))?.map((r) => r.info.run_id) ?? [] };
  };
  const reg = (id: string, title: string, fn: (...args: unknown[]) => Promise<unknown>): void => {
    context.subscriptions.push(vscode.commands.registerCommand(id, guarded(log, title, (...args: unknown[]) => fn(...fromKeybinding(args, treeSelection)))));
  };

  const pages = new RunPageOpener(views);
  // The run page is what "open" means; the text document is for diffs and plain-text reading.
  const openPage = async (arg: unknown, selection: unknown): Promise<string | undefined> => {
    const { at, run } = await one(arg, selection, 'Open Run');
    if (!run) return undefined;
    pages.open(run.info.run_id, `Run: ${runLabel(run)}`, at.source, false);
    return run.info.run_id;
  };
  reg('runlens.openRun', 'Open Run', openPage);
  // The id older links and views use; one command, not a second entry in the palette.
  reg('runlens.showRunPage', 'Open Run', openPage);

  reg('runlens.previewRun', 'Preview Run', async (arg, selection) => {
    const clickedAt = Date.now(); // before reading the run, so a slow read does not split a double click
    const { at, run } = await one(arg, selection, 'Preview Run');
    if (!run) return undefined;
    pages.click(run.info.run_id, `Run: ${runLabel(run)}`, at.source, clickedAt);
    return run.info.run_id;
  });

  reg('runlens.openRunDocument', 'Open Run as Text', async (arg, selection) => {
    const { at, run } = await one(arg, selection, 'Open Run as Text');
    if (!run) return undefined;
    const doc = await vscode.workspace.openTextDocument(runDocumentUri(run.info.run_id, runLabel(run), at.source));
    return vscode.window.showTextDocument(doc, { preview: true });
  });

  reg('runlens.diffRuns', 'Diff Two Runs', async (arg, selection) => {
    const at = await ready(arg, selection);
    let ids = runIdsFromArgs(arg, selection);
    if (ids.length > 2) {
      void vscode.window.showWarningMessage(`Runlens: select exactly two runs to diff (${ids.length} selected); diffing the first two.`);
      ids = ids.slice(0, 2);
    }
    const runs: WireRun[] = await Promise.all(ids.map((id) => at.client().getRun(id)));
    while (runs.length < 2) {
      const picked = await pickRuns(at.client(), { title: runs.length === 0 ? 'Diff Runs: pick the left (older) run' : `Diff with ${runLabel(runs[0]!)}: pick the right run`, canPickMany: false, exclude: runs.map((r) => r.info.run_id) });
      if (!picked?.[0]) return undefined;
      runs.push(picked[0]);
    }
    const [a, b] = runs as [WireRun, WireRun];
    await vscode.commands.executeCommand('vscode.diff', runDocumentUri(a.info.run_id, runLabel(a), at.source), runDocumentUri(b.info.run_id, runLabel(b), at.source), `${runLabel(a)} ↔ ${runLabel(b)}`);
    return [a.info.run_id, b.info.run_id];
  });

  reg('runlens.compareRuns', 'Compare Runs', async (arg, selection) => {
    const { at, ids } = await many(arg, selection, 'Compare Runs: pick two or more runs');
    if (ids.length < 2) {
      if (ids.length === 1) void vscode.window.showInformationMessage('Runlens: pick at least two runs to compare.');
      return undefined;
    }
    views.show('compare', { runIds: ids }, `Compare ${ids.length} runs`, at.source);
    return ids;
  });

  reg('runlens.compareRunsMarkdown', 'Compare Runs as Markdown', async (arg, selection) => {
    const { at, ids } = await many(arg, selection, 'Compare Runs as Markdown: pick two or more runs');
    if (ids.length < 2) return undefined;
    const doc = await vscode.workspace.openTextDocument(compareDocumentUri(ids, at.source));
    await vscode.commands.executeCommand('markdown.showPreview', doc.uri).then(undefined, () => vscode.window.showTextDocument(doc));
    return ids;
  });

  reg('runlens.showCharts', 'Show Metric Charts', async (arg, selection) => {
    const { at, ids } = await many(arg, selection, 'Metric Charts: pick runs');
    if (!ids.length) return undefined;
    const first = ids.length === 1 ? await at.client().getRun(ids[0]!) : undefined;
    views.show('charts', { runIds: ids }, first ? `Metrics: ${runLabel(first)}` : `Metrics: ${ids.length} runs`, at.source);
    return ids;
  });

  reg('runlens.renameRun', 'Rename Run', async (arg, selection) => {
    const { at, run } = await one(arg, selection, 'Rename Run');
    if (!run) return;
    const name = await vscode.window.showInputBox({ title: 'Rename Run', value: runLabel(run), validateInput: (v) => (v.trim() ? undefined : 'A run name cannot be empty') });
    if (name === undefined) return;
    await at.client().updateRun(run.info.run_id, { runName: name.trim() });
  });

  reg('runlens.setRunTag', 'Set Tag', async (arg, selection) => {
    const { at, ids } = await many(arg, selection, 'Set Tag on Runs');
    if (!ids.length) return;
    const key = await vscode.window.showInputBox({ title: 'Set Tag: key', placeHolder: 'e.g. team', validateInput: (v) => (v.trim() ? undefined : 'A tag key cannot be empty') });
    if (!key) return;
    const value = await vscode.window.showInputBox({ title: `Set Tag: value for '${key}' on ${ids.length} run(s)` });
    if (value === undefined) return;
    for (const id of ids) await at.client().setTag(id, key.trim(), value);
  });

  reg('runlens.editRunNote', 'Edit Note', async (arg, selection) => {
    const { at, run } = await one(arg, selection, 'Edit Run Note');
    if (!run) return;
    const note = await vscode.window.showInputBox({ title: `Note for ${runLabel(run)} (Markdown; \\n for a new line)`, value: (tagValue(run, NOTE_TAG) ?? '').replace(/\n/g, '\\n') });
    if (note === undefined) return;
    await at.client().setTag(run.info.run_id, NOTE_TAG, note.replace(/\\n/g, '\n'));
  });

  reg('runlens.deleteRun', 'Delete Run', async (arg, selection) => {
    const { at, ids } = await many(arg, selection, 'Delete Runs');
    if (!ids.length) return;
    const ok = await vscode.window.showWarningMessage(`Delete ${ids.length} run(s)? They can be restored from "Show Deleted".`, { modal: true }, 'Delete');
    if (ok !== 'Delete') return;
    for (const id of ids) await at.client().deleteRun(id);
  });

  reg('runlens.restoreRun', 'Restore Run', async (arg, selection) => {
    const { at, ids } = await many(arg, selection, 'Restore Runs');
    for (const id of ids) await at.client().restoreRun(id);
  });

  reg('runlens.copyRunId', 'Copy Run ID', async (arg, selection) => {
    const { ids } = await many(arg, selection, 'Copy Run ID');
    if (ids.length) await vscode.env.clipboard.writeText(ids.join('\n'));
    return ids.join('\n');
  });

  reg('runlens.copyRunUri', 'Copy runs:/ URI', async (arg, selection) => {
    const { ids } = await many(arg, selection, 'Copy runs:/ URI');
    const text = ids.map((id) => `runs:/${id}/`).join('\n');
    if (text) await vscode.env.clipboard.writeText(text);
    return text;
  });

  reg('runlens.revealArtifacts', 'Reveal Artifacts', async (arg, selection) => {
    const { at, run } = await one(arg, selection, 'Reveal Artifacts');
    const state = service.state;
    if (!run || state.kind !== 'ready') return;
    const uri = run.info.artifact_uri ?? '';
    // A found store's proxied artifacts are under its own folder, not the workspace store's.
    const rel = at.source ? undefined : proxyPath(uri);
    const dir = rel !== undefined ? path.join(state.root, rel) : uri.startsWith('file:') ? vscode.Uri.parse(uri).fsPath : undefined;
    if (!dir) throw new Error(`Artifacts of this run live at ${uri}, which is not a local folder.`);
    if (!fs.existsSync(dir)) {
      void vscode.window.showInformationMessage(`Runlens: ${runLabel(run)} has no artifacts yet.`);
      return;
    }
    const target = vscode.Uri.file(dir);
    if (vscode.workspace.getWorkspaceFolder(target)) await vscode.commands.executeCommand('revealInExplorer', target);
    else await vscode.commands.executeCommand('revealFileInOS', target);
  });
}
