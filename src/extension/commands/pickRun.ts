/** Quick picks for runs: active runs first, then the most recent, with experiment and start time. */
import * as vscode from 'vscode';
import type { TrackingClient } from '../../client/trackingClient';
import type { WireRun } from '../../client/wireTypes';
import { runDuration, runLabel } from '../../ui/runFormat';

interface RunPickItem extends vscode.QuickPickItem {
  run: WireRun;
}

export async function recentRuns(client: TrackingClient, limit = 50): Promise<{ runs: WireRun[]; experimentNames: Map<string, string> }> {
  const experiments = await client.listExperiments();
  const experimentNames = new Map(experiments.map((e) => [e.experiment_id, e.name]));
  const ids = experiments.map((e) => e.experiment_id);
  if (ids.length === 0) return { runs: [], experimentNames };
  const [active, recent] = await Promise.all([
    client.searchRuns({ experimentIds: ids, filter: "attributes.status = 'RUNNING'", orderBy: ['attributes.start_time DESC'], maxResults: limit }),
    client.searchRuns({ experimentIds: ids, orderBy: ['attributes.start_time DESC'], maxResults: limit }),
  ]);
  const seen = new Set<string>();
  const runs = [...active.runs, ...recent.runs].filter((r) => !seen.has(r.info.run_id) && seen.add(r.info.run_id));
  return { runs, experimentNames };
}

export async function pickRuns(client: TrackingClient, opts: { title: string; canPickMany: boolean; exclude?: string[] }): Promise<WireRun[] | undefined> {
  const { runs, experimentNames } = await recentRuns(client);
  const items: RunPickItem[] = runs
    .filter((r) => !opts.exclude?.includes(r.info.run_id))
    .map((run) => ({
      run,
      label: `${run.info.status === 'RUNNING' ? '$(sync~spin) ' : ''}${runLabel(run)}`,
      description: `${experimentNames.get(run.info.experiment_id) ?? run.info.experiment_id} · ${run.info.start_time ? new Date(run.info.start_time).toLocaleString() : ''}`,
      detail: `${run.info.status.toLowerCase()} · ${runDuration(run) || '-'} · ${run.info.run_id}`,
    }));
  if (items.length === 0) {
    void vscode.window.showInformationMessage('Runlens: there are no runs yet. Run a script that uses mlflow in a terminal first.');
    return undefined;
  }
  if (opts.canPickMany) {
    const picked = await vscode.window.showQuickPick(items, { title: opts.title, canPickMany: true, matchOnDescription: true, matchOnDetail: true });
    return picked?.map((p) => p.run);
  }
  const picked = await vscode.window.showQuickPick(items, { title: opts.title, matchOnDescription: true, matchOnDetail: true });
  return picked ? [picked.run] : undefined;
}
