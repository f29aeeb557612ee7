/** The extension's settings, read in one place (names match package.json `contributes.configuration`). */
import * as vscode from 'vscode';
import { chooseStoreRoot, type StoreRootChoice } from './sources/localStores';
import { parseRemoteServers, type RemoteServerConfig } from './sources/remoteServerConfig';

const SECTION = 'runlens';

export interface RunlensSettings {
  storePath: string;
  port: number;
  injectEnvironment: boolean;
  /** An MLflow server new terminals log to instead of the workspace's own (empty: the workspace's). */
  trackingServer: string;
  defaultExperiment: string;
  autoRevealNewRuns: boolean;
  descriptionMetric: string;
  pageSize: number;
  pythonPath: string;
  /** Further MLflow stores to show read-only (paths or sqlite:/file: URIs, relative to the workspace). */
  mlflowStores: string[];
}

export function readSettings(): RunlensSettings {
  const c = vscode.workspace.getConfiguration(SECTION);
  return {
    storePath: c.get<string>('storePath', 'mlruns') || 'mlruns',
    port: c.get<number>('server.port', 0),
    injectEnvironment: c.get<boolean>('terminal.injectEnvironment', true),
    trackingServer: c.get<string>('terminal.trackingServer', ''),
    defaultExperiment: c.get<string>('defaultExperiment', ''),
    autoRevealNewRuns: c.get<boolean>('explorer.autoRevealNewRuns', true),
    descriptionMetric: c.get<string>('explorer.descriptionMetric', ''),
    pageSize: Math.min(Math.max(c.get<number>('explorer.pageSize', 200), 10), 1000),
    pythonPath: c.get<string>('python.path', ''),
    mlflowStores: (c.get<unknown[]>('mlflowStores', []) ?? []).filter((p): p is string => typeof p === 'string' && p.trim() !== ''),
  };
}

/** The team MLflow servers of `runlens.remoteServers` (no secrets there: see remoteServerConfig.ts). */
export function readRemoteServers(): { servers: RemoteServerConfig[]; skipped: string[] } {
  return parseRemoteServers(vscode.workspace.getConfiguration(SECTION).get<unknown>('remoteServers', []));
}

export async function updateSetting(key: string, value: unknown): Promise<void> {
  await vscode.workspace.getConfiguration(SECTION).update(key, value, vscode.ConfigurationTarget.Workspace);
}

export function affects(e: vscode.ConfigurationChangeEvent, ...keys: string[]): boolean {
  return keys.some((k) => e.affectsConfiguration(`${SECTION}.${k}`));
}

/** The workspace folder that owns the store (the first one), if any. */
export function workspaceRoot(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

/**
 * Runlens's store root for the workspace. The default `mlruns/` is used only while it is missing,
 * empty or Runlens's own, so a legacy MLflow file store of that name is never written into.
 */
export function storeRoot(settings: RunlensSettings): StoreRootChoice | undefined {
  const ws = workspaceRoot();
  if (!ws) return undefined;
  return chooseStoreRoot(ws, settings.storePath);
}
