/** What `activate` returns: the extension's live parts, for tests and for other extensions. */
import type * as vscode from 'vscode';
import type { TrackingService } from './backend/trackingService';
import type { ExplorerNode } from './tree/nodes';
import type { SourcesTree } from './tree/sourcesTree';
import type { StoreSources } from './sources/storeSources';
import type { RemoteServers } from './sources/remoteSources';
import type { ModelsTree } from './tree/modelsTree';
import type { LaunchRunner } from './terminal/launchRunner';
import type { StatusBar } from './statusBar';
import type { RunDropController } from './commands/logArtifact';

export interface RunlensApi {
  readonly service: TrackingService;
  /** MLflow stores found in the workspace, each served read-only. */
  readonly sources: StoreSources;
  /** Team MLflow servers (`runlens.remoteServers`), shown as sources. */
  readonly remotes: RemoteServers;
  readonly experiments: SourcesTree;
  /** The explorer's tree view (selection, reveal). */
  readonly explorer: vscode.TreeView<ExplorerNode>;
  readonly models: ModelsTree;
  readonly launches: LaunchRunner;
  readonly statusBar: StatusBar;
  /** Handles files dropped onto runs in the explorer. */
  readonly drop: RunDropController;
  /** Wall time of `activate` itself (the server starts after it returns). */
  readonly activationMs: number;
}
