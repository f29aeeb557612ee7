/** How experiments and runs look in the explorer: icons, descriptions, tooltips, context values. */
import * as vscode from 'vscode';
import type { WireExperiment, WireRun } from '../../client/wireTypes';
import { formatUsd, formatValue, isGovernanceShownTag, isoTime, latestMetric, oneLine, runDuration, runGovernance, runLabel } from '../../ui/runFormat';

const STATUS_ICONS: Record<string, vscode.ThemeIcon> = {
  RUNNING: new vscode.ThemeIcon('sync~spin', new vscode.ThemeColor('charts.blue')),
  SCHEDULED: new vscode.ThemeIcon('clock'),
  FINISHED: new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed')),
  FAILED: new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed')),
  KILLED: new vscode.ThemeIcon('circle-slash', new vscode.ThemeColor('disabledForeground')),
};

/** A tooltip is a glance, not the run page: a few metrics and params, then a link to the rest. */
const TOOLTIP_METRICS = 6;
const TOOLTIP_PARAMS = 6;
const TOOLTIP_TAGS = 4;

function mdEscape(s: string): string {
  return oneLine(s).replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}

function table(title: string, rows: [string, string][], cap: number): { text: string; hidden: number } {
  if (rows.length === 0) return { text: '', hidden: 0 };
  const shown = rows.slice(0, cap).map(([k, v]) => `| ${mdEscape(k)} | ${mdEscape(v.length > 80 ? `${v.slice(0, 80)}…` : v)} |`);
  return { text: `\n\n**${title}**\n\n| | |\n|---|---|\n${shown.join('\n')}`, hidden: Math.max(0, rows.length - cap) };
}

/** Status, duration and the key metrics first (the one the tree sorts or describes by leads), params capped, "more" opens the run page. */
export function runTooltip(run: WireRun, keyMetric = ''): vscode.MarkdownString {
  const md = new vscode.MarkdownString();
  md.supportThemeIcons = true;
  md.isTrusted = { enabledCommands: ['runlens.openRun'] };
  const { info } = run;
  const icon = info.lifecycle_stage === 'deleted' ? 'trash' : STATUS_ICONS[info.status]?.id.replace('~spin', '') ?? 'circle-outline';
  md.appendMarkdown(`$(${icon}) **${info.status.charAt(0)}${info.status.slice(1).toLowerCase()}**${info.lifecycle_stage === 'deleted' ? ' (deleted)' : ''} · ${runDuration(run) || 'no duration'} · **${mdEscape(runLabel(run))}**\n\n`);
  const metrics = [...(run.data.metrics ?? [])].sort((a, b) => Number(b.key === keyMetric) - Number(a.key === keyMetric) || a.key.localeCompare(b.key));
  const m = table('Metrics', metrics.map((x) => [x.key, `${formatValue(x.value)} (step ${x.step})`]), TOOLTIP_METRICS);
  const p = table('Parameters', (run.data.params ?? []).map((x) => [x.key, x.value]), TOOLTIP_PARAMS);
  // A governed server adds the run's cost on read; it and the genops.* attribution get their own line.
  const gov = runGovernance(run.data.tags ?? []);
  if (gov) {
    const parts = [...(gov.costUsd !== undefined ? [`cost **${mdEscape(formatUsd(gov.costUsd))}**`] : []), ...gov.attribution.map(([k, v]) => `${mdEscape(k)} ${mdEscape(v)}`)];
    md.appendMarkdown(`$(law) ${parts.join(' · ')}\n\n`);
  }
  const t = table('Tags', (run.data.tags ?? []).filter((x) => !x.key.startsWith('mlflow.') && !(gov && isGovernanceShownTag(x.key))).map((x) => [x.key, x.value]), TOOLTIP_TAGS);
  md.appendMarkdown(m.text + p.text + t.text);
  const hidden = [m.hidden && `${m.hidden} metrics`, p.hidden && `${p.hidden} params`, t.hidden && `${t.hidden} tags`].filter(Boolean).join(', ');
  const link = `command:runlens.openRun?${encodeURIComponent(JSON.stringify([info.run_id]))}`;
  md.appendMarkdown(`\n\n[${hidden ? `${hidden} more on the run page` : 'Open the run page'}](${link}) · \`${info.run_id}\` · started ${isoTime(info.start_time)}`);
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

/** `context`: shown only because a descendant matches the explorer's filter (dimmed, described so). */
export function runTreeItem(run: WireRun, hasLoadedChildren: boolean, metricKey: string, context = false): vscode.TreeItem {
  const item = new vscode.TreeItem(runLabel(run), hasLoadedChildren ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
  item.id = `run:${run.info.run_id}`;
  item.description = context ? `not matching · ${runDescription(run, metricKey)}` : runDescription(run, metricKey);
  item.tooltip = runTooltip(run, metricKey);
  const status = STATUS_ICONS[run.info.status] ?? new vscode.ThemeIcon('circle-outline');
  item.iconPath = run.info.lifecycle_stage === 'deleted' ? new vscode.ThemeIcon('trash') : context ? new vscode.ThemeIcon(status.id, new vscode.ThemeColor('disabledForeground')) : status;
  item.contextValue = runContextValue(run);
  // A click previews without taking focus from the tree; Enter or a double click opens.
  item.command = { command: 'runlens.previewRun', title: 'Preview Run', arguments: [run.info.run_id] };
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
