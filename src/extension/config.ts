/** The extension's settings, read in one place (names match package.json `contributes.configuration`). */
import * as path from 'node:path';
import * as vscode from 'vscode';

const SECTION = 'runlens';

export interface RunlensSettings {
  storePath: string;
  port: number;
  injectEnvironment: boolean;
  defaultExperiment: string;
  autoRevealNewRuns: boolean;
  descriptionMetric: string;
  pageSize: number;
  pythonPath: string;
}

export function readSettings(): RunlensSettings {
  const c = vscode.workspace.getConfiguration(SECTION);
  return {
    storePath: c.get<string>('storePath', 'mlruns') || 'mlruns',
    port: c.get<number>('server.port', 0),
    injectEnvironment: c.get<boolean>('terminal.injectEnvironment', true),
    defaultExperiment: c.get<string>('defaultExperiment', ''),
    autoRevealNewRuns: c.get<boolean>('explorer.autoRevealNewRuns', true),
    descriptionMetric: c.get<string>('explorer.descriptionMetric', ''),
    pageSize: Math.min(Math.max(c.get<number>('explorer.pageSize', 200), 10), 1000),
    pythonPath: c.get<string>('python.path', ''),
  };
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

export function storeRoot(settings: RunlensSettings): string | undefined {
  const ws = workspaceRoot();
  if (!ws) return undefined;
  return path.isAbsolute(settings.storePath) ? settings.storePath : path.join(ws, settings.storePath);
}
