/** Commands on experiments: new, rename, delete/restore, default for terminals; explorer filter/sort. */
import * as vscode from 'vscode';
import type { Logger } from '../../domain/logger';
import type { TrackingService } from '../backend/trackingService';
import { TrackingApiError } from '../../client/trackingClient';
import { readSettings, updateSetting } from '../config';
import { DEFAULT_SORT, type ExperimentsTree } from '../tree/experimentsTree';
import { pickSort } from './sortRuns';
import { isExperimentNode, type LoadMoreNode } from '../tree/nodes';
import { guarded } from './guard';
import { checkFilter, describeDiagnostic } from '../../filter/filterCheck';
import { VOCABULARIES } from '../../filter/vocabulary';
import type { ViewPanels } from '../webviews/viewPanels';

async function pickExperiment(service: TrackingService, arg: unknown, title: string, viewType: 'ACTIVE_ONLY' | 'DELETED_ONLY' = 'ACTIVE_ONLY'): Promise<{ id: string; name: string } | undefined> {
  if (isExperimentNode(arg)) return { id: arg.experiment.experiment_id, name: arg.experiment.name };
  await service.ready();
  const list = await service.client.listExperiments(viewType);
  const picked = await vscode.window.showQuickPick(
    list.map((e) => ({ label: e.name, description: `id ${e.experiment_id}`, id: e.experiment_id })),
    { title },
  );
  return picked ? { id: picked.id, name: picked.label } : undefined;
}

/**
 * Validates a filter as you type: first with the filter parser and the runs vocabulary (every
 * problem with its column and a did-you-mean: `accuracy > 0.9` → `metrics.accuracy`), then — when
 * those find nothing — against the server, which has the last word.
 */
async function filterError(service: TrackingService, filter: string): Promise<vscode.InputBoxValidationMessage | string | undefined> {
  if (!filter.trim()) return undefined;
  const { diagnostics } = checkFilter(VOCABULARIES.runs, filter);
  if (diagnostics.length) {
    const errors = diagnostics.filter((d) => d.severity === 'error');
    const text = diagnostics.map(describeDiagnostic).join(' · ');
    return { message: text, severity: errors.length ? vscode.InputBoxValidationSeverity.Error : vscode.InputBoxValidationSeverity.Warning };
  }
  try {
    await service.client.searchRuns({ experimentIds: ['0'], filter, maxResults: 1 });
    return undefined;
  } catch (err) {
    return err instanceof TrackingApiError && err.status === 400 ? err.message : undefined;
  }
}

/** The found store (its path) the clicked or selected experiments are in; undefined: the workspace store. */
function experimentSource(arg: unknown, selection: unknown): string | undefined {
  const selected = Array.isArray(selection) ? selection.find(isExperimentNode) : undefined;
  return (selected ?? (isExperimentNode(arg) ? arg : undefined))?.source;
}

