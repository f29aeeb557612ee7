/**
 * One owner per store root: `<root>/.runlens/lock.json` holds the owner's pid and, once it is
 * listening, its URL. A second server on the same root is refused and told who owns it (the
 * extension uses the URL to attach instead). A lock whose pid is gone is stale and taken over.
 *
 * A store that does not exist yet is served before its folder is made (opening a workspace must
 * not create `mlruns/`): its owner holds a *pending* lock outside the folder, in a per-user lock
 * directory keyed by the root's path, and promotes it to the real lock on the first write. Every
 * reader and taker looks at both, so a second window still finds and attaches to the owner.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fsyncDir } from './durableFiles';

export interface LockOwner {
  pid: number;
  hostname: string;
  url?: string;
  startedAt: string;
  /**
   * The process that started the owner and waits for it (the CLI's safe-exit re-exec, see
   * cli.ts): when it is gone, the owner is ending too, so a taker waits a moment for it.
   */
  supervisor?: number;
}

export class StoreLockedError extends Error {
  constructor(
    readonly owner: LockOwner,
    readonly lockFile: string,
  ) {
    super(
      `The store is already in use by process ${owner.pid}${owner.url ? ` serving ${owner.url}` : ''} (since ${owner.startedAt}). ` +
        `Point your client at that server, or stop it first. Lock file: ${lockFile}`,
    );
    this.name = 'StoreLockedError';
  }
}

/** Whether a process with this pid runs on this machine (EPERM: it does, as another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwnerFile(file: string): LockOwner | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as LockOwner;
  } catch {
    return undefined;
  }
}

/** The owner of a store: the real lock's, else the pending lock's of a store not created yet. */
export function readLockOwner(root: string): LockOwner | undefined {
  return readOwnerFile(lockPath(root)) ?? readOwnerFile(pendingLockPath(root));
}

export function lockPath(root: string): string {
  return path.join(root, '.runlens', 'lock.json');
}

/** Where pending locks live: per user (a shared /tmp must not mix users), overridable for tests. */
export function pendingLockDir(): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : os.userInfo().username;
  return process.env.RUNLENS_LOCK_DIR ?? path.join(os.tmpdir(), `runlens-locks-${uid}`);
}

/** The pending lock of a store root that has no folder yet. */
export function pendingLockPath(root: string): string {
  const key = createHash('sha256').update(path.resolve(root)).digest('hex').slice(0, 32);
  return path.join(pendingLockDir(), `${key}.json`);
}

/** How long a taker waits for an owner whose supervisor is gone to end (it ends at once). */
const ORPHAN_WAIT_MS = 10_000;

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Whether another process on this machine still owns `file` as `owner`. An owner whose supervisor
 * is gone (its CLI process was killed) drops its locks and exits as soon as it notices: wait for
 * that rather than refuse a user who restarts the command at once.
 */
function ownerRunning(file: string, owner: LockOwner): boolean {
  if (!processAlive(owner.pid)) return false;
  if (owner.supervisor === undefined || processAlive(owner.supervisor)) return true;
  const deadline = Date.now() + ORPHAN_WAIT_MS;
  while (Date.now() < deadline) {
    sleepSync(50);
    if (!processAlive(owner.pid) || readOwnerFile(file)?.pid !== owner.pid) return false;
  }
  return true;
}

/** The live owner of a lock file (a stale one is removed and yields undefined). */
function liveOwner(file: string): LockOwner | undefined {
  const existing = readOwnerFile(file);
  if (!existing) return undefined;
  if (existing.hostname !== os.hostname()) return existing;
  if (existing.pid === process.pid ? heldHere.has(file) : ownerRunning(file, existing)) return existing;
  fs.rmSync(file, { force: true }); // stale: its process is gone
  return undefined;
}

/** Lock files held by this process: a second acquire from the same process is refused too. */
const heldHere = new Set<string>();

export class StoreLock {
  private constructor(
    private readonly root: string,
    private file: string,
    private owner: LockOwner,
  ) {}

  /** Takes the lock of an existing (or explicitly created) store, or throws StoreLockedError. */
  static acquire(root: string): StoreLock {
    const file = lockPath(root);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const owner = newOwner();
    takeFile(file, owner);
    // Taken first, checked second (the pending side does the same the other way round): of two
    // racing takers at least one sees the other.
    const pending = liveOwner(pendingLockPath(root));
    if (pending) {
      dropFile(file);
      throw new StoreLockedError(pending, pendingLockPath(root));
    }
    return new StoreLock(root, file, owner);
  }

