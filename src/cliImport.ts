/**
 * `runlens import <source> [--root DIR]`: copies an MLflow store (an http(s):// tracking server;
 * local stores through `openLocalSource`) into a Runlens store, holding the store's lock so no
 * server writes beside it. Prints the one-line summary (and what was skipped) on stdout,
 * progress on stderr about once a second.
 */
import * as path from 'node:path';
import { isServerUrl, openSource } from './backend/openSource';
import type { RestSourceOptions } from './backend/remote/restSource';
import { chooseStoreRoot } from './backend/storeRoot';
import type { Logger } from './domain/logger';
import { formatImportSummary, formatSkipped, importSource } from './store/import/storeImport';
import { LocalStore } from './store/localStore';
import { StoreLock, StoreLockedError } from './store/storeLock';

const USAGE = 'Usage: runlens import <http(s)://mlflow-server | mlflow.db | mlruns dir> [--root <dir>]';

interface ImportArgs {
  source: string;
  root: string | undefined;
}

function parseArgs(argv: string[]): ImportArgs | string {
  let source: string | undefined;
  let root: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--root') {
      root = argv[++i];
      if (root === undefined) return '--root needs a value';
    } else if (a.startsWith('--root=')) root = a.slice('--root='.length);
    else if (a.startsWith('-')) return `unknown option '${a}'`;
    else if (source === undefined) source = a;
    else return `unexpected argument '${a}'`;
  }
  if (source === undefined) return 'name the store to import';
  return { source, root };
}

/** MLflow's client reads these; the import reads them the same way. */
export function authFromEnv(env: NodeJS.ProcessEnv): RestSourceOptions {
  const opts: RestSourceOptions = {};
  if (env.MLFLOW_TRACKING_TOKEN) opts.token = env.MLFLOW_TRACKING_TOKEN;
  if (env.MLFLOW_TRACKING_USERNAME !== undefined) opts.username = env.MLFLOW_TRACKING_USERNAME;
  if (env.MLFLOW_TRACKING_PASSWORD !== undefined) opts.password = env.MLFLOW_TRACKING_PASSWORD;
  const retries = Number(env.MLFLOW_HTTP_REQUEST_MAX_RETRIES);
  if (env.MLFLOW_HTTP_REQUEST_MAX_RETRIES && Number.isInteger(retries) && retries >= 0) opts.maxRetries = retries;
  const timeout = Number(env.MLFLOW_HTTP_REQUEST_TIMEOUT);
  if (env.MLFLOW_HTTP_REQUEST_TIMEOUT && timeout > 0) opts.timeout = timeout;
  // The client's TLS variables: a CA bundle to trust, or no verification when asked for.
  if (env.MLFLOW_TRACKING_SERVER_CERT_PATH) opts.caFile = env.MLFLOW_TRACKING_SERVER_CERT_PATH;
  if (/^(true|1)$/i.test(env.MLFLOW_TRACKING_INSECURE_TLS ?? '')) opts.insecure = true;
  const headers = parseHeadersEnv(env.RUNLENS_TRACKING_HEADERS);
  if (headers) opts.headers = headers;
  return opts;
}

/**
 * RUNLENS_TRACKING_HEADERS: extra request headers for a server behind a gateway, as a JSON
 * object of strings (`{"X-Api-Key": "…"}`); anything else is refused with the reason.
 */
export function parseHeadersEnv(text: string | undefined): Record<string, string> | undefined {
  if (!text?.trim()) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    v = undefined;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.values(v).every((x) => typeof x === 'string')) {
    throw new Error('RUNLENS_TRACKING_HEADERS must be a JSON object of header names to string values');
  }
  return v as Record<string, string>;
}

const stderrLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (m) => process.stderr.write(`runlens import: ${m}\n`),
  error: (m) => process.stderr.write(`runlens import: ${m}\n`),
};