export function registerExperimentCommands(context: vscode.ExtensionContext, service: TrackingService, tree: ExperimentsTree, view: vscode.TreeView<unknown>, log: Logger, views: ViewPanels): void {
  const reg = (id: string, title: string, fn: (...args: unknown[]) => Promise<unknown>): void => {
    context.subscriptions.push(vscode.commands.registerCommand(id, guarded(log, title, fn)));
  };
  const updateViewMessage = (): void => {
    const parts = [tree.filter ? `Filter: ${tree.filter}` : '', tree.sort !== DEFAULT_SORT ? `Sorted by ${tree.sort.label}` : '', tree.showDeleted ? 'Showing deleted' : ''].filter(Boolean);
    view.message = parts.join(' · ') || undefined;
    void vscode.commands.executeCommand('setContext', 'runlens.explorerFiltered', Boolean(tree.filter));
  };

  reg('runlens.newExperiment', 'New Experiment', async () => {
    await service.ready();
    const name = await vscode.window.showInputBox({ title: 'New Experiment', placeHolder: 'experiment name', validateInput: (v) => (v.trim() ? undefined : 'A name is required') });
    if (!name) return undefined;
    return service.client.createExperiment(name.trim());
  });

  /** Experiments from a tree selection, an id list (tests, other commands) or a quick pick. */
  const experimentsFor = async (arg: unknown, selection: unknown, title: string): Promise<{ id: string; name: string }[]> => {
    await service.ready();
    const selected = Array.isArray(selection) ? selection.filter(isExperimentNode) : [];
    let exps = selected.length ? selected.map((n) => ({ id: n.experiment.experiment_id, name: n.experiment.name })) : isExperimentNode(arg) ? [{ id: arg.experiment.experiment_id, name: arg.experiment.name }] : [];
    if (Array.isArray(arg) && arg.every((x) => typeof x === 'string')) exps = (arg as string[]).map((id) => ({ id, name: id }));
    if (exps.length === 0) {
      const list = await service.client.listExperiments();
      const picked = await vscode.window.showQuickPick(list.map((e) => ({ label: e.name, description: `id ${e.experiment_id}`, id: e.experiment_id })), { title, canPickMany: true });
      exps = (picked ?? []).map((p) => ({ id: p.id, name: p.label }));
    }
    return exps;
  };

  reg('runlens.openRunsTable', 'Open Runs Table', async (arg, selection) => {
    const exps = await experimentsFor(arg, selection, 'Open Runs Table');
    if (exps.length === 0) return undefined;
    // The sidebar's filter and sort carry over; otherwise the table's remembered layout applies.
    const carried = { ...(tree.filter ? { filter: tree.filter } : {}), ...(tree.sort !== DEFAULT_SORT ? { orderBy: tree.sort.orderBy } : {}) };
    views.show('runs', { experimentIds: exps.map((e) => e.id), ...carried }, exps.length === 1 ? `Runs: ${exps[0]!.name}` : `Runs: ${exps.length} experiments`, experimentSource(arg, selection));
    return exps.map((e) => e.id);
  });

  reg('runlens.openTraces', 'Open Traces', async (arg, selection) => {
    const exps = await experimentsFor(arg, selection, 'Open Traces');
    if (exps.length === 0) return undefined;
    views.show('traces', { experimentIds: exps.map((e) => e.id) }, exps.length === 1 ? `Traces: ${exps[0]!.name}` : `Traces: ${exps.length} experiments`, experimentSource(arg, selection));
    return exps.map((e) => e.id);
  });

  reg('runlens.openEvalDatasets', 'Open Evaluation Datasets', async (arg, selection) => {
    const exps = await experimentsFor(arg, selection, 'Open Evaluation Datasets');
    if (exps.length === 0) return undefined;
    views.show('datasets', { experimentIds: exps.map((e) => e.id) }, exps.length === 1 ? `Datasets: ${exps[0]!.name}` : `Datasets: ${exps.length} experiments`, experimentSource(arg, selection));
    return exps.map((e) => e.id);
  });

  // Spend, budgets, violations and the audit trail of the workspace store (its server's governance file).
  reg('runlens.openGovernance', 'Open Governance', async () => {
    views.show('governance', {}, 'Governance');
    return true;
  });

  reg('runlens.openTrace', 'Open Trace', async (arg) => {
    const traceId = typeof arg === 'string' && arg ? arg : await vscode.window.showInputBox({ title: 'Open Trace', placeHolder: 'tr-…', validateInput: (v) => (v.trim() ? undefined : 'A trace id is required') });
    if (!traceId) return undefined;
    views.show('trace', { traceId: traceId.trim() }, `Trace ${traceId.trim().slice(0, 11)}…`);
    return traceId.trim();
  });

  reg('runlens.renameExperiment', 'Rename Experiment', async (arg) => {
    const exp = await pickExperiment(service, arg, 'Rename Experiment');
    if (!exp) return;
    const name = await vscode.window.showInputBox({ title: 'Rename Experiment', value: exp.name, validateInput: (v) => (v.trim() ? undefined : 'A name is required') });
    if (!name || name === exp.name) return;
    await service.client.renameExperiment(exp.id, name.trim());
    if (readSettings().defaultExperiment === exp.name) await updateSetting('defaultExperiment', name.trim());
  });

  reg('runlens.deleteExperiment', 'Delete Experiment', async (arg) => {
    const exp = await pickExperiment(service, arg, 'Delete Experiment');
    if (!exp) return;
    const ok = await vscode.window.showWarningMessage(`Delete experiment "${exp.name}" and hide its runs? It can be restored from "Show Deleted".`, { modal: true }, 'Delete');
    if (ok === 'Delete') await service.client.deleteExperiment(exp.id);
  });

  reg('runlens.restoreExperiment', 'Restore Experiment', async (arg) => {
    const exp = await pickExperiment(service, arg, 'Restore Experiment', 'DELETED_ONLY');
    if (exp) await service.client.restoreExperiment(exp.id);
  });

  reg('runlens.setDefaultExperiment', 'Set Default Experiment', async (arg) => {
    const exp = await pickExperiment(service, arg, 'Default Experiment for Terminals');
    if (!exp) return;
    await updateSetting('defaultExperiment', exp.name);
    void vscode.window.showInformationMessage(`Runlens: new terminals log to "${exp.name}" unless the script calls mlflow.set_experiment.`);
  });

  reg('runlens.filterRuns', 'Filter Runs', async () => {
    await service.ready();
    const value = await vscode.window.showInputBox({
      title: 'Filter Runs (MLflow filter syntax)',
      value: tree.filter,
      placeHolder: "e.g. metrics.accuracy > 0.9 and params.model = 'rf' and attributes.status = 'FINISHED'",
      prompt: 'Empty clears the filter.',
      validateInput: (v) => filterError(service, v),
    });
    if (value === undefined) return;
    tree.filter = value.trim();
    updateViewMessage();
    tree.refreshAll();
  });

  reg('runlens.clearFilter', 'Clear Filter', async () => {
    tree.filter = '';
    updateViewMessage();
    tree.refreshAll();
  });

  reg('runlens.sortRuns', 'Sort Runs', async () => {
    await service.ready();
    const sort = await pickSort(service.client, tree.knownExperiments().map((e) => e.experiment_id));
    if (!sort) return;
    tree.sort = sort;
    updateViewMessage();
    tree.refreshAll();
  });

  reg('runlens.toggleShowDeleted', 'Show Deleted', async () => {
    tree.showDeleted = !tree.showDeleted;
    updateViewMessage();
    tree.refreshAll();
  });

  reg('runlens.refresh', 'Refresh', async () => tree.refreshAll());
  reg('runlens.loadMoreRuns', 'Load More Runs', async (node) => tree.loadMore(node as LoadMoreNode));
}
