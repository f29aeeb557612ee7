import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunlensApi } from '../../../src/extension/api';
import type { ExplorerNode, RunNode } from '../../../src/extension/tree/nodes';

export const EXTENSION_ID = 'runlens.runlens';

export async function runlens(): Promise<RunlensApi> {
  const ext = vscode.extensions.getExtension<RunlensApi>(EXTENSION_ID);
  if (!ext) throw new Error(`${EXTENSION_ID} is not loaded`);
  const api = ext.isActive ? ext.exports : await ext.activate();
  await api.service.ready();
  return api;
}

export function workspaceDir(): string {
  const ws = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  if (!ws) throw new Error('the test window has no folder open');
  return ws;
}

export function python(): string {
  const p = process.env.RUNLENS_TEST_PYTHON;
  if (!p) throw new Error('RUNLENS_TEST_PYTHON is not set (scripts/vscode-test.js sets it)');
  return p;
}

export function writeScript(name: string, body: string): string {
  const file = path.join(workspaceDir(), name);
  fs.writeFileSync(file, body);
  return file;
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}${lastErr ? ` (last error: ${(lastErr as Error).message})` : ''}`);
}

/** Walks the explorer the way VS Code does: getChildren from the root down, expanding everything. */
export async function treeSnapshot(api: RunlensApi): Promise<{ label: string; depth: number; node: ExplorerNode }[]> {
  const out: { label: string; depth: number; node: ExplorerNode }[] = [];
  const visit = async (node: ExplorerNode | undefined, depth: number): Promise<void> => {
    for (const child of await api.experiments.getChildren(node)) {
      const item = api.experiments.getTreeItem(child);
      out.push({ label: typeof item.label === 'string' ? item.label : (item.label?.label ?? ''), depth, node: child });
      if (child.type === 'experiment' || child.type === 'run') await visit(child, depth + 1);
    }
  };
  await visit(undefined, 0);
  return out;
}

export function runNodes(snapshot: { node: ExplorerNode }[]): RunNode[] {
  return snapshot.map((s) => s.node).filter((n): n is RunNode => n.type === 'run');
}

export function resultsDir(): string {
  const dir = process.env.RUNLENS_TEST_RESULTS ?? path.join(workspaceDir(), '.results');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** Appends a measurement line to test-results/vscode/measurements.txt and the mocha log. */
export function report(line: string): void {
  fs.appendFileSync(path.join(resultsDir(), 'measurements.txt'), `${new Date().toISOString()} ${line}\n`);
  console.log(`[mocha]     measured: ${line}`);
}

/** POSTs JSON to the tracking server the way the mlflow client does. */
export async function postJson<T = Record<string, unknown>>(baseUrl: string, route: string, body: unknown): Promise<T> {
  const res = await fetch(`${baseUrl}${route}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const json = (await res.json()) as T;
  if (!res.ok) throw new Error(`${route} answered ${res.status}: ${JSON.stringify(json)}`);
  return json;
}

/** Creates a run through the REST API (as the client does) and returns its id. */
export async function createRun(baseUrl: string, body: { experiment_id: string; run_name?: string; start_time?: number }): Promise<string> {
  return (await postJson<{ run: { info: { run_id: string } } }>(baseUrl, '/api/2.0/mlflow/runs/create', body)).run.info.run_id;
}

/** Runs a script with the real mlflow client against the extension's server, without blocking the host (it serves the requests). */
export function runPython(file: string, trackingUri: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(python(), [file], { cwd: workspaceDir(), env: { ...process.env, MLFLOW_TRACKING_URI: trackingUri } }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${path.basename(file)} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

export { CLI_PATH, runlensServe } from '../../support/runlensServe';