/** Runs the command; resolves to the exit code (0 done, 1 failed, 2 bad usage). */
export async function importCommand(argv: string[]): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const args = parseArgs(argv);
  if (typeof args === 'string') {
    process.stderr.write(`runlens import: ${args}.\n${USAGE}\n`);
    return 2;
  }
  const choice = args.root !== undefined ? { root: path.resolve(args.root) } : chooseStoreRoot(process.cwd());
  if ('displaced' in choice && choice.displaced) {
    process.stderr.write(`runlens import: ${choice.displaced} holds another tool's store; importing into ${choice.root}\n`);
  }
  let source;
  try {
    source = await openSource(args.source, authFromEnv(process.env));
  } catch (err) {
    process.stderr.write(`runlens import: ${(err as Error).message}\n`);
    return 1;
  }
  let lock: StoreLock;
  try {
    lock = StoreLock.acquire(choice.root);
  } catch (err) {
    await source.close();
    if (!(err instanceof StoreLockedError)) throw err;
    // A server (`runlens serve`, a VS Code window) owns the store: it runs the import itself.
    if (err.owner.url) return importThroughServer(err.owner.url, isServerUrl(args.source) ? args.source : absoluteSource(args.source), choice.root);
    process.stderr.write(`runlens import: the store ${choice.root} is in use by process ${err.owner.pid}. Stop it, then import again.\n`);
    return 1;
  }
  try {
    const store = await LocalStore.open({ root: choice.root, log: stderrLogger });
    try {
      process.stderr.write(`importing ${source.description} into ${choice.root}\n`);
      let last = 0;
      const summary = await importSource(source, store.importTarget(), {
        onProgress: (p) => {
          const now = Date.now();
          if (now - last < 1000) return;
          last = now;
          process.stderr.write(`  ${p.runs} runs, ${p.metricPoints} metric points, ${p.artifacts} artifacts, ${p.traces} traces\n`);
        },
      });
      process.stdout.write(`${formatImportSummary(summary)}\n`);
      for (const line of formatSkipped(summary)) process.stdout.write(`${line}\n`);
    } finally {
      await store.close({ checkpoint: true });
    }
    return 0;
  } catch (err) {
    process.stderr.write(`runlens import: ${(err as Error).message}\n`);
    return 1;
  } finally {
    lock.release();
    await source.close();
  }
}


/** A local source as the server (another working directory) must read it. */
function absoluteSource(source: string): string {
  const m = /^sqlite:\/\/\/(.*)$/.exec(source);
  if (m) return `sqlite:///${path.resolve(decodeURIComponent(m[1]!))}`;
  if (/^file:/i.test(source)) return source;
  return path.resolve(source);
}

interface ImportJobWire {
  job_id: string;
  state: 'queued' | 'running' | 'done' | 'failed';
  progress: { runs: number; metric_points: number; artifacts: number; traces: number };
  summary?: string;
  skipped?: string[];
  error?: string;
}

async function importThroughServer(url: string, source: string, root: string): Promise<number> {
  process.stderr.write(`the store ${root} is served by ${url}: importing through it\n`);
  const call = async (method: 'GET' | 'POST', query: string, body?: unknown): Promise<ImportJobWire> => {
    const res = await fetch(`${url}/runlens/api/import${query}`, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await res.json()) as ImportJobWire & { message?: string };
    if (!res.ok) throw new Error(json.message ?? `the server answered ${res.status}`);
    return json;
  };
  try {
    let job = await call('POST', '', { source });
    let last = 0;
    while (job.state === 'queued' || job.state === 'running') {
      await new Promise((r) => setTimeout(r, 250));
      job = await call('GET', `?job_id=${encodeURIComponent(job.job_id)}`);
      if (Date.now() - last >= 1000) {
        last = Date.now();
        const p = job.progress;
        process.stderr.write(`  ${p.runs} runs, ${p.metric_points} metric points, ${p.artifacts} artifacts, ${p.traces} traces\n`);
      }
    }
    if (job.state === 'failed') {
      process.stderr.write(`runlens import: ${job.error ?? 'the import failed'}\n`);
      return 1;
    }
    process.stdout.write(`${job.summary ?? ''}\n`);
    for (const line of job.skipped ?? []) process.stdout.write(`${line}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`runlens import: could not import through ${url}: ${(err as Error).message}\n`);
    return 1;
  }
}
