/** Shared fixtures: temp store roots, stores, and in-process servers on ephemeral ports. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalStore, type LocalStoreOptions } from '../../src/store/localStore';
import type { Logger } from '../../src/domain/logger';
import { startServer, type RunningServer } from '../../src/server/httpServer';

/** Polls `probe` until it holds; fails naming `what` after `ms`. */
export async function until(what: string, probe: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function tempRoot(prefix = 'runlens-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A logger that remembers what it was told, for asserting on warnings (and debug lines if asked). */
export class MemoryLogger implements Logger {
  readonly lines: string[] = [];
  constructor(private readonly keepDebug = false) {}
  debug(m: string): void {
    if (this.keepDebug) this.lines.push(`debug ${m}`);
  }
  info(m: string): void {
    this.lines.push(`info ${m}`);
  }
  warn(m: string): void {
    this.lines.push(`warn ${m}`);
  }
  error(m: string): void {
    this.lines.push(`error ${m}`);
  }
}

export function openStore(root: string, extra: Partial<LocalStoreOptions> = {}): Promise<LocalStore> {
  return LocalStore.open({ root, log: new MemoryLogger(), ...extra });
}

export interface TestServer {
  store: LocalStore;
  server: RunningServer;
  root: string;
  close(): Promise<void>;
}

export async function startTestServer(): Promise<TestServer> {
  const root = tempRoot();
  const store = await openStore(root);
  const server = await startServer({ store, log: new MemoryLogger(), port: 0 });
  return {
    store,
    server,
    root,
    close: async () => {
      await server.close();
      await store.close();
    },
  };
}

export interface JsonResponse {
  status: number;
  body: Record<string, unknown>;
  text: string;
  headers: Headers;
}

export async function call(base: string, method: string, route: string, body?: unknown, headers: Record<string, string> = {}): Promise<JsonResponse> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['Content-Type'] ??= 'application/json';
  }
  const res = await fetch(`${base}${route}`, init);
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // non-JSON bodies (health, version) are checked through `text`
  }
  return { status: res.status, body: parsed, text, headers: res.headers };
}
