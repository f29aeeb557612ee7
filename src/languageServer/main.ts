/**
 * The Runlens language server (`node dist/languageServer.js --stdio`): in Python files, checks,
 * completes and explains MLflow filter strings and logged keys from what the tracking server
 * holds. The tracking URI comes from `initializationOptions.trackingUri`, else MLFLOW_TRACKING_URI;
 * the store is read only over REST. Diagnostics are published with source `runlens`.
 */
import { createConnection, ProposedFeatures, TextDocuments, TextDocumentSyncKind, type InitializeParams } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { KeyCache, scoped, type StoreIndex } from './keyCache';
import { findCalls, stringAt, type PyScan, type PyStringArg } from './pythonScan';
import { completionsFor, diagnosticsFor, filterHover } from './filterFeatures';
import { artifactHover, logKeyHover, startRunLenses } from './logFeatures';
import { experimentRefDiagnostics } from './experimentRefs';

interface InitOptions {
  trackingUri?: string;
  codeLens?: boolean;
}

const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);
const scans = new Map<string, { version: number; scan: PyScan }>();
let codeLensEnabled = true;

const log = (line: string): void => connection.console.log(line);
const cache = new KeyCache(undefined, () => republishAll(), log);

function scanOf(doc: TextDocument): PyScan {
  const hit = scans.get(doc.uri);
  if (hit && hit.version === doc.version) return hit.scan;
  const scan = findCalls(doc.getText());
  scans.set(doc.uri, { version: doc.version, scan });
  return scan;
}

const isPython = (doc: TextDocument): boolean => doc.languageId === 'python' || doc.uri.endsWith('.py');

/** A string's runs: the experiments its call names (or the file's set_experiment names), else the store. */
const scopeOf = (index: StoreIndex | undefined) => (arg: Pick<PyStringArg, 'experiment'>) => scoped(index, arg.experiment);

function publish(doc: TextDocument): void {
  if (!isPython(doc)) return;
  const scan = scanOf(doc);
  const index = cache.peek();
  const diagnostics = [...diagnosticsFor(doc, scan, scopeOf(index)), ...experimentRefDiagnostics(doc, scan, index)].sort((a, b) => doc.offsetAt(a.range.start) - doc.offsetAt(b.range.start));
  void connection.sendDiagnostics({ uri: doc.uri, version: doc.version, diagnostics });
}

function republishAll(): void {
  for (const doc of documents.all()) publish(doc);
  if (codeLensEnabled) void connection.sendRequest('workspace/codeLens/refresh').catch(() => undefined);
}

connection.onInitialize((params: InitializeParams) => {
  const opts = (params.initializationOptions ?? {}) as InitOptions;
  codeLensEnabled = opts.codeLens !== false;
  cache.setTrackingUri(opts.trackingUri || process.env.MLFLOW_TRACKING_URI);
  void cache.get().then(() => republishAll());
  return {
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      completionProvider: { triggerCharacters: ['.', "'", '"', ' ', '`', '('] },
      hoverProvider: true,
      ...(codeLensEnabled ? { codeLensProvider: { resolveProvider: false } } : {}),
    },
    serverInfo: { name: 'runlens-filters' },
  };
});

// The extension tells us when the workspace's server changed (attached elsewhere, restarted).
connection.onNotification('runlens/setTrackingUri', (p: { trackingUri?: string }) => {
  cache.setTrackingUri(p.trackingUri || process.env.MLFLOW_TRACKING_URI);
  void cache.get().then(() => republishAll());
});

documents.onDidChangeContent((e) => publish(e.document));
documents.onDidClose((e) => {
  scans.delete(e.document.uri);
  void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
});

connection.onCompletion(async (p) => {
  const doc = documents.get(p.textDocument.uri);
  if (!doc || !isPython(doc)) return [];
  const offset = doc.offsetAt(p.position);
  const arg = stringAt(scanOf(doc), offset);
  if (!arg) return [];
  return completionsFor(doc, arg, offset, scoped(await cache.get(), arg.experiment));
});

connection.onHover(async (p) => {
  const doc = documents.get(p.textDocument.uri);
  if (!doc || !isPython(doc)) return null;
  const offset = doc.offsetAt(p.position);
  const scan = scanOf(doc);
  const artifact = scan.artifacts.find((a) => offset >= a.token.start && offset < a.token.end);
  if (artifact) return artifactHover(artifact, scoped(await cache.get(), artifact.experiment), (runId, dir) => cache.listArtifacts(runId, dir));
  const arg = stringAt(scan, offset);
  if (!arg) return null;
  const snapshot = scoped(await cache.get(), arg.experiment);
  return (arg.use.role === 'logKey' ? logKeyHover(arg, snapshot) : filterHover(arg, offset, snapshot)) ?? null;
});

connection.onCodeLens(async (p) => {
  const doc = documents.get(p.textDocument.uri);
  if (!doc || !isPython(doc) || !codeLensEnabled) return [];
  const path = p.textDocument.uri.startsWith('file://') ? decodeURIComponent(new URL(p.textDocument.uri).pathname) : undefined;
  return startRunLenses(doc, path, scanOf(doc), await cache.get());
});

connection.onShutdown(() => cache.dispose());

documents.listen(connection);
connection.listen();
