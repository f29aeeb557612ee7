/**
 * Writing the write-ahead journal (format: journalRead.ts). A write is acknowledged only after all
 * its bytes are written and fdatasynced. Adaptive group commit: while one fsync runs, new records
 * queue and go out together in the next one, as one write (no timers: a timer adds its period to
 * every request; storage-bench.md §5).
 *
 * Files are preallocated: zeros are written (and synced) ahead of the records, so a group commit
 * overwrites blocks the file already has and its fdatasync never has to log a new file size —
 * about a third cheaper on ext4 (0.12–0.17 ms instead of 0.19–0.32 ms for a 200-byte record).
 * Readers stop at the zeros. Extending runs beside the commits, over bytes no record uses yet.
 */
import * as fs from 'node:fs';
import { writeAll, writeAllSync } from './durableFiles';
import { endOfData } from './journalRead';

export { encodeRecord, parseJournal, readJournal, type JournalDamage, type JournalReadResult } from './journalRead';

/** Zeros added per extension, and how close records may get to their end before the next starts. */
export const PREALLOCATE_BYTES = 2 * 1024 * 1024;
const EXTEND_WHEN_FREE_BELOW = PREALLOCATE_BYTES / 2;
/**
 * A group up to this size is written with one synchronous pwrite (a copy into the page cache:
 * ~5-40 µs here) and only its fdatasync goes to the thread pool: one hand-off and wake-up per
 * commit instead of two. Larger groups are written off the event loop.
 */
const SYNC_WRITE_MAX = 256 * 1024;

/** Opened read-write, never O_APPEND: records are written at the journal's end, inside the zeros. */
const OPEN_FLAGS = fs.constants.O_RDWR | fs.constants.O_CREAT;

/** One journal file being appended to: its handle and how much of it is known durable. */
interface Segment {
  fh: fs.promises.FileHandle;
  /** Bytes of records that were written and fsynced. */
  durable: number;
  /** Where the next record goes: durable plus a group being written. */
  end: number;
  /** Bytes of the file known to exist on disk (zeros or records): writes below need no new size. */
  allocated: number;
  /** An extension writing zeros at `allocated`; a record that would reach past it waits for it. */
  extending?: Promise<void>;
  outstanding: number;
  onDrained?: () => void;
}

interface Pending {
  bytes: Buffer;
  segment: Segment;
  afterDurable: (() => void) | undefined;
  resolve: () => void;
  reject: (err: Error) => void;
}

export interface JournalWriterOptions {
  /** Journal bytes a restart already had to replay: counts towards `size` (see Persistence). */
  replayedBytes?: number;
  /**
   * Called synchronously when a write fails, after every unacknowledged record has been cut off
   * the file again and before any caller sees its rejection: the owner must drop from memory what
   * the failed records changed.
   */
  onFailure?: (err: Error) => void;
}

export class JournalWriter {
  private pending: Pending[] = [];
  private flushing = false;
  private failure: Error | undefined;
  private bytesWritten = 0;
  private failures = 0;
  private segment: Segment;
  private idleWaiters: (() => void)[] = [];

  private constructor(
    fh: fs.promises.FileHandle,
    end: number,
    size: number,
    private readonly opts: JournalWriterOptions,
  ) {
    this.segment = newSegment(fh, end, size);
  }

  /** Opens `file` for appending after its last record (a torn tail must have been cut off). */
  static async open(file: string, opts: JournalWriterOptions = {}): Promise<JournalWriter> {
    const fh = await fs.promises.open(file, OPEN_FLAGS);
    const size = (await fh.stat()).size;
    const writer = new JournalWriter(fh, await recordsEnd(fh, size), size, opts);
    writer.bytesWritten = opts.replayedBytes ?? 0;
    return writer;
  }

  /** Journal bytes a restart would replay now: replayed at open plus appended since. */
  get size(): number {
    return this.bytesWritten;
  }

  /** How many times a write has failed: a checkpoint compares it before and after its drain. */
  get failureCount(): number {
    return this.failures;
  }

