/**
 * Files kept beside a store whose appends are made durable by the store's own journal (the
 * governed audit trail: see src/governance/auditLog.ts). An append is a journal record saying
 * "this text goes at this offset of that file"; it shares the journal's group commit, so it costs
 * no fdatasync of its own. Once its group is durable the text is written into the file (no sync);
 * a checkpoint syncs the files before the journal can forget the records, and start-up writes
 * into the files whatever the journal holds that they lack (a crash between the two).
 *
 * Replaying is idempotent: a record is written only where the file does not already hold it,
 * never over other bytes (those came from a direct append made while the journal refused writes,
 * after this record was cut off: the file is the truth there).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { datasyncFd, syncDir, writeAllSync } from './durableFiles';

/** The journal record of one side-file append. */
export interface SideAppend {
  t: 'side.append';
  /** Path relative to the store root. */
  file: string;
  /** Byte offset in the file where `text` goes. */
  at: number;
  text: string;
}

export function isSideAppend(record: unknown): record is SideAppend {
  return typeof record === 'object' && record !== null && (record as { t?: unknown }).t === 'side.append';
}

/**
 * What the file holds where a journaled append goes, given those bytes (`there`, cut at the
 * file's end): `present` (the append's own, whole), `missing` (absent, cut short, or zeros: a
 * crash kept the size, not the data; to be written), or `foreign` (other bytes: a direct append
 * made after this record was cut off; the file wins).
 */
export function placement(there: Buffer, bytes: Buffer): 'present' | 'missing' | 'foreign' {
  if (there.equals(bytes.subarray(0, there.length))) return there.length < bytes.length ? 'missing' : 'present';
  return there.some((b) => b !== 0) ? 'foreign' : 'missing';
}

/** Where replayed side appends go (the files; nowhere for a dry run). */
export interface SideSink {
  replay(rec: SideAppend): void;
}

interface OpenFile {
  fd: number;
  /** Where the next append goes: the durable end plus what is journaled but not durable yet. */
  next: number;
  /** End of what is acknowledged (its journal group durable) and written into the file. */
  durable: number;
  /** Bytes written into the file since it was last synced. */
  dirty: boolean;
  /** Its directory entry is new: synced with the file at the next sync. */
  created: boolean;
  /** Direct appends (made while the journal refuses writes), one after another. */
  direct: Promise<void> | undefined;
  directQueued: number;
  /** End of the direct append being written now: a rewind must not move `next` back over it. */
  directEnd: number | undefined;
}

export class SideFiles implements SideSink {
  private readonly files = new Map<string, OpenFile>();
  /** Bumped whenever appends not yet durable are dropped (a failed write): see `epoch`. */
  private drops = 0;

  constructor(private readonly root: string) {}

  /** The file's absolute path; refuses a path that leaves the store root. */
  private resolve(rel: string): string {
    const full = path.resolve(this.root, rel);
    const back = path.relative(this.root, full);
    if (!back || back.startsWith('..') || path.isAbsolute(back)) throw new Error(`side file '${rel}' is not inside the store`);
    return full;
  }

  private open(rel: string): OpenFile {
    let f = this.files.get(rel);
    if (!f) {
      const full = this.resolve(rel);
      fs.mkdirSync(path.dirname(full), { recursive: true });
      const existed = fs.existsSync(full);
      const fd = fs.openSync(full, existed ? 'r+' : 'w+');
      const size = fs.fstatSync(fd).size;
      f = { fd, next: size, durable: size, dirty: false, created: !existed, direct: undefined, directQueued: 0, directEnd: undefined };
      this.files.set(rel, f);
    }
    return f;
  }

  /** Bytes in the file, counting appends journaled but not yet durable. */
  size(rel: string): number {
    return this.open(rel).next;
  }

  /** The record for appending `text`, its offset taken now (appends are placed in call order). */
  reserve(rel: string, text: string): SideAppend {
    const f = this.open(rel);
    const rec: SideAppend = { t: 'side.append', file: rel, at: f.next, text };
    f.next += Buffer.byteLength(text);
    return rec;
  }

  /**
   * The record's journal group is durable: its text goes into the file (page cache; synced later).
   * A write that fails (a full disk: the journal's space is preallocated, this file's is not)
   * cuts the file back to where the record began, so no torn bytes stay in it; the throw fails
   * the journal group, which is then cut off the journal too.
   */
  materialize(rec: SideAppend): void {
    const f = this.open(rec.file);
    const bytes = Buffer.from(rec.text);
    try {
      writeAllSync(f.fd, bytes, rec.at);
    } catch (err) {
      try {
        fs.ftruncateSync(f.fd, rec.at);
      } catch {
        // Left as it is: `durable` still ends before it, so the next append writes over it.
      }
      throw err;
    }
    f.durable = Math.max(f.durable, rec.at + bytes.length);
    f.dirty = true;
  }

