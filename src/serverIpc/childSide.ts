/** The forked server's end of the IPC channel (see protocol.ts): logs, readiness, stop requests. */
import type { Logger } from '../domain/logger';
import { StoreDamagedError } from '../store/persistence';
import { StoreLockedError } from '../store/storeLock';
import { asToChild, LOG_LEVELS, type LogLevel, type ToParent } from './protocol';

export interface ParentChannel {
  /** Sends log lines at or above the level the parent asked for (it can change it later). */
  log: Logger;
  ready(url: string, port: number): void;
  /** Reports a start failure and resolves once the message is handed to the OS. */
  failed(err: unknown): Promise<void>;
  /** Called once, when the parent asks for a stop or goes away (its window closed or crashed). */
  onStop(fn: (why: string) => void): void;
}

/** What the parent needs to decide between attach, "Recover Store", another port and an error. */
export function describeStartFailure(err: unknown): Extract<ToParent, { type: 'failed' }> {
  if (err instanceof StoreLockedError) return { type: 'failed', reason: 'locked', message: err.message, owner: err.owner };
  if (err instanceof StoreDamagedError) return { type: 'failed', reason: 'damaged', message: err.message };
  const e = err as NodeJS.ErrnoException;
  const code = typeof e.code === 'string' ? e.code : undefined;
  const base = { type: 'failed' as const, message: e.message ?? String(err), ...(code ? { code } : {}) };
  // EACCES from listen is a privileged port, not the store: the parent tries a free port then.
  if (code === 'EADDRINUSE' || (code === 'EACCES' && e.syscall === 'listen')) return { ...base, reason: 'portUnavailable' };
  if (code === 'EACCES' || code === 'EROFS' || code === 'EPERM') return { ...base, reason: 'permission' };
  return { ...base, reason: 'other' };
}

/** The channel when this process was forked with IPC, else undefined. */
export function parentChannel(initial: LogLevel): ParentChannel | undefined {
  const sendFn = process.send?.bind(process);
  if (!sendFn) return undefined;
  // Once the parent is gone its pipes are too: a write would raise EPIPE and kill the shutdown.
  process.stdout.on('error', () => undefined);
  process.stderr.on('error', () => undefined);
  let at = LOG_LEVELS.indexOf(initial);
  const send = (m: ToParent, done?: () => void): void => {
    if (!process.connected) {
      done?.();
      return;
    }
    sendFn(m, undefined, {}, () => done?.());
  };
  const emit = (level: LogLevel, message: string): void => {
    if (LOG_LEVELS.indexOf(level) >= at) send({ type: 'log', level, message });
  };
  let stopHandler: ((why: string) => void) | undefined;
  // A stop that arrives while the store is still loading is kept until the server can stop.
  let pending: string | undefined;
  let stopped = false;
  const stop = (why: string): void => {
    if (stopped) return;
    if (!stopHandler) {
      pending ??= why;
      return;
    }
    stopped = true;
    stopHandler(why);
  };
  process.on('message', (raw) => {
    const m = asToChild(raw);
    if (m?.type === 'logLevel') at = LOG_LEVELS.indexOf(m.level);
    if (m?.type === 'stop') stop('the extension asked the server to stop');
  });
  process.on('disconnect', () => stop('the extension host went away'));
  return {
    log: { debug: (m) => emit('debug', m), info: (m) => emit('info', m), warn: (m) => emit('warn', m), error: (m) => emit('error', m) },
    ready: (url, port) => send({ type: 'ready', url, port, pid: process.pid }),
    failed: (err) => new Promise((resolve) => send(describeStartFailure(err), resolve)),
    onStop: (fn) => {
      stopHandler = fn;
      if (pending) stop(pending);
      else if (!process.connected) stop('the extension host went away');
    },
  };
}