  /** Resolves once `bytes` is durable and `afterDurable` (if any) has run. */
  append(bytes: Buffer, afterDurable?: () => void): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    this.bytesWritten += bytes.length;
    const segment = this.segment;
    segment.outstanding++;
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ bytes, segment, afterDurable, resolve, reject });
      if (!this.flushing) {
        // The group is cut at the end of this turn of the event loop, not at this append: what
        // arrives meanwhile (other requests read in the same poll, a follow-up write its caller
        // makes a microtask later) goes out in the same write and the same fdatasync.
        this.flushing = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  /** Opens the next journal file ahead of `switchTo`, so the switch itself is synchronous. */
  static openNext(file: string): Promise<fs.promises.FileHandle> {
    return fs.promises.open(file, OPEN_FLAGS);
  }

  /**
   * Switches appends to `next` synchronously. Records queued before the switch still go to the
   * old file; the returned promise resolves once they are all settled and the old file closed.
   */
  switchTo(next: fs.promises.FileHandle): Promise<void> {
    const old = this.segment;
    this.segment = newSegment(next, 0, 0);
    this.bytesWritten = 0;
    const drained = old.outstanding > 0 ? new Promise<void>((resolve) => (old.onDrained = resolve)) : Promise.resolve();
    return drained.then(() => closeSegment(old));
  }

  private settled(p: Pending): void {
    if (--p.segment.outstanding > 0) return;
    p.segment.onDrained?.();
    p.segment.onDrained = undefined;
  }

  /** Resolves when nothing is queued or being written. */
  whenIdle(): Promise<void> {
    if (!this.flushing && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    while (this.pending.length > 0 && !this.failure) {
      const segment = this.pending[0]!.segment;
      let n = 0;
      while (n < this.pending.length && this.pending[n]!.segment === segment) n++;
      const batch = this.pending.splice(0, n);
      const bytes = batch.length === 1 ? batch[0]!.bytes : Buffer.concat(batch.map((b) => b.bytes));
      try {
        // Zeros being written where this group goes would land over it: wait for them.
        if (segment.extending && segment.end + bytes.length > segment.allocated) await segment.extending;
        segment.end += bytes.length;
        if (bytes.length <= SYNC_WRITE_MAX) writeAllSync(segment.fh.fd, bytes, segment.end - bytes.length);
        else await writeAll(segment.fh, bytes, segment.end - bytes.length);
        await segment.fh.datasync();
        segment.durable = segment.end;
      } catch (err) {
        this.fail(new Error(`journal write failed: ${(err as Error).message}`, { cause: err }), batch);
        break;
      }
      this.extendIfNeeded(segment);
      for (let i = 0; i < batch.length; i++) {
        const p = batch[i]!;
        try {
          p.afterDurable?.();
        } catch (err) {
          // Durable, but what it feeds (the series file) is not. Nothing acknowledged this record
          // or the ones after it yet, so they are cut off the journal too and fail as a whole.
          const rest = batch.slice(i);
          segment.durable -= rest.reduce((sum, r) => sum + r.bytes.length, 0);
          await this.fail(new Error(`store write failed: ${(err as Error).message}`, { cause: err }), rest, segment);
          break;
        }
        p.resolve();
        this.settled(p);
      }
    }
    this.flushing = false;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  /**
   * Starts writing the next zeros once records come near the end of those written, beside the
   * commits (over bytes no record uses yet). A failure (a full disk) only means no preallocation:
   * records are then appended, and a full disk fails them, cut back as always.
   */
  private extendIfNeeded(segment: Segment): void {
    if (segment.extending || this.failure || segment.allocated - segment.end >= EXTEND_WHEN_FREE_BELOW) return;
    const from = Math.max(segment.allocated, segment.end);
    const run = async (): Promise<void> => {
      try {
        await writeAll(segment.fh, Buffer.alloc(PREALLOCATE_BYTES), from);
        await segment.fh.datasync();
        // A failure meanwhile cut the file back: what it wrote is not known to be there.
        if (!this.failure && segment.allocated <= from) segment.allocated = from + PREALLOCATE_BYTES;
      } catch {
        // Stays as it was: later records append (and pay for the size update in their sync).
      } finally {
        segment.extending = undefined;
      }
    };
    segment.extending = run();
  }

  /**
   * A write failed: cut every segment back to what is durable (a half-written record must not sit
   * before the next good one), let the owner roll memory back, then reject everything unsettled.
   */
  private fail(err: Error, unsettled: Pending[], revokedIn?: Segment): Promise<void> | undefined {
    this.failure = err;
    this.failures++;
    const rejected = [...unsettled, ...this.pending.splice(0)];
    for (const segment of new Set([this.segment, ...rejected.map((p) => p.segment)])) {
      try {
        cutBack(segment);
      } catch {
        // Stays failed: resume() cuts it back before anything else is appended.
      }
    }
    this.bytesWritten = Math.max(0, this.bytesWritten - rejected.reduce((s, p) => s + p.bytes.length, 0));
    this.opts.onFailure?.(err);
    const reject = (): void => {
      for (const p of rejected) {
        p.reject(err);
        this.settled(p);
      }
    };
    if (!revokedIn) return void reject();
    // Records that were durable are revoked (cut back above, in the page cache): that is synced
    // before anyone hears they failed, or a power loss could bring them back for a replay.
    return revokedIn.fh.datasync().then(reject, reject);
  }

  /** Accepts appends again after a failure, once the current file is cut back to its durable end. */
  resume(): void {
    cutBack(this.segment);
    this.failure = undefined;
  }

  get failed(): Error | undefined {
    return this.failure;
  }

  async close(): Promise<void> {
    await this.whenIdle();
    await closeSegment(this.segment);
  }
}

function newSegment(fh: fs.promises.FileHandle, end: number, size: number): Segment {
  return { fh, durable: end, end, allocated: size, outstanding: 0 };
}

/** Where the records of a file end: before its trailing zeros (read backwards, a block at a time). */
async function recordsEnd(fh: fs.promises.FileHandle, size: number): Promise<number> {
  const block = Buffer.alloc(64 * 1024);
  for (let to = size; to > 0; ) {
    const from = Math.max(0, to - block.length);
    const { bytesRead } = await fh.read(block, 0, to - from, from);
    const end = endOfData(block.subarray(0, bytesRead));
    if (end > 0) return from + end;
    to = from;
  }
  return 0;
}

/**
 * Leaves nothing after the durable records: a torn group is overwritten with zeros inside the
 * preallocated part (so a full disk needs no new block to do it) and anything past that part cut off.
 */
function cutBack(segment: Segment): void {
  const keep = Math.max(segment.durable, segment.allocated);
  fs.ftruncateSync(segment.fh.fd, keep);
  const torn = Math.min(segment.end, keep) - segment.durable;
  if (torn > 0) {
    try {
      const zeros = Buffer.alloc(torn);
      for (let done = 0; done < torn; ) {
        const n = fs.writeSync(segment.fh.fd, zeros, done, torn - done, segment.durable + done);
        if (n <= 0) throw new Error('short write');
        done += n;
      }
    } catch {
      fs.ftruncateSync(segment.fh.fd, segment.durable);
      segment.allocated = segment.durable;
    }
  }
  segment.end = segment.durable;
}

/** Closes a file that takes no more records, without its unused zeros (readers need not skip them). */
async function closeSegment(segment: Segment): Promise<void> {
  await segment.extending;
  await segment.fh.truncate(segment.end).catch(() => undefined);
  await segment.fh.close();
}
