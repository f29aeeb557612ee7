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
import { syncDir, writeAllSync } from './durableFiles';

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
      f = { fd, next: size, durable: size, dirty: false, created: !existed, direct: undefined, directQueued: 0 };
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

  /** The record's journal group is durable: its text goes into the file (page cache; synced later). */
  materialize(rec: SideAppend): void {
    const f = this.open(rec.file);
    const bytes = Buffer.from(rec.text);
    writeAllSync(f.fd, bytes, rec.at);
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
    for (const f of this.files.values()) f.next = f.durable;
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
      try {
        writeAllSync(f.fd, bytes, at);
        await new Promise<void>((resolve, reject) => fs.fdatasync(f.fd, (err) => (err ? reject(err) : resolve())));
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
    await new Promise<void>((resolve, reject) => fs.fdatasync(f.fd, (err) => (err ? reject(err) : resolve())));
    f.next = f.durable = size;
  }

  /** Start-up (and rebuild after a failed write): writes a journaled append the file lacks. */
  replay(rec: SideAppend): void {
    const f = this.open(rec.file);
    const bytes = Buffer.from(rec.text);
    const size = fs.fstatSync(f.fd).size;
    const have = Math.max(0, Math.min(size, rec.at + bytes.length) - rec.at);
    if (have > 0) {
      const there = Buffer.alloc(have);
      fs.readSync(f.fd, there, 0, have, rec.at);
      // Other bytes there: a direct append made after this record was cut off. The file wins.
      if (!there.equals(bytes.subarray(0, have))) return;
    }
    if (have < bytes.length) {
      writeAllSync(f.fd, bytes, rec.at);
      f.dirty = true;
    }
    const end = Math.max(size, rec.at + bytes.length);
    f.durable = Math.max(f.durable, end);
    f.next = Math.max(f.next, f.durable);
  }

  /** Syncs every file written since its last sync (and a new file's directory entry). */
  async syncAll(): Promise<void> {
    await Promise.all(
      [...this.files].map(async ([rel, f]) => {
        if (!f.dirty && !f.created) return;
        f.dirty = false;
        try {
          await new Promise<void>((resolve, reject) => fs.fdatasync(f.fd, (err) => (err ? reject(err) : resolve())));
          if (f.created) await syncDir(path.dirname(this.resolve(rel)));
          f.created = false;
        } catch (err) {
          f.dirty = true;
          throw err;
        }
      }),
    );
  }

  close(): void {
    for (const f of this.files.values()) fs.closeSync(f.fd);
    this.files.clear();
  }
}
