/**
 * One owner per store root: `<root>/.runlens/lock.json` holds the owner's pid and, once it is
 * listening, its URL. A second server on the same root is refused and told who owns it (the
 * extension uses the URL to attach instead). A lock whose pid is gone is stale and taken over.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface LockOwner {
  pid: number;
  hostname: string;
  url?: string;
  startedAt: string;
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

export function readLockOwner(root: string): LockOwner | undefined {
  try {
    return JSON.parse(fs.readFileSync(lockPath(root), 'utf8')) as LockOwner;
  } catch {
    return undefined;
  }
}

export function lockPath(root: string): string {
  return path.join(root, '.runlens', 'lock.json');
}

/** Lock files held by this process: a second acquire from the same process is refused too. */
const heldHere = new Set<string>();

export class StoreLock {
  private constructor(
    private readonly file: string,
    private owner: LockOwner,
  ) {}

  /** Takes the lock or throws StoreLockedError naming the live owner. */
  static acquire(root: string): StoreLock {
    const file = lockPath(root);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const owner: LockOwner = { pid: process.pid, hostname: os.hostname(), startedAt: new Date().toISOString() };
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        fs.writeFileSync(file, JSON.stringify(owner), { flag: 'wx' });
        heldHere.add(file);
        return new StoreLock(file, owner);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const existing = readLockOwner(root);
      const ours = existing?.pid === process.pid;
      if (existing && ours && heldHere.has(file)) throw new StoreLockedError(existing, file);
      if (existing && existing.hostname === os.hostname() && !ours && processAlive(existing.pid)) {
        throw new StoreLockedError(existing, file);
      }
      if (existing && existing.hostname !== os.hostname()) throw new StoreLockedError(existing, file);
      fs.rmSync(file, { force: true }); // stale: its process is gone
    }
    throw new Error(`could not take the store lock ${file}`);
  }

  /** Records where the owner can be reached, for clients that want to attach. */
  setUrl(url: string): void {
    this.owner = { ...this.owner, url };
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(this.owner));
    fs.renameSync(tmp, this.file);
  }

  release(): void {
    const current = readLockOwner(path.dirname(path.dirname(this.file)));
    if (current?.pid === process.pid) fs.rmSync(this.file, { force: true });
    heldHere.delete(this.file);
  }
}
