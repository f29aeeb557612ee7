/** `runlens serve`: the MLflow-compatible tracking server on a local store, outside VS Code. */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { SAFE_EXIT_NODE_FLAG } from './domain/nodeExit';
import type { Logger } from './domain/logger';
import { inspectStore, type DoctorReport } from './store/doctor';
import { LocalStore } from './store/localStore';
import { releaseHeldLocks, StoreLock, StoreLockedError, SUPERVISOR_ENV } from './store/storeLock';
import { normalizeOrigin } from './server/crossSite';
import { serveStore } from './server/serve';
import { WARMUP_ENV } from './server/warmUp';
import { auditCommand, governanceCommand } from './cliGovernance';
import { readGovernanceFile } from './governance/open';
import { chooseStoreRoot } from './backend/storeRoot';
import { importCommand } from './cliImport';
import { publishCommand } from './cliPublish';
import { parentChannel } from './serverIpc/childSide';
import { CliError, runExport } from './cliExport';

const HELP = `Usage: runlens serve [options]
       runlens doctor [--root <dir>] [--repair]
       runlens import <mlflow.db | mlruns dir | http(s)://server> [--root <dir>]   (copy an MLflow store in)
       runlens export --to sqlite:///PATH/mlflow.db [--artifacts <dir>] [--root <dir>] [--force]
       runlens governance check [--governance FILE] [--root <dir>]
       runlens audit verify|export [--root <dir>] [--since ISO] [--out FILE]
       runlens publish --to <http(s)://mlflow-server> [--root <dir>] [--experiment NAME ...] [--run ID ...]
                                                              (copy local runs to a team server)

Serve the MLflow tracking REST API on a local Runlens store.
Point any mlflow client at it:  MLFLOW_TRACKING_URI=http://127.0.0.1:5000

Options:
  --host <host>          interface to bind (default 127.0.0.1; use 0.0.0.0 only on trusted networks)
  --port <port>          port to listen on (default 5000; 0 picks a free port)
  --root <path>          the store: a Runlens folder (default ./mlruns, or ./.runlens-store when
                         ./mlruns holds MLflow's own data), or an existing mlflow.db / legacy
                         mlruns/ folder / sqlite:/// URI, served read-only in place
  --allowed-hosts <list> extra Host header values to accept, comma-separated ('*' disables the check)
  --allowed-origin <origin>
                         a browser origin besides the server's own that may call the API, e.g.
                         http://localhost:3000 (repeatable or comma-separated); requests from any
                         other web page are refused with 403
  --max-artifact-mb <n>  largest artifact accepted, in megabytes (default: no limit)
  --checkpoint-mb <n>    journal size that triggers a compacting snapshot (default 64)
  --log-level <level>    debug | info | warn | error (default info; debug logs every request)
  --governance <file>    budgets, policies, cost ledger and audit trail from this YAML file
                         (README "Governance"); runs are attributed by their genops.* tags
  --recover              open a store whose newest snapshot is damaged or missing, from the
                         previous snapshot and the journal (the damaged file is kept)
  --ready-ipc            for a parent that forked this process with an IPC channel (the VS Code
                         extension): report readiness, start failures and logs as IPC messages,
                         stop with a checkpoint on a {type:"stop"} message or when the parent goes away
  -h, --help             show this help
  -v, --version          print the Runlens version

The server prints "Runlens tracking server listening on <url>" once it accepts requests;
GET <url>/health answers OK. SIGINT/SIGTERM flush the store, release its lock and exit 0.
Only one server may own a store directory at a time.

runlens doctor checks a store without changing it: snapshots against their checksums, every
journal record, every metric point. It exits 0 when the store is healthy, 1 when it found damage.
--repair then opens the store as --recover does and writes a fresh snapshot (stop the server first).

runlens export writes the store as an mlflow.db for the newest MLflow ('runlens export --help').
`;

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
type Level = (typeof LEVELS)[number];

function consoleLogger(level: Level): Logger {
  const at = LEVELS.indexOf(level);
  const emit = (l: Level, msg: string): void => {
    if (LEVELS.indexOf(l) >= at) process.stderr.write(`[${new Date().toISOString()}] ${l.toUpperCase()} ${msg}\n`);
  };
  return {
    debug: (m) => emit('debug', m),
    info: (m) => emit('info', m),
    warn: (m) => emit('warn', m),
    error: (m) => emit('error', m),
  };
}

function fail(message: string): never {
  process.stderr.write(`runlens: ${message}\n`);
  process.exit(2);
}

interface ServeArgs {
  host: string;
  port: number;
  root: string;
  level: Level;
  allowedHosts: string[];
  allowedOrigins: string[];
  checkpointBytes?: number;
  maxArtifactBytes?: number;
  recover: boolean;
  readyIpc: boolean;
  governance?: string;
}