  /** Takes the pending lock of a store whose folder does not exist yet (see promote()). */
  static acquirePending(root: string): StoreLock {
    const file = pendingLockPath(root);
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const owner = newOwner();
    takeFile(file, owner);
    const real = liveOwner(lockPath(root));
    if (real) {
      dropFile(file);
      throw new StoreLockedError(real, lockPath(root));
    }
    return new StoreLock(root, file, owner);
  }

  /** Whether this is still the pending lock of a store not created yet. */
  get pending(): boolean {
    return this.file !== lockPath(this.root);
  }

  /**
   * Creates the store's state folder and moves the lock into it, durably (every new directory
   * entry fsynced up to the first folder that existed), before the pending lock is dropped: a
   * reader sees one lock or the other at every moment. Refused if another process made the
   * store meanwhile. Idempotent once promoted.
   */
  promote(): void {
    if (!this.pending) return;
    const real = lockPath(this.root);
    const created = mkdirsDurably(path.dirname(real));
    takeFile(real, this.owner);
    try {
      fsyncFile(real);
      for (const dir of created) fsyncDir(dir);
    } catch (err) {
      dropFile(real);
      throw err;
    }
    const pendingFile = this.file;
    this.file = real;
    dropFile(pendingFile);
  }

  /** Records where the owner can be reached, for clients that want to attach. */
  setUrl(url: string): void {
    this.owner = { ...this.owner, url };
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(this.owner));
    fs.renameSync(tmp, this.file);
  }

  release(): void {
    if (readOwnerFile(this.file)?.pid === process.pid) fs.rmSync(this.file, { force: true });
    heldHere.delete(this.file);
  }
}

/**
 * Drops every lock this process holds, for a process that is about to exit without running its
 * own cleanup (a one-shot command whose supervising CLI process was killed).
 */
export function releaseHeldLocks(): void {
  for (const file of heldHere) {
    if (readOwnerFile(file)?.pid === process.pid) fs.rmSync(file, { force: true });
  }
  heldHere.clear();
}

/** The env variable by which the CLI's supervising process names itself to its child. */
export const SUPERVISOR_ENV = 'RUNLENS_SUPERVISOR_PID';

function newOwner(): LockOwner {
  const owner: LockOwner = { pid: process.pid, hostname: os.hostname(), startedAt: new Date().toISOString() };
  const supervisor = Number(process.env[SUPERVISOR_ENV]);
  if (Number.isInteger(supervisor) && supervisor > 0 && supervisor === process.ppid) owner.supervisor = supervisor;
  return owner;
}

/** Creates `file` exclusively for `owner`, taking over a stale one; throws StoreLockedError. */
function takeFile(file: string, owner: LockOwner): void {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(file, JSON.stringify(owner), { flag: 'wx' });
      heldHere.add(file);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const existing = readOwnerFile(file);
    const ours = existing?.pid === process.pid;
    if (existing && ours && heldHere.has(file)) throw new StoreLockedError(existing, file);
    if (existing && existing.hostname === os.hostname() && !ours && ownerRunning(file, existing)) throw new StoreLockedError(existing, file);
    if (existing && existing.hostname !== os.hostname()) throw new StoreLockedError(existing, file);
    fs.rmSync(file, { force: true }); // stale: its process is gone
  }
  throw new Error(`could not take the store lock ${file}`);
}

function dropFile(file: string): void {
  fs.rmSync(file, { force: true });
  heldHere.delete(file);
}

function fsyncFile(file: string): void {
  const fd = fs.openSync(file, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * mkdir -p that returns the directories whose entries must be fsynced for the new ones to
 * survive a crash: each created directory and the parent of the topmost one.
 */
export function mkdirsDurably(dir: string): string[] {
  const missing: string[] = [];
  let cur = path.resolve(dir);
  while (!fs.existsSync(cur)) {
    missing.unshift(cur);
    const up = path.dirname(cur);
    if (up === cur) break;
    cur = up;
  }
  if (missing.length === 0) return [];
  fs.mkdirSync(dir, { recursive: true });
  return [path.dirname(missing[0]!), ...missing];
}
