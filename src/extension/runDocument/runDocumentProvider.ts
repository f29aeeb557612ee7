/**
 * Read-only virtual documents for runs (`runlens-run:/<run id>/<name>.run`) and comparisons
 * (`runlens-compare:/<id>,<id>,….md`). Documents re-render when the server reports writes to
 * their runs, so a diff editor open on a training run stays current.
 */
import * as vscode from 'vscode';
import type { StoreHandle, StoreSources } from '../sources/storeSources';
import { formatComparison } from './compareFormat';
import { formatRunDocument } from '../../ui/runFormat';
import { KeyedThrottle } from '../throttle';

export const RUN_SCHEME = 'runlens-run';
export const COMPARE_SCHEME = 'runlens-compare';

function safeName(s: string): string {
  return s.replace(/[\\/:*?"<>|#%\u0000-\u001f]/g, '_').slice(0, 80) || 'run';
}

/** `source`: the found store's path when the run is in one (the query names it), else the workspace store. */
export function runDocumentUri(runId: string, name: string, source?: string): vscode.Uri {
  return vscode.Uri.from({ scheme: RUN_SCHEME, path: `/${runId}/${safeName(name)}.run`, ...(source ? { query: new URLSearchParams({ source }).toString() } : {}) });
}

export function compareDocumentUri(runIds: string[], source?: string): vscode.Uri {
  return vscode.Uri.from({ scheme: COMPARE_SCHEME, path: `/${runIds.join(',')}.md`, ...(source ? { query: new URLSearchParams({ source }).toString() } : {}) });
}

function runIdsOf(uri: vscode.Uri): string[] {
  const first = uri.path.split('/').filter(Boolean)[0] ?? '';
  return (uri.scheme === COMPARE_SCHEME ? first.replace(/\.md$/, '') : first).split(',').filter(Boolean);
}

export class RunDocumentProvider implements vscode.TextDocumentContentProvider {
  private readonly emitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.emitter.event;
  private readonly throttle = new KeyedThrottle();

  constructor(
    private readonly workspace: StoreHandle,
    private readonly sources: StoreSources,
  ) {}

  private storeOf(uri: vscode.Uri): StoreHandle {
    const source = new URLSearchParams(uri.query).get('source');
    if (!source) return this.workspace;
    const found = this.sources.get(source);
    if (!found) throw new Error(`${source} is no longer among the workspace's MLflow stores.`);
    return found;
  }

  /** Re-renders open documents that show `runId` (at most twice a second while a run logs). */
  runChanged(runId: string): void {
    for (const doc of vscode.workspace.textDocuments) {
      if ((doc.uri.scheme === RUN_SCHEME || doc.uri.scheme === COMPARE_SCHEME) && runIdsOf(doc.uri).includes(runId)) {
        this.throttle.schedule(doc.uri.toString(), 500, () => this.emitter.fire(doc.uri));
      }
    }
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const ids = runIdsOf(uri);
    try {
      const store = this.storeOf(uri);
      await store.ready();
      const client = store.client;
      if (uri.scheme === COMPARE_SCHEME) return formatComparison(await Promise.all(ids.map((id) => client.getRun(id))));
      const run = await client.getRun(ids[0] ?? '');
      const [experiment, listing] = await Promise.all([
        client.getExperiment(run.info.experiment_id).catch(() => undefined),
        client.listArtifactsRecursive(run.info.run_id).catch(() => ({ files: [], truncated: false })),
      ]);
      return formatRunDocument({ run, experimentName: experiment?.name ?? run.info.experiment_id, artifacts: listing.files, artifactsTruncated: listing.truncated });
    } catch (err) {
      return `# Could not load ${ids.join(', ')}\n\n${err instanceof Error ? err.message : String(err)}\n`;
    }
  }

  dispose(): void {
    this.throttle.dispose();
    this.emitter.dispose();
  }
}

