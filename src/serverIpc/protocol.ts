/**
 * The messages between the extension host and the tracking server it forks (`runlens serve
 * --ready-ipc`). The server runs in its own process so that store work (snapshot export, long
 * history reads, ingest bursts) never blocks the extension host; this channel is how the parent
 * learns the URL, receives the server's logs and asks it to stop with a checkpoint.
 */
import type { LockOwner } from '../store/storeLock';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Why the server could not start; the parent maps each to what the user can do about it. */
export type StartFailure = 'locked' | 'damaged' | 'portUnavailable' | 'permission' | 'other';

export type ToParent =
  | { type: 'ready'; url: string; port: number; pid: number }
  | { type: 'failed'; reason: StartFailure; message: string; code?: string; owner?: LockOwner }
  | { type: 'log'; level: LogLevel; message: string };

export type ToChild = { type: 'stop' } | { type: 'logLevel'; level: LogLevel };

function record(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
}

export function isLogLevel(v: unknown): v is LogLevel {
  return typeof v === 'string' && (LOG_LEVELS as readonly string[]).includes(v);
}

function isOwner(v: unknown): v is LockOwner {
  const o = record(v);
  return !!o && typeof o.pid === 'number' && typeof o.hostname === 'string' && typeof o.startedAt === 'string' && (o.url === undefined || typeof o.url === 'string');
}

/** Checks a message from the child: IPC delivers whatever the other side sent. */
export function asToParent(v: unknown): ToParent | undefined {
  const m = record(v);
  if (!m) return undefined;
  switch (m.type) {
    case 'ready':
      return typeof m.url === 'string' && typeof m.port === 'number' && typeof m.pid === 'number' ? { type: 'ready', url: m.url, port: m.port, pid: m.pid } : undefined;
    case 'failed': {
      const reasons: readonly unknown[] = ['locked', 'damaged', 'portUnavailable', 'permission', 'other'];
      if (!reasons.includes(m.reason) || typeof m.message !== 'string') return undefined;
      return {
        type: 'failed',
        reason: m.reason as StartFailure,
        message: m.message,
        ...(typeof m.code === 'string' ? { code: m.code } : {}),
        ...(isOwner(m.owner) ? { owner: m.owner } : {}),
      };
    }
    case 'log':
      return isLogLevel(m.level) && typeof m.message === 'string' ? { type: 'log', level: m.level, message: m.message } : undefined;
    default:
      return undefined;
  }
}

/** Checks a message from the parent. */
export function asToChild(v: unknown): ToChild | undefined {
  const m = record(v);
  if (m?.type === 'stop') return { type: 'stop' };
  if (m?.type === 'logLevel' && isLogLevel(m.level)) return { type: 'logLevel', level: m.level };
  return undefined;
}
