/**
 * The write-ahead journal. One record per line: `<crc32 as 8 hex> <json>\n`. A write is
 * acknowledged only after the record is fsynced. Adaptive group commit: while one fsync runs,
 * new records queue and go out together in the next one (no timers: a timer adds its period to
 * every request; shared/reference/storage-bench.md §5).
 */
import * as fs from 'node:fs';
import { crc32 } from './crc32';

interface Pending {
  bytes: Buffer;
  target: fs.promises.FileHandle;
  afterDurable: (() => void) | undefined;
  resolve: () => void;
  reject: (err: Error) => void;
}

export function encodeRecord(payload: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(payload), 'utf8');
  const head = Buffer.from(`${crc32(json).toString(16).padStart(8, '0')} `, 'ascii');
  return Buffer.concat([head, json, Buffer.from('\n')]);
}

export interface JournalReadResult {
  records: unknown[];
  /** Bytes of the file that hold complete, valid records. */
  goodBytes: number;
  /** Set when a record fails its checksum or does not parse. */
  problem?: { offset: number; reason: string; atTail: boolean };
}

/** Reads records until the end or the first invalid one. */
export function readJournal(file: string): JournalReadResult {
  const data = fs.readFileSync(file);
  const records: unknown[] = [];
  let offset = 0;
  while (offset < data.length) {
    const nl = data.indexOf(0x0a, offset);
    if (nl < 0) {
      return { records, goodBytes: offset, problem: { offset, reason: 'incomplete record (no newline)', atTail: true } };
    }
    const line = data.subarray(offset, nl);
    const isLast = nl === data.length - 1;
    const fail = (reason: string): JournalReadResult => ({ records, goodBytes: offset, problem: { offset, reason, atTail: isLast } });
    if (line.length < 10 || line[8] !== 0x20) return fail('malformed record header');
    const expected = Number.parseInt(line.subarray(0, 8).toString('ascii'), 16);
    const json = line.subarray(9);
    if (!Number.isFinite(expected) || crc32(json) !== expected) return fail('checksum mismatch');
    try {
      records.push(JSON.parse(json.toString('utf8')));
    } catch {
      return fail('record does not parse');
    }
    offset = nl + 1;
  }
  return { records, goodBytes: offset };
}

export class JournalWriter {
  private pending: Pending[] = [];
  private flushing = false;
  private failure: Error | undefined;
  private bytesWritten = 0;

  private constructor(private handle: fs.promises.FileHandle) {}

  /**
   * Opens `file` for appending. `replayedBytes` is the journal a restart already had to replay
   * (this file and any older generation): it counts towards `size`, so a server that is killed
   * before it ever reaches the checkpoint threshold still compacts once the journal gets big.
   */
  static async open(file: string, replayedBytes = 0): Promise<JournalWriter> {
    const writer = new JournalWriter(await fs.promises.open(file, 'a'));
    writer.bytesWritten = replayedBytes;
    return writer;
  }

  /** Journal bytes a restart would replay now: replayed at open plus appended since. */
  get size(): number {
    return this.bytesWritten;
  }

  /** Resolves once `bytes` is durable and `afterDurable` (if any) has run. */
  append(bytes: Buffer, afterDurable?: () => void): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    this.bytesWritten += bytes.length;
    return new Promise<void>((resolve, reject) => {
      this.outstanding.set(this.handle, (this.outstanding.get(this.handle) ?? 0) + 1);
      this.pending.push({ bytes, target: this.handle, afterDurable, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  /** Opens the next journal file ahead of `switchTo`, so the switch itself is synchronous. */
  static openNext(file: string): Promise<fs.promises.FileHandle> {
    return fs.promises.open(file, 'a');
  }

  /**
   * Switches appends to `next` synchronously. Records queued before the switch still go to the
   * old file; the returned promise resolves once they are all durable and the old file closed.
   */
  switchTo(next: fs.promises.FileHandle): Promise<void> {
    const old = this.handle;
    this.handle = next;
    this.bytesWritten = 0;
    const drained = this.outstanding.get(old) ? new Promise<void>((resolve) => this.drainWaiters.set(old, resolve)) : Promise.resolve();
    return drained.then(() => old.close());
  }

  private readonly outstanding = new Map<fs.promises.FileHandle, number>();
  private readonly drainWaiters = new Map<fs.promises.FileHandle, () => void>();

  private settled(handle: fs.promises.FileHandle): void {
    const left = (this.outstanding.get(handle) ?? 1) - 1;
    if (left > 0) {
      this.outstanding.set(handle, left);
      return;
    }
    this.outstanding.delete(handle);
    this.drainWaiters.get(handle)?.();
    this.drainWaiters.delete(handle);
  }

  private idleWaiters: (() => void)[] = [];

  /** Resolves when nothing is queued or being written. */
  whenIdle(): Promise<void> {
    if (!this.flushing && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    while (this.pending.length > 0) {
      const target = this.pending[0]!.target;
      let n = 0;
      while (n < this.pending.length && this.pending[n]!.target === target) n++;
      const batch = this.pending.splice(0, n);
      try {
        await target.write(batch.length === 1 ? batch[0]!.bytes : Buffer.concat(batch.map((b) => b.bytes)));
        await target.datasync();
      } catch (err) {
        // The in-memory state is now ahead of the disk: refuse further writes until restart.
        this.failure = new Error(`journal write failed: ${(err as Error).message}`);
        for (const p of [...batch, ...this.pending.splice(0)]) {
          p.reject(this.failure);
          this.settled(p.target);
        }
        break;
      }
      for (const p of batch) {
        try {
          p.afterDurable?.();
          p.resolve();
        } catch (err) {
          p.reject(err as Error);
        }
        this.settled(p.target);
      }
    }
    this.flushing = false;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  get failed(): Error | undefined {
    return this.failure;
  }

  async close(): Promise<void> {
    await this.whenIdle();
    await this.handle.close();
  }
}