function parseServeArgs(argv: string[]): ServeArgs {
  const args: ServeArgs = { host: '127.0.0.1', port: 5000, root: '', level: 'info', allowedHosts: [], allowedOrigins: [], recover: false, readyIpc: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) fail(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--host':
        args.host = value();
        break;
      case '--port': {
        const p = Number(value());
        if (!Number.isInteger(p) || p < 0 || p > 65535) fail(`invalid port '${argv[i]}'`);
        args.port = p;
        break;
      }
      case '--root':
        args.root = value();
        break;
      case '--allowed-hosts':
        args.allowedHosts = value().split(',').map((h) => h.trim()).filter(Boolean);
        break;
      case '--allowed-origin':
        for (const o of value().split(',').map((s) => s.trim()).filter(Boolean)) {
          if (!normalizeOrigin(o)) fail(`invalid --allowed-origin '${o}' (give scheme://host[:port], e.g. http://localhost:3000; 'null' and '*' can't be allowed)`);
          args.allowedOrigins.push(o);
        }
        break;
      case '--max-artifact-mb': {
        const mb = Number(value());
        if (!(mb > 0)) fail(`invalid --max-artifact-mb '${argv[i]}' (a positive number of megabytes)`);
        args.maxArtifactBytes = Math.round(mb * 1024 * 1024);
        break;
      }
      case '--checkpoint-mb': {
        const mb = Number(value());
        if (!(mb > 0)) fail(`invalid --checkpoint-mb '${argv[i]}' (a positive number of megabytes)`);
        args.checkpointBytes = Math.round(mb * 1024 * 1024);
        break;
      }
      case '--log-level': {
        const l = value() as Level;
        if (!LEVELS.includes(l)) fail(`invalid log level '${l}' (use ${LEVELS.join(', ')})`);
        args.level = l;
        break;
      }
      case '--governance':
        args.governance = value();
        break;
      case '--recover':
        args.recover = true;
        break;
      case '--ready-ipc':
        args.readyIpc = true;
        break;
      case '-h':
      case '--help':
        process.stdout.write(HELP);
        process.exit(0);
      default:
        fail(`unknown option '${a}'. See 'runlens --help'.`);
    }
  }
  return args;
}

async function serve(argv: string[]): Promise<void> {
  const args = parseServeArgs(argv);
  // Until the server listens, keep one handle on the event loop. Without it, each moment the
  // loop has nothing to wait on (an await resolved by V8 rather than by I/O) lets Node block in
  // its platform's drain of every V8 background task, and that includes the optimizing
  // recompiles of sql.js' WebAssembly, which the start-up does not need to wait for: ~120 ms of
  // a 30,000-run store's start (408 -> ~280 ms to /health, median of 5 each).
  const startingUp = setInterval(() => undefined, 60_000);
  try {
    await serveListening(args);
  } finally {
    clearInterval(startingUp);
  }
}

