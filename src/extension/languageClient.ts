/**
 * Starts the filter language server (dist/languageServer.js, its own Node process over stdio) for
 * Python files, telling it the workspace server's URL — and the new one whenever the server
 * restarts or this window attaches to another window's server.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import type { TrackingService } from './backend/trackingService';

const CODE_LENS = 'languageServer.codeLens';

function codeLensEnabled(): boolean {
  return vscode.workspace.getConfiguration('runlens').get<boolean>(CODE_LENS, true);
}

export function startLanguageClient(context: vscode.ExtensionContext, service: TrackingService, log: vscode.LogOutputChannel): void {
  const module = context.asAbsolutePath(path.join('dist', 'languageServer.js'));
  const serverOptions: ServerOptions = { run: { module, transport: TransportKind.stdio }, debug: { module, transport: TransportKind.stdio } };
  let client: LanguageClient | undefined;
  let sentUrl: string | undefined;

  const start = async (): Promise<void> => {
    sentUrl = service.state.kind === 'ready' ? service.url : undefined;
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ language: 'python' }],
      initializationOptions: { trackingUri: sentUrl, codeLens: codeLensEnabled() },
      outputChannel: log,
      // Hovers link to a run's page and to the charts of recent runs: only those commands run from them.
      markdown: { isTrusted: { enabledCommands: ['runlens.showRunPage', 'runlens.showCharts'] } },
    };
    client = new LanguageClient('runlens.filters', 'Runlens filters', serverOptions, clientOptions);
    try {
      await client.start();
    } catch (err) {
      log.warn(`language server did not start: ${(err as Error).message}`);
    }
  };
  const restart = async (): Promise<void> => {
    const old = client;
    client = undefined;
    await old?.stop().catch(() => undefined);
    await start();
  };

  void start();
  context.subscriptions.push(
    service.onDidChangeState((state) => {
      const url = state.kind === 'ready' ? service.url : undefined;
      if (url === sentUrl || !client) return;
      sentUrl = url;
      // Not a restart: the server swaps its key cache and re-checks the open documents.
      if (client.isRunning()) void client.sendNotification('runlens/setTrackingUri', { trackingUri: url });
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(`runlens.${CODE_LENS}`)) void restart();
    }),
    { dispose: () => void client?.stop().catch(() => undefined) },
  );
}
