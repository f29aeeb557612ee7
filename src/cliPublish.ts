/**
 * `runlens publish [--root DIR] --to URL [--experiment NAME ...] [--run ID ...]`: copies local runs
 * (params, tags, full metric histories, artifacts, logged models, traces) to an MLflow server.
 * Auth as the client reads it (MLFLOW_TRACKING_USERNAME/PASSWORD, MLFLOW_TRACKING_TOKEN). The
 * summary line goes to stdout, progress to stderr about once a second. A store another process
 * owns is read through that process's server; otherwise the store is opened under its lock.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { MlflowSource } from './backend/api/source';
import { RestClient } from './backend/remote/restClient';
import { openRestSource } from './backend/remote/restSource';
import { publish } from './backend/remote/publish/publish';
import { formatPublishDetails, formatPublishSummary } from './backend/remote/publish/publishTypes';
import { RemoteWriter } from './backend/remote/publish/remoteWriter';
import { openServedStore } from './backend/remote/publish/servedStoreSource';
import { storeIdOf } from './backend/remote/publish/storeId';
import { chooseStoreRoot } from './backend/storeRoot';
import { StoreSource } from './backend/transfer/storeSource';
import { authFromEnv } from './cliImport';
import { LocalStore } from './store/localStore';
import { StoreLock, StoreLockedError } from './store/storeLock';

export const PUBLISH_USAGE = 'Usage: runlens publish [--root DIR] --to URL [--experiment NAME ...] [--run ID ...]';

interface PublishArgs {
  to: string;
  root: string | undefined;
  experiments: string[];
  runs: string[];
}

function parseArgs(argv: string[]): PublishArgs | string {
  const args: PublishArgs = { to: '', root: undefined, experiments: [], runs: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const flag = eq > 0 ? a.slice(0, eq) : a;
    const value = (): string | undefined => (eq > 0 ? a.slice(eq + 1) : argv[++i]);
    if (flag === '--to' || flag === '--root' || flag === '--experiment' || flag === '--run') {
      const v = value();
      if (v === undefined || v === '') return `${flag} needs a value`;
      if (flag === '--to') args.to = v;
      else if (flag === '--root') args.root = v;
      else if (flag === '--experiment') args.experiments.push(v);
      else args.runs.push(v);
    } else return `unexpected argument '${a}'`;
  }
  if (!args.to) return 'name the server to publish to with --to URL';
  if (!/^https?:\/\//i.test(args.to)) return `--to must be an http(s) URL of an MLflow server, not '${args.to}'`;
  return args;
}

/** Runs the command; resolves to the exit code (0 done, 1 failed, 2 bad usage). */
export async function publishCommand(argv: string[]): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    process.stdout.write(`${PUBLISH_USAGE}\n`);
    return 0;
  }
  const args = parseArgs(argv);
  if (typeof args === 'string') {
    process.stderr.write(`runlens publish: ${args}.\n${PUBLISH_USAGE}\n`);
    return 2;
  }
  const root = args.root !== undefined ? path.resolve(args.root) : chooseStoreRoot(process.cwd()).root;
  if (!fs.existsSync(root)) {
    process.stderr.write(`runlens publish: there is no Runlens store at ${root} (give it with --root).\n`);
    return 1;
  }
  let auth: ReturnType<typeof authFromEnv> & { purpose: 'publish' };
  try {
    auth = { ...authFromEnv(process.env), purpose: 'publish' as const };
  } catch (err) {
    process.stderr.write(`runlens publish: ${(err as Error).message}\n`);
    return 2;
  }
  const client = new RestClient(args.to, auth);
  let close = async (): Promise<void> => undefined;
  try {
    // Checks the URL answers as MLflow, with these credentials, before anything is read or written.
    await (await openRestSource(args.to, auth)).close();
    let source: MlflowSource;
    try {
      const lock = StoreLock.acquire(root);
      const store = await LocalStore.open({ root, log: { debug: () => undefined, info: () => undefined, warn: (m) => process.stderr.write(`runlens publish: ${m}\n`), error: (m) => process.stderr.write(`runlens publish: ${m}\n`) } });
      source = new StoreSource(store, `the Runlens store at ${root}`);
      close = async () => {
        try {
          await store.close();
        } finally {
          lock.release();
        }
      };
    } catch (err) {
      if (!(err instanceof StoreLockedError) || !err.owner.url) throw err;
      source = await openServedStore(err.owner.url, root);
      close = () => source.close();
    }
    process.stderr.write(`publishing ${source.description} to ${client.baseUrl}\n`);
    let last = 0;
    const summary = await publish(source, new RemoteWriter(client), {
      storeId: storeIdOf(root),
      experiments: args.experiments,
      runs: args.runs,
      onProgress: (p) => {
        if (Date.now() - last < 1000) return;
        last = Date.now();
        process.stderr.write(`  ${p.runsDone}/${p.runsTotal} runs, ${p.metricPoints} metric points, ${p.artifacts} artifacts, ${p.bytes} bytes\n`);
      },
    });
    process.stdout.write(`${formatPublishSummary(summary)}\n`);
    for (const line of formatPublishDetails(summary)) process.stdout.write(`${line}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`runlens publish: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await close();
  }
}