async function serveListening(args: ServeArgs): Promise<void> {
  const channel = args.readyIpc ? parentChannel(args.level) : undefined;
  if (args.readyIpc && !channel) fail('--ready-ipc needs a parent that forked this process with an IPC channel');
  const log = channel?.log ?? consoleLogger(args.level);
  const choice = args.root ? { root: path.resolve(args.root) } : chooseStoreRoot(process.cwd());
  const root = choice.root;
  if (choice.displaced) {
    log.warn(`${choice.displaced} holds another tool's data (an MLflow file store or artifacts), so the Runlens store is ${root}. 'runlens serve --root ${choice.displaced}' serves it read-only; 'runlens import ${choice.displaced}' copies it in.`);
  }
  let serving;
  try {
    const governance = args.governance ? readGovernanceFile(path.resolve(args.governance)) : undefined;
    serving = await serveStore({ root, host: args.host, port: args.port, log, allowedHosts: args.allowedHosts, allowedOrigins: args.allowedOrigins, checkpointBytes: args.checkpointBytes, maxArtifactBytes: args.maxArtifactBytes, recover: args.recover, governance, warmUp: process.env[WARMUP_ENV] !== 'off' });
  } catch (err) {
    if (channel) {
      await channel.failed(err);
      process.exit(2);
    }
    if (err instanceof StoreLockedError) fail(err.message);
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') fail(`port ${args.port} on ${args.host} is already in use; pick another with --port (0 picks a free one).`);
    if (e.code === 'EACCES') fail(`cannot open ${root} or bind ${args.host}:${args.port}: permission denied.`);
    fail(e.message);
  }
  const { server } = serving;
  const replayed = serving.local?.recovery.journalRecords ?? 0;
  if (replayed > 0) log.info(`replayed ${replayed} journal records`);
  const readOnly = serving.store.capabilities.readOnly ? `, read-only: ${serving.store.capabilities.description ?? root}` : '';
  process.stdout.write(`Runlens tracking server listening on ${server.url} (store: ${root}${readOnly})\n`);
  if (readOnly) process.stdout.write(`  ${serving.store.capabilities.importHint ?? ''}\n`);
  process.stdout.write(`  export MLFLOW_TRACKING_URI=${server.url}\n`);
  let shuttingDown = false;
  const shutdown = (signal: string): void => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info(`${signal}: flushing the store and shutting down`);
    serving.stop().then(
      () => process.exit(0),
      (err: Error) => {
        log.error(`shutdown failed: ${err.message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  channel?.onStop(shutdown);
  channel?.ready(server.url, server.port);
}

async function doctor(argv: string[]): Promise<number> {
  let root = '';
  let repair = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--repair') repair = true;
    else if (a === '--root') root = argv[++i] ?? fail('--root needs a value');
    else if (a.startsWith('--root=')) root = a.slice('--root='.length);
    else fail(`unknown option '${a}'. See 'runlens --help'.`);
  }
  root = root ? path.resolve(root) : chooseStoreRoot(process.cwd()).root;
  const print = (r: DoctorReport): void => {
    for (const line of r.checked) process.stdout.write(`  ok       ${line}\n`);
    for (const line of r.problems) process.stdout.write(`  DAMAGED  ${line}\n`);
    for (const line of r.lost) process.stdout.write(`  LOST     ${line} (skipped on every read)\n`);
  };
  process.stdout.write(`Checking the store at ${root}\n`);
  const before = await inspectStore(root);
  print(before);
  if (before.problems.length === 0 && before.lost.length === 0) {
    process.stdout.write('The store is healthy.\n');
    return 0;
  }
  if (before.problems.length === 0 && repair) {
    process.stdout.write('Nothing to repair: the damaged metric points cannot be restored, and reads already skip them.\n');
    return 0;
  }
  if (!repair) {
    process.stdout.write(`Found ${before.problems.length} problem(s). 'runlens doctor --repair --root ${root}' (or 'runlens serve --recover') recovers what survives.\n`);
    return 1;
  }
  const lock = StoreLock.acquire(root);
  try {
    const store = await LocalStore.open({ root, log: consoleLogger('warn'), recover: true });
    for (const r of store.recovery.repairs) process.stdout.write(`  repaired ${r}\n`);
    await store.close();
  } finally {
    lock.release();
  }
  const after = await inspectStore(root);
  process.stdout.write('After the repair:\n');
  print(after);
  return after.problems.length === 0 ? 0 : 1;
}

/**
 * Runs a one-shot command in a child Node with SAFE_EXIT_NODE_FLAG (see domain/nodeExit.ts), unless
 * this process already has it; passes signals on and exits with the child's status. True when it did.
 * The child ends with this process even when it is killed outright (SIGKILL cannot be passed on):
 * an IPC channel ties them, and the child drops its store locks and exits when it closes.
 */
function reexecForSafeExit(argv: string[]): boolean {
  if (process.execArgv.includes(SAFE_EXIT_NODE_FLAG)) {
    endWithSupervisor();
    return false;
  }
  const child = spawn(process.execPath, [SAFE_EXIT_NODE_FLAG, ...process.execArgv, __filename, ...argv], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, [SUPERVISOR_ENV]: String(process.pid) },
  });
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const sig of signals) process.on(sig, () => child.kill(sig));
  child.on('error', (err) => fail(`could not start ${process.execPath}: ${err.message}`));
  child.on('exit', (code, signal) => {
    if (signal) {
      for (const sig of signals) process.removeAllListeners(sig);
      process.kill(process.pid, signal);
    }
    process.exit(code ?? 1);
  });
  return true;
}

/** In the re-exec'd child: exit, locks dropped, as soon as the supervising CLI process is gone. */
function endWithSupervisor(): void {
  const supervised = process.env[SUPERVISOR_ENV] === String(process.ppid) && process.channel !== undefined;
  if (!supervised) return;
  process.channel?.unref();
  process.on('disconnect', () => {
    releaseHeldLocks();
    process.exit(1);
  });
}

/** Exit code 1 and the export's own wording: scripts check `runlens export` for that. */
function exportFailed(err: Error): never {
  process.stderr.write(`runlens: ${err instanceof CliError ? err.message : `export failed: ${err.message}`}\n`);
  process.exit(1);
}

/** The commands that run once and exit with their status; each fails in its own words. */
const ONE_SHOT: Record<string, { run: (argv: string[]) => Promise<number>; failed: (err: Error) => never }> = {
  doctor: { run: doctor, failed: (err) => fail(err.message) },
  governance: { run: governanceCommand, failed: (err) => fail(err.message) },
  audit: { run: auditCommand, failed: (err) => fail(err.message) },
  import: { run: importCommand, failed: (err) => fail(err.message) },
  publish: { run: publishCommand, failed: (err) => fail(err.message) },
  export: { run: runExport, failed: exportFailed },
};

function main(argv: string[]): void {
  const [command, ...rest] = argv;
  const oneShot = command !== undefined && Object.hasOwn(ONE_SHOT, command) ? ONE_SHOT[command] : undefined;
  if (oneShot) {
    if (reexecForSafeExit(argv)) return;
    oneShot.run(rest).then((code) => process.exit(code), oneShot.failed);
    return;
  }
  if (!command || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(HELP);
    return;
  }
  if (command === '-v' || command === '--version') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    process.stdout.write(`${(require('../package.json') as { version: string }).version}\n`);
    return;
  }
  if (command !== 'serve') fail(`unknown command '${command}'. See 'runlens --help'.`);
  serve(rest).catch((err: Error) => fail(err.message));
}

main(process.argv.slice(2));
