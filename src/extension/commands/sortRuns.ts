/** "Sort Runs…": by start time, name, or a metric picked from the keys the store's runs have. */
import * as vscode from 'vscode';
import type { TrackingClient } from '../../client/trackingClient';
import { DEFAULT_SORT, type ExplorerSort } from '../tree/experimentsTree';

/** Recent runs read to learn the metric keys: enough for any sweep, cheap on a big store. */
const SAMPLE_RUNS = 500;

/** Metric keys of the store's recent runs, the most common first (a sweep's score before one run's extra). */
export async function knownMetricKeys(client: TrackingClient, experimentIds: string[]): Promise<{ key: string; runs: number }[]> {
  if (experimentIds.length === 0) return [];
  const page = await client.searchRuns({ experimentIds, orderBy: ['attributes.start_time DESC'], maxResults: SAMPLE_RUNS });
  const count = new Map<string, number>();
  for (const run of page.runs) for (const m of run.data.metrics ?? []) count.set(m.key, (count.get(m.key) ?? 0) + 1);
  return [...count].map(([key, runs]) => ({ key, runs })).sort((a, b) => b.runs - a.runs || a.key.localeCompare(b.key));
}

export function metricSort(key: string, ascending: boolean): ExplorerSort {
  return { label: `${key} ${ascending ? '↑' : '↓'}`, orderBy: [`metrics.\`${key.replace(/`/g, '')}\` ${ascending ? 'ASC' : 'DESC'}`] };
}

/** Asks for a sort; undefined when the user cancels. */
export async function pickSort(client: TrackingClient, experimentIds: string[]): Promise<ExplorerSort | undefined> {
  const options: ExplorerSort[] = [DEFAULT_SORT, { label: 'Start time (oldest first)', orderBy: ['attributes.start_time ASC'] }, { label: 'Name', orderBy: ['attributes.run_name ASC'] }];
  const picked = await vscode.window.showQuickPick([...options.map((o) => ({ label: o.label, sort: o as ExplorerSort | undefined })), { label: 'Metric…', sort: undefined }], { title: 'Sort Runs By' });
  if (!picked) return undefined;
  if (picked.sort) return picked.sort;
  const keys = await knownMetricKeys(client, experimentIds);
  const other = { label: '$(edit) Another metric key…', key: undefined as string | undefined };
  const choice = await vscode.window.showQuickPick([...keys.map((k) => ({ label: k.key, description: `${k.runs} run${k.runs === 1 ? '' : 's'}`, key: k.key as string | undefined })), other], {
    title: 'Sort by metric',
    placeHolder: keys.length ? 'Metric keys of the recent runs' : 'No run has logged a metric yet',
    matchOnDescription: false,
  });
  if (!choice) return undefined;
  const key = choice.key ?? (await vscode.window.showInputBox({ title: 'Sort by metric', placeHolder: 'metric key, e.g. val_loss' }))?.trim();
  if (!key) return undefined;
  const dir = await vscode.window.showQuickPick(['Descending (highest first)', 'Ascending (lowest first)'], { title: `Sort by ${key}` });
  if (!dir) return undefined;
  return metricSort(key, dir.startsWith('A'));
}