  /**
   * How many times appends not yet durable were dropped. A writer that chains its appends (the
   * audit trail's hashes) starts again from its last durable one when this moves.
   */
  get epoch(): number {
    return this.drops;
  }

  /** A journal write failed and was cut off: appends go on from what is durable. */
  rewind(): void {
    this.drops++;
    for (const f of this.files.values()) f.next = Math.max(f.durable, f.directEnd ?? f.durable);
  }

  /** Whether direct appends to `rel` are queued or being written (later appends go behind them). */
  directBusy(rel: string): boolean {
    return (this.files.get(rel)?.directQueued ?? 0) > 0;
  }

  /**
   * Writes `text` at the file's end and syncs it, without the journal (which refuses writes now):
   * everything acknowledged before is in the file already. Direct appends go one at a time; when
   * one fails, it is cut back and those queued behind it fail unwritten (they chained onto it).
   */
  appendDirect(rel: string, text: string): Promise<void> {
    const f = this.open(rel);
    const epoch = this.drops;
    f.directQueued++;
    const run = async (): Promise<void> => {
      if (this.drops !== epoch) throw new Error('an earlier append to the file failed');
      const bytes = Buffer.from(text);
      const at = f.next;
      f.next = at + bytes.length;
      f.directEnd = f.next;
      try {
        writeAllSync(f.fd, bytes, at);
        await datasyncFd(f.fd);
        if (f.created) await syncDir(path.dirname(this.resolve(rel)));
        f.created = false;
      } catch (err) {
        // Not acknowledged: cut back, so a later append lands neither after a hole nor after a torn line.
        this.drops++;
        f.next = at;
        try {
          fs.ftruncateSync(f.fd, at);
        } catch {
          // Nothing after `at` counts: the next append overwrites it.
        }
        throw err;
      } finally {
        f.directEnd = undefined;
      }
      f.durable = at + bytes.length;
    };
    const done = (f.direct ?? Promise.resolve()).then(run, run);
    const settled = done.then(
      () => undefined,
      () => undefined,
    );
    f.direct = settled;
    void settled.then(() => {
      f.directQueued--;
      if (f.direct === settled) f.direct = undefined;
    });
    return done;
  }

  /** Cuts the file to `size` bytes and syncs that (a tail never acknowledged, found at open). */
  async cutTo(rel: string, size: number): Promise<void> {
    const f = this.open(rel);
    if (f.next !== f.durable || f.directQueued > 0) throw new Error(`side file '${rel}' has appends in flight`);
    fs.ftruncateSync(f.fd, size);
    await datasyncFd(f.fd);
    f.next = f.durable = size;
  }

  /** Start-up (and rebuild after a failed write): writes a journaled append the file lacks. */
  replay(rec: SideAppend): void {
    const f = this.open(rec.file);
    const bytes = Buffer.from(rec.text);
    const size = fs.fstatSync(f.fd).size;
    const have = Math.max(0, Math.min(size, rec.at + bytes.length) - rec.at);
    const there = Buffer.alloc(have);
    if (have > 0) fs.readSync(f.fd, there, 0, have, rec.at);
    const found = placement(there, bytes);
    if (found === 'foreign') return;
    if (found === 'missing') {
      writeAllSync(f.fd, bytes, rec.at);
      f.dirty = true;
    }
    // What the journal says is there (not the file's size: bytes past it may be a torn tail).
    f.durable = Math.max(f.durable, rec.at + bytes.length);
    f.next = Math.max(f.next, f.durable);
  }

  /** Syncs every file written since its last sync (and a new file's directory entry). */
  async syncAll(): Promise<void> {
    await Promise.all(
      [...this.files].map(async ([rel, f]) => {
        if (!f.dirty && !f.created) return;
        f.dirty = false;
        try {
          await datasyncFd(f.fd);
          if (f.created) await syncDir(path.dirname(this.resolve(rel)));
          f.created = false;
        } catch (err) {
          f.dirty = true;
          throw err;
        }
      }),
    );
  }

  /** Closes the files once the direct appends under way are done. */
  async close(): Promise<void> {
    await Promise.all([...this.files.values()].map((f) => f.direct));
    for (const f of this.files.values()) fs.closeSync(f.fd);
    this.files.clear();
  }
}
