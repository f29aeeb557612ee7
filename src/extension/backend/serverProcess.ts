/**
 * Forks the bundled CLI (`dist/cli.js serve --ready-ipc`) as the window's tracking server, with
 * the extension host's own runtime: in desktop VS Code `process.execPath` is Electron, which runs
 * as plain Node with ELECTRON_RUN_AS_NODE=1; in code-server it is Node already. The store then
 * lives in that process, so a snapshot export or an ingest burst cannot stall the extension host.
 * No VS Code imports: the parent side is tested on plain Node too.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { Logger } from '../../domain/logger';
import type { LockOwner } from '../../store/storeLock';
import { asToParent, type LogLevel, type StartFailure, type ToChild } from '../../serverIpc/protocol';

export interface ForkOptions {
  /** Absolute path of the bundled CLI (dist/cli.js in the extension folder). */
  cliPath: string;
  root: string;
  port: number;
  level: LogLevel;
  log: Logger;
  recover?: boolean;
  maxArtifactBytes?: number;
  /** The workspace's `.runlens/governance.yaml`, when it has one (`serve --governance`). */
  governanceFile?: string | undefined;
  /** The runtime to fork with; the extension host's by default. */
  execPath?: string;
}

export interface ServerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last lines the process wrote to stderr (an uncaught exception's stack, say). */
  stderrTail: string;
}

/** The server said why it could not start, or exited before it was ready. */
export class ServerStartFailure extends Error {
  constructor(
    readonly reason: StartFailure | 'exited',
    message: string,
    readonly code?: string,
    readonly owner?: LockOwner,
  ) {
    super(message);
    this.name = 'ServerStartFailure';
  }
}

export interface ServerProcess {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Resolves when the process has exited, for whatever reason. */
  readonly exited: Promise<ServerExit>;
  /** True once stop() was called: an exit after that is not a crash. */
  readonly stopping: boolean;
  setLogLevel(level: LogLevel): void;
  /** Asks for a graceful stop (flush, checkpoint, release the lock); kills it after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
}

const STDERR_TAIL_LINES = 20;

/** Forwards a stream line by line (a chunk may end mid-line). */
function forwardLines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  let buf = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trimEnd();
      buf = buf.slice(nl + 1);
      if (line) onLine(line);
    }
  });
  stream?.on('end', () => buf.trim() && onLine(buf.trim()));
}

function serveArgs(opts: ForkOptions): string[] {
  const args = ['serve', '--ready-ipc', '--host', '127.0.0.1', '--root', opts.root, '--port', String(opts.port), '--log-level', opts.level];
  if (opts.recover) args.push('--recover');
  if (opts.maxArtifactBytes) args.push('--max-artifact-mb', String(opts.maxArtifactBytes / (1024 * 1024)));
  if (opts.governanceFile) args.push('--governance', opts.governanceFile);
  return args;
}

/** Starts the server process and resolves once it listens; rejects with ServerStartFailure. */
export function forkServer(opts: ForkOptions): Promise<ServerProcess> {
  const child: ChildProcess = fork(opts.cliPath, serveArgs(opts), {
    execPath: opts.execPath ?? process.execPath,
    // The host's own flags (inspector ports, loader hooks, Electron switches) are not the server's.
    execArgv: [],
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const stderrTail: string[] = [];
  forwardLines(child.stdout, (line) => opts.log.debug(`[server] ${line}`));
  forwardLines(child.stderr, (line) => {
    stderrTail.push(line);
    if (stderrTail.length > STDERR_TAIL_LINES) stderrTail.shift();
    opts.log.error(`[server] ${line}`);
  });
  const exited = new Promise<ServerExit>((resolve) => {
    // 'close', not 'exit': it waits for stderr and the IPC channel, so the last message and lines are in.
    child.once('close', (code, signal) => resolve({ code, signal, stderrTail: stderrTail.join('\n') }));
  });
  let stopping = false;
  const send = (m: ToChild): boolean => {
    if (!child.connected) return false;
    child.send(m, (err) => err && opts.log.debug(`could not message the server: ${err.message}`));
    return true;
  };
  const stop = async (timeoutMs = 5000): Promise<void> => {
    stopping = true;
    if (child.exitCode !== null || child.signalCode !== null) return;
    if (!send({ type: 'stop' })) child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), timeoutMs)));
    if ((await Promise.race([exited, late])) === 'late') {
      opts.log.warn(`the tracking server (process ${child.pid}) did not stop within ${timeoutMs} ms; killing it`);
      child.kill('SIGKILL');
      await exited;
    }
    clearTimeout(timer);
  };
  return new Promise<ServerProcess>((resolve, reject) => {
    let settled = false;
    child.on('message', (raw) => {
      const m = asToParent(raw);
      if (!m) return;
      if (m.type === 'log') {
        opts.log[m.level](m.message);
      } else if (m.type === 'failed' && !settled) {
        settled = true;
        reject(new ServerStartFailure(m.reason, m.message, m.code, m.owner));
      } else if (m.type === 'ready' && !settled) {
        settled = true;
        resolve({
          url: m.url,
          port: m.port,
          pid: m.pid,
          exited,
          get stopping() {
            return stopping;
          },
          setLogLevel: (level) => void send({ type: 'logLevel', level }),
          stop,
        });
      }
    });
    child.once('error', (err) => {
      if (settled) return;
      settled = true;
      reject(new ServerStartFailure('exited', `could not start ${opts.execPath ?? process.execPath} ${opts.cliPath}: ${err.message}`));
    });
    void exited.then((e) => {
      if (settled) return;
      settled = true;
      const how = e.signal ? `was killed by ${e.signal}` : `exited with code ${e.code}`;
      reject(new ServerStartFailure('exited', `the tracking server process ${how} before it was ready${e.stderrTail ? `: ${e.stderrTail}` : ''}`));
    });
  });
}
