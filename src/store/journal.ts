/**
 * The write-ahead journal. One record per line: `<crc32 as 8 hex> <json>\n`. JSON never holds a
 * raw newline, so the newline is the frame: a damaged record costs that record only, and replay
 * resynchronises at the next line. A write is acknowledged only after all its bytes are written
 * and fsynced. Adaptive group commit: while one fsync runs, new records queue and go out together
 * in the next one (no timers: a timer adds its period to every request; storage-bench.md §5).
 */
import * as fs from 'node:fs';
import { crc32 } from './crc32';
import { writeAll } from './durableFiles';

export function encodeRecord(payload: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(payload), 'utf8');
  const head = Buffer.from(`${crc32(json).toString(16).padStart(8, '0')} `, 'ascii');
  return Buffer.concat([head, json, Buffer.from('\n')]);
}

/** A stretch of a journal file that did not hold a valid record and was skipped. */
export interface JournalDamage {
  offset: number;
  length: number;
  reason: string;
}

export interface JournalReadResult {
  records: unknown[];
  /** Bytes of the file up to the end of its last valid record (what a torn tail is cut back to). */
  goodBytes: number;
  /** Damaged records before the end, each skipped; the records after them were kept. */
  damaged: JournalDamage[];
  /** An incomplete or invalid last record: a write cut off before it was acknowledged. */
  tornTail?: JournalDamage;
}

function checkLine(line: Buffer): { ok: true; record: unknown } | { ok: false; reason: string } {
  if (line.length < 10 || line[8] !== 0x20) return { ok: false, reason: 'malformed record header' };
  const hex = line.subarray(0, 8).toString('ascii');
  if (!/^[0-9a-f]{8}$/.test(hex)) return { ok: false, reason: 'malformed record header' };
  const json = line.subarray(9);
  if (crc32(json) !== Number.parseInt(hex, 16)) return { ok: false, reason: 'checksum mismatch' };
  try {
    return { ok: true, record: JSON.parse(json.toString('utf8')) };
  } catch {
    return { ok: false, reason: 'record does not parse' };
  }
}

/** Reads every valid record, skipping damaged ones; the last record may be torn. */
export function readJournal(file: string): JournalReadResult {
  return parseJournal(fs.readFileSync(file));
}

export function parseJournal(data: Buffer): JournalReadResult {
  const result: JournalReadResult = { records: [], goodBytes: 0, damaged: [] };
  let offset = 0;
  while (offset < data.length) {
    const nl = data.indexOf(0x0a, offset);
    if (nl < 0) {
      result.tornTail = { offset, length: data.length - offset, reason: 'incomplete record (no newline)' };
      break;
    }
    const checked = checkLine(data.subarray(offset, nl));
    if (checked.ok) {
      result.records.push(checked.record);
      result.goodBytes = nl + 1;
    } else {
      const damage = { offset, length: nl + 1 - offset, reason: checked.reason };
      if (nl === data.length - 1) result.tornTail = damage;
      else result.damaged.push(damage);
    }
    offset = nl + 1;
  }
  return result;
}

/** One journal file being appended to: its handle and how much of it is known durable. */
interface Segment {
  fh: fs.promises.FileHandle;
  /** Bytes of the file that were written and fsynced. */
  durable: number;
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
    size: number,
    private readonly opts: JournalWriterOptions,
  ) {
    this.segment = { fh, durable: size, outstanding: 0 };
  }

  /** Opens `file` for appending. */
  static async open(file: string, opts: JournalWriterOptions = {}): Promise<JournalWriter> {
    const fh = await fs.promises.open(file, 'a');
    const writer = new JournalWriter(fh, (await fh.stat()).size, opts);
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
      if (!this.flushing) void this.flush();
    });
  }

  /** Opens the next journal file ahead of `switchTo`, so the switch itself is synchronous. */
  static openNext(file: string): Promise<fs.promises.FileHandle> {
    return fs.promises.open(file, 'a');
  }

  /**
   * Switches appends to `next` synchronously. Records queued before the switch still go to the
   * old file; the returned promise resolves once they are all settled and the old file closed.
   */
  switchTo(next: fs.promises.FileHandle): Promise<void> {
    const old = this.segment;
    this.segment = { fh: next, durable: 0, outstanding: 0 };
    this.bytesWritten = 0;
    const drained = old.outstanding > 0 ? new Promise<void>((resolve) => (old.onDrained = resolve)) : Promise.resolve();
    return drained.then(() => old.fh.close());
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
        await writeAll(segment.fh, bytes);
        await segment.fh.datasync();
        segment.durable += bytes.length;
      } catch (err) {
        this.fail(new Error(`journal write failed: ${(err as Error).message}`, { cause: err }), batch);
        break;
      }
      for (let i = 0; i < batch.length; i++) {
        const p = batch[i]!;
        try {
          p.afterDurable?.();
        } catch (err) {
          // Durable, but what it feeds (the series file) is not. Nothing acknowledged this record
          // or the ones after it yet, so they are cut off the journal too and fail as a whole.
          const rest = batch.slice(i);
          segment.durable -= rest.reduce((sum, r) => sum + r.bytes.length, 0);
          this.fail(new Error(`store write failed: ${(err as Error).message}`, { cause: err }), rest);
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
   * A write failed: cut every segment back to what is durable (a half-written record must not sit
   * before the next good one), let the owner roll memory back, then reject everything unsettled.
   */
  private fail(err: Error, unsettled: Pending[]): void {
    this.failure = err;
    this.failures++;
    const rejected = [...unsettled, ...this.pending.splice(0)];
    for (const segment of new Set([this.segment, ...rejected.map((p) => p.segment)])) {
      try {
        fs.ftruncateSync(segment.fh.fd, segment.durable);
      } catch {
        // Stays failed: resume() cuts it back before anything else is appended.
      }
    }
    this.bytesWritten = Math.max(0, this.bytesWritten - rejected.reduce((s, p) => s + p.bytes.length, 0));
    this.opts.onFailure?.(err);
    for (const p of rejected) {
      p.reject(err);
      this.settled(p);
    }
  }

  /** Accepts appends again after a failure, once the current file is cut back to its durable end. */
  resume(): void {
    fs.ftruncateSync(this.segment.fh.fd, this.segment.durable);
    this.failure = undefined;
  }

  get failed(): Error | undefined {
    return this.failure;
  }

  async close(): Promise<void> {
    await this.whenIdle();
    await this.segment.fh.close();
  }
}
