/**
 * "Import into Runlens": copies a found MLflow store into the workspace store through the
 * workspace's own server (`POST /runlens/api/import`), with a progress notification fed by
 * polling the job, then the summary (skipped items go to the output channel).
 */
import * as vscode from 'vscode';
import type { TrackingService } from '../backend/trackingService';
import type { WireImportJob } from '../../client/trackingClient';
import { guarded } from '../commands/guard';
import type { ExperimentsTree } from '../tree/experimentsTree';
import type { StoreSources } from './storeSources';

const POLL_MS = 250;

function progressLine(job: WireImportJob): string {
  const p = job.progress;
  return `${p.runs.toLocaleString()} runs, ${p.metric_points.toLocaleString()} metric points, ${p.artifacts.toLocaleString()} artifacts${p.traces ? `, ${p.traces.toLocaleString()} traces` : ''}`;
}

/** The store path a command was given: a source node from the tree, a path (tests, palette), or a quick pick. */
async function storePathFrom(arg: unknown, sources: StoreSources): Promise<string | undefined> {
  if (typeof arg === 'string' && arg) return arg;
  if (typeof arg === 'object' && arg !== null && (arg as { type?: string }).type === 'source') return (arg as { key: string }).key;
  const found = sources.found();
  if (found.length === 0) {
    void vscode.window.showInformationMessage('Runlens: no MLflow store (mlflow.db, mlruns/) found in this workspace. List others in the "runlens.mlflowStores" setting.');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    found.map((s) => ({ label: s.label, description: s.store.kind, detail: s.store.path, path: s.store.path })),
    { title: 'Import into Runlens: pick an MLflow store' },
  );
  return picked?.path;
}

/** Runs the import and resolves with the finished job; throws with the server's reason when it fails. */
export async function importStore(service: TrackingService, source: string, log: vscode.LogOutputChannel): Promise<WireImportJob> {
  await service.ready();
  const client = service.client;
  const job = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Runlens: importing ${source}`, cancellable: false },
    async (progress) => {
      let current = await client.startImport(source);
      log.info(`import ${current.job_id} of ${source} started`);
      while (current.state === 'queued' || current.state === 'running') {
        await new Promise((r) => setTimeout(r, POLL_MS));
        current = await client.importJob(current.job_id);
        progress.report({ message: progressLine(current) });
      }
      return current;
    },
  );
  if (job.state === 'failed') throw new Error(`The import of ${source} failed: ${job.error ?? 'no reason given'}`);
  log.info(`import of ${source}: ${job.summary ?? progressLine(job)}`);
  for (const line of job.skipped ?? []) log.warn(`import of ${source}: skipped ${line}`);
  return job;
}

export function registerImportCommands(context: vscode.ExtensionContext, service: TrackingService, sources: StoreSources, tree: ExperimentsTree, log: vscode.LogOutputChannel): void {
  context.subscriptions.push(
    vscode.commands.registerCommand(
      'runlens.importStore',
      guarded(log, 'Import into Runlens', async (arg: unknown) => {
        const source = await storePathFrom(arg, sources);
        if (!source) return undefined;
        const job = await importStore(service, source, log);
        tree.refreshAll();
        const skipped = job.skipped?.length ?? 0;
        void vscode.window
          .showInformationMessage(`Runlens: imported ${source}: ${job.summary ?? progressLine(job)}${skipped ? ` (${skipped} item(s) skipped; see the output)` : ''}`, ...(skipped ? ['Show Output'] : []))
          .then((c) => c === 'Show Output' && log.show());
        return job;
      }),
    ),
  );
}
