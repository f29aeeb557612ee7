/**
 * "Log Artifact to Run…": files and folders from the explorer, the editor title or a drop onto a
 * run in the tree, streamed through the artifact proxy with a progress notification.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Logger } from '../../domain/logger';
import type { TrackingService } from '../backend/trackingService';
import type { WireRun } from '../../client/wireTypes';
import { runLabel } from '../../ui/runFormat';
import { isRunNode, sourceOf, type ExplorerNode } from '../tree/nodes';
import { uploadArtifact } from '../../client/artifactUpload';
import { guarded } from './guard';
import { pickRuns } from './pickRun';

export interface LogArtifactOptions {
  runId?: string;
  artifactPath?: string;
}

interface UploadItem {
  file: string;
  artifactPath: string;
  size: number;
}

/** Files to upload: a folder keeps its own name and inner layout under the chosen sub-path. */
function collect(uris: vscode.Uri[], subPath: string): UploadItem[] {
  const items: UploadItem[] = [];
  const walk = (file: string, dest: string): void => {
    const st = fs.statSync(file);
    if (st.isDirectory()) {
      for (const name of fs.readdirSync(file).sort()) walk(path.join(file, name), [dest, name].filter(Boolean).join('/'));
    } else if (st.isFile()) {
      items.push({ file, artifactPath: path.posix.dirname(dest) === '.' ? '' : path.posix.dirname(dest), size: st.size });
    }
  };
  for (const uri of uris) {
    if (uri.scheme !== 'file') throw new Error(`${uri.toString()} is not a local file; save it to disk first.`);
    walk(uri.fsPath, [subPath, path.basename(uri.fsPath)].filter(Boolean).join('/'));
  }
  return items;
}

function fileUploadPath(item: UploadItem): string {
  return [item.artifactPath, path.basename(item.file)].filter(Boolean).join('/');
}

export async function uploadToRun(service: TrackingService, run: WireRun, uris: vscode.Uri[], subPath: string): Promise<string[]> {
  const items = collect(uris, subPath.replace(/^\/+|\/+$/g, ''));
  if (items.length === 0) throw new Error('Nothing to upload: the selection has no files.');
  const total = items.reduce((n, i) => n + i.size, 0);
  const uri = run.info.artifact_uri ?? '';
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Logging ${items.length} file(s) to ${runLabel(run)}`, cancellable: false },
    async (progress) => {
      let last = 0;
      for (const item of items) {
        progress.report({ message: fileUploadPath(item) });
        await uploadArtifact(service.client.baseUrl, uri, fileUploadPath(item), item.file, (n) => {
          if (total > 0) {
            const inc = (n / total) * 100;
            last += inc;
            progress.report({ increment: inc });
          }
        });
      }
      return last;
    },
  );
  return items.map(fileUploadPath);
}

export function registerLogArtifact(context: vscode.ExtensionContext, service: TrackingService, log: Logger, afterUpload: (runId: string) => void): void {
  const command = guarded(log, 'Log Artifact to Run', async (arg?: unknown, all?: unknown, opts?: LogArtifactOptions) => {
    await service.ready();
    let uris: vscode.Uri[] = Array.isArray(all) && all.every((u) => u instanceof vscode.Uri) && all.length ? (all as vscode.Uri[]) : arg instanceof vscode.Uri ? [arg] : [];
    if (uris.length === 0 && vscode.window.activeTextEditor) {
      const doc = vscode.window.activeTextEditor.document;
      if (doc.isDirty) await doc.save();
      uris = [doc.uri];
    }
    if (uris.length === 0) {
      uris = (await vscode.window.showOpenDialog({ canSelectMany: true, canSelectFiles: true, canSelectFolders: true, title: 'Log Artifact to Run' })) ?? [];
      if (uris.length === 0) return undefined;
    }
    const run = opts?.runId ? await service.client.getRun(opts.runId) : (await pickRuns(service.client, { title: `Log ${uris.length === 1 ? path.basename(uris[0]!.fsPath) : `${uris.length} items`} to run…`, canPickMany: false }))?.[0];
    if (!run) return undefined;
    let subPath = opts?.artifactPath;
    if (subPath === undefined) {
      subPath = await vscode.window.showInputBox({ title: `Artifact path inside ${runLabel(run)} (optional)`, placeHolder: 'e.g. reports — leave empty for the root', validateInput: (v) => (/(^|\/)\.\.(\/|$)/.test(v) ? "'..' is not allowed" : undefined) });
      if (subPath === undefined) return undefined;
    }
    const uploaded = await uploadToRun(service, run, uris, subPath);
    afterUpload(run.info.run_id);
    void vscode.window.showInformationMessage(`Runlens: logged ${uploaded.length} file(s) to ${runLabel(run)}.`, 'Open Run').then((choice) => {
      if (choice) void vscode.commands.executeCommand('runlens.openRun', run.info.run_id);
    });
    return uploaded;
  });
  context.subscriptions.push(vscode.commands.registerCommand('runlens.logArtifact', command));
}

/** Drop files from the Explorer (or the OS) onto a run to log them as its artifacts. */
export class RunDropController implements vscode.TreeDragAndDropController<ExplorerNode> {
  readonly dropMimeTypes = ['text/uri-list'];
  readonly dragMimeTypes: string[] = [];

  constructor(
    private readonly service: TrackingService,
    private readonly log: Logger,
    private readonly afterUpload: (runId: string) => void,
  ) {}

  async handleDrop(target: ExplorerNode | undefined, data: vscode.DataTransfer): Promise<void> {
    if (!isRunNode(target)) {
      void vscode.window.showInformationMessage('Runlens: drop files onto a run to log them as its artifacts.');
      return;
    }
    if (sourceOf(target) !== undefined) {
      void vscode.window.showInformationMessage('Runlens: this run is in a read-only MLflow store; import the store into Runlens to log artifacts to its runs.');
      return;
    }
    const list = await data.get('text/uri-list')?.asString();
    const uris = (list ?? '')
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => vscode.Uri.parse(l));
    if (uris.length === 0) return;
    await guarded(this.log, 'Log Artifact to Run', async () => {
      const run = await this.service.client.getRun(target.run.info.run_id);
      const uploaded = await uploadToRun(this.service, run, uris, '');
      this.afterUpload(run.info.run_id);
      void vscode.window.showInformationMessage(`Runlens: logged ${uploaded.length} file(s) to ${runLabel(run)}.`);
    })();
  }
}
