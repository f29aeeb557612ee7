/**
 * Open a backend + listen: the one way a store gets served (CLI, tests, extension). A Runlens
 * folder is locked and served writable; an existing mlflow.db or legacy mlruns/ is served
 * read-only, in place (see backend/open.ts).
 */
import * as path from 'node:path';
import { openBackend, resolveTarget, type BackendTarget } from '../backend/open';
import type { TrackingStore } from '../backend/api/tracking';
import { silentLogger, type Logger } from '../domain/logger';
import type { LocalStore } from '../store/localStore';
import { startServer, type RunningServer } from './httpServer';
import { startLoopDelayRecorder } from './loopDelay';
import { startWarmUp, type ScratchStore, type WarmUpDeps } from './warmUp';
import { processAlive } from '../store/storeLock';
import type { ImportRunner } from './importJobs';
import { openSource } from '../backend/openSource';
import { formatImportSummary, formatSkipped, importSource } from '../store/import/storeImport';
import type { GovernanceConfig } from '../governance/config';
import type { Governance } from '../governance/governance';
import { governStore } from '../governance/open';

export interface ServeOptions {
  /** A Runlens store folder, an mlflow.db (or sqlite:/// URI) or a legacy mlruns/ folder. */
  root: string;
  host?: string;
  port?: number;
  log: Logger;
  allowedHosts?: string[];
  /** Browser origins besides the server's own that may send requests (see ServerOptions). */
  allowedOrigins?: string[];
  checkpointBytes?: number;
  maxArtifactBytes?: number;
  /** Open a damaged store from what survives (the CLI's --recover; the extension's Recover action). */
  recover?: boolean;
  /** `mlflow-artifacts:` destination when serving an MLflow store (default: mlartifacts beside it). */
  artifactsDestination?: string;
  /** Budgets, policies, the cost ledger and the audit trail (`--governance FILE`). */
  governance?: GovernanceConfig | undefined;
  /** Warm the write path up on a scratch store once listening (see warmUp.ts; the CLI does). */
  warmUp?: boolean;
}

export interface ServingStore {
  target: BackendTarget;
  store: TrackingStore;
  /** The local store when a Runlens folder is served (recovery report, checkpoints, import). */
  local?: LocalStore;
  server: RunningServer;
  /** Set when served with a governance file. */
  governance?: Governance;
  /** Stops accepting requests, flushes and checkpoints the store, releases the lock. */
  stop(): Promise<void>;
}

export async function serveStore(opts: ServeOptions): Promise<ServingStore> {
  const target = resolveTarget(opts.root.startsWith('sqlite:') || opts.root.startsWith('file:') ? opts.root : path.resolve(opts.root));
  const truncate = (process.env.MLFLOW_TRUNCATE_LONG_VALUES ?? 'true').toLowerCase() !== 'false';
  const opened = await openBackend(target, {
    log: opts.log,
    truncateLongValues: truncate,
    checkpointBytes: opts.checkpointBytes,
    maxArtifactBytes: opts.maxArtifactBytes,
    recover: opts.recover,
    artifactsDestination: opts.artifactsDestination,
  });
  try {
    for (const repair of opened.local?.recovery.repairs ?? []) opts.log.warn(repair);
    const local = opened.local;
    // Imports into a served Runlens store run here: the store is locked by this process.
    const importer: ImportRunner | undefined = local
      ? async (source, onProgress) => {
          const from = await openSource(source);
          try {
            const summary = await importSource(from, local.importTarget(), { onProgress });
            return { summary: formatImportSummary(summary), skipped: formatSkipped(summary) };
          } finally {
            await from.close();
          }
        }
      : undefined;
    let backend: TrackingStore = opened.backend;
    let governance: Governance | undefined;
    if (opts.governance) {
      if (target.kind !== 'runlens') opts.log.warn(`--governance is ignored: ${target.kind} stores are served read-only, so there is nothing to charge or refuse.`);
      else {
        const endpoint = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
        if (opts.governance.otel.enabled && !endpoint) opts.log.warn('governance: otel.enabled is set but OTEL_EXPORTER_OTLP_ENDPOINT is not; nothing is exported.');
        // The OpenTelemetry SDK is loaded only when it exports: initialising it is ~15 ms of every start-up.
        const sink = opts.governance.otel.enabled && endpoint ? await import('../governance/otelExport').then(({ otelSink, parseOtlpHeaders }) => otelSink({ endpoint, headers: parseOtlpHeaders(process.env.OTEL_EXPORTER_OTLP_HEADERS), serviceName: process.env.OTEL_SERVICE_NAME })) : undefined;
        const g = await governStore(opened.backend, { config: opts.governance, storeRoot: target.root, log: opts.log, sink, journaled: opened.local });
        backend = g.store;
        governance = g.governance;
      }
    }
    const server = await startServer({ store: backend, log: opts.log, host: opts.host, port: opts.port, allowedHosts: opts.allowedHosts, allowedOrigins: opts.allowedOrigins, importer });
    opened.setUrl(server.url);
    const loopDelay = startLoopDelayRecorder();
    const warm = opts.warmUp && target.kind === 'runlens' ? startWarmUp(warmUpDeps, opts.log) : undefined;
    let stopping: Promise<void> | undefined;
    return {
      target,
      store: backend,
      ...(governance ? { governance } : {}),
      ...(opened.local ? { local: opened.local } : {}),
      server,
      stop: () =>
        (stopping ??= (async () => {
          await warm?.stop();
          await server.close();
          await governance?.close();
          await opened.close();
          loopDelay?.stop();
        })()),
    };
  } catch (err) {
    await opened.close().catch(() => undefined);
    throw err;
  }
}

/** The warm-up's scratch store: a fresh Runlens store, closed without a checkpoint (it is removed next; a snapshot is synchronous work). */
async function openScratchStore(root: string): Promise<ScratchStore> {
  const opened = await openBackend(resolveTarget(root), { log: silentLogger, truncateLongValues: true });
  return {
    store: opened.backend,
    close: async () => {
      await opened.local?.close({ checkpoint: false });
      await opened.close();
    },
  };
}

/** The warm-up's view of the store layer. */
export const warmUpDeps: WarmUpDeps = { openScratch: openScratchStore, processAlive };
