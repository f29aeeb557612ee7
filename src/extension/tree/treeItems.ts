/** How experiments and runs look in the explorer: icons, descriptions, tooltips, context values. */
import * as vscode from 'vscode';
import type { WireExperiment, WireRun } from '../../client/wireTypes';
import { formatValue, isoTime, latestMetric, oneLine, runDuration, runLabel } from '../../ui/runFormat';

const STATUS_ICONS: Record<string, vscode.ThemeIcon> = {
  RUNNING: new vscode.ThemeIcon('sync~spin', new vscode.ThemeColor('charts.blue')),
  SCHEDULED: new vscode.ThemeIcon('clock'),
  FINISHED: new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed')),
  FAILED: new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed')),
  KILLED: new vscode.ThemeIcon('circle-slash', new vscode.ThemeColor('disabledForeground')),
};

const TOOLTIP_ROWS = 15;

function mdEscape(s: string): string {
  return oneLine(s).replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}

function table(title: string, rows: [string, string][]): string {
  if (rows.length === 0) return '';
  const shown = rows.slice(0, TOOLTIP_ROWS).map(([k, v]) => `| ${mdEscape(k)} | ${mdEscape(v.length > 80 ? `${v.slice(0, 80)}…` : v)} |`);
  const more = rows.length > TOOLTIP_ROWS ? `\n\n_…and ${rows.length - TOOLTIP_ROWS} more_` : '';
  return `\n\n**${title}**\n\n| | |\n|---|---|\n${shown.join('\n')}${more}`;
}

export function runTooltip(run: WireRun): vscode.MarkdownString {
  const md = new vscode.MarkdownString();
  md.supportThemeIcons = true;
  const { info } = run;
  md.appendMarkdown(`**${mdEscape(runLabel(run))}** — ${info.status}${info.lifecycle_stage === 'deleted' ? ' (deleted)' : ''}\n\n`);
  md.appendMarkdown(`\`${info.run_id}\` · started ${isoTime(info.start_time)} · ${runDuration(run) || 'no duration'}`);
  md.appendMarkdown(table('Parameters', (run.data.params ?? []).map((p) => [p.key, p.value])));
  md.appendMarkdown(table('Latest metrics', (run.data.metrics ?? []).map((m) => [m.key, `${formatValue(m.value)} (step ${m.step})`])));
  md.appendMarkdown(table('Tags', (run.data.tags ?? []).filter((t) => !t.key.startsWith('mlflow.')).map((t) => [t.key, t.value])));
  return md;
}

export function runDescription(run: WireRun, metricKey: string): string {
  if (metricKey) {
    const m = latestMetric(run, metricKey);
    if (m) return `${metricKey} ${formatValue(m.value)}`;
  }
  return runDuration(run);
}

export function runContextValue(run: WireRun): string {
  return `runlens.run;${run.info.lifecycle_stage === 'deleted' ? 'deleted' : 'active'};${run.info.status.toLowerCase()}`;
}

export function runTreeItem(run: WireRun, hasLoadedChildren: boolean, metricKey: string): vscode.TreeItem {
  const item = new vscode.TreeItem(runLabel(run), hasLoadedChildren ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
  item.id = `run:${run.info.run_id}`;
  item.description = runDescription(run, metricKey);
  item.tooltip = runTooltip(run);
  item.iconPath = run.info.lifecycle_stage === 'deleted' ? new vscode.ThemeIcon('trash') : (STATUS_ICONS[run.info.status] ?? new vscode.ThemeIcon('circle-outline'));
  item.contextValue = runContextValue(run);
  item.command = { command: 'runlens.openRun', title: 'Open Run', arguments: [run.info.run_id] };
  item.accessibilityInformation = { label: `Run ${runLabel(run)}, ${run.info.status.toLowerCase()}` };
  return item;
}

export function experimentTreeItem(exp: WireExperiment, loadedRuns: number | undefined, more: boolean): vscode.TreeItem {
  const item = new vscode.TreeItem(exp.name, vscode.TreeItemCollapsibleState.Collapsed);
  item.id = `experiment:${exp.experiment_id}`;
  const deleted = exp.lifecycle_stage === 'deleted';
  item.iconPath = new vscode.ThemeIcon(deleted ? 'trash' : 'beaker');
  item.description = deleted ? 'deleted' : loadedRuns !== undefined ? `${loadedRuns}${more ? '+' : ''} run${loadedRuns === 1 && !more ? '' : 's'}` : '';
  item.tooltip = new vscode.MarkdownString(`**${mdEscape(exp.name)}**\n\nid \`${exp.experiment_id}\` · created ${isoTime(exp.creation_time)}\n\n${mdEscape(exp.artifact_location ?? '')}`);
  item.contextValue = `runlens.experiment;${deleted ? 'deleted' : 'active'}`;
  return item;
}
