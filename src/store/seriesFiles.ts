/**
 * Metric history outside sql.js: one append-only binary file per run of 32-byte records (see
 * seriesRecord.ts: each carries a check word, so damage is found and dropped). Records are written at the
 * index fixed when their op applied (positional writes), so replaying the journal over an
 * existing file is idempotent. Files are fsynced at checkpoints: the journal already holds the
 * points, so a crash loses nothing that was acknowledged. No fsync here blocks the event loop: a
 * written file leaving the open set is fsynced on the thread pool and closed after (see retire).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SeriesColumns, SeriesPoint } from '../domain/seriesDownsample';
import { writeAllSync } from './durableFiles';
import type { SeriesWrite } from './ops';
import { recordIntact, SERIES_RECORD_BYTES } from './seriesRecord';

const MAX_OPEN_FILES = 128;

export type { SeriesColumns, SeriesPoint } from '../domain/seriesDownsample';

export class SeriesFiles {
  private readonly open = new Map<string, number>();
  private readonly dirty = new Set<string>();
  /** fsyncs (then closes) of files that left the open set; a checkpoint waits for them. */
  private readonly retiring = new Set<Promise<void>>();
  /** The first failed fsync of a retired file: the next checkpoint fails on it (the journal stays). */
  private retireError: Error | undefined;

  private readonly reported = new Set<string>();

  /** `onDamage` hears once per file and kind when a read finds damaged or missing records. */
  constructor(
    private readonly dir: string,
    private readonly onDamage: (message: string) => void = () => undefined,
  ) {
    // No mkdir here: a lazy store must not create files before its first write (fd() makes them).
  }

  fileFor(runUuid: string): string {
    return path.join(this.dir, runUuid.slice(0, 2), `${runUuid}.bin`);
  }

  private fd(runUuid: string): number {
    let fd = this.open.get(runUuid);
    if (fd !== undefined) {
      // Refresh LRU position.
      this.open.delete(runUuid);
      this.open.set(runUuid, fd);
      return fd;
    }
    const file = this.fileFor(runUuid);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
    this.open.set(runUuid, fd);
    if (this.open.size > MAX_OPEN_FILES) {
      const [oldest, oldFd] = this.open.entries().next().value as [string, number];
      this.open.delete(oldest);
      this.retire(oldest, oldFd);
    }
    return fd;
  }

  /**
   * Takes `fd` out of use: fsynced on the thread pool if it was written, then closed. Nothing
   * else holds the fd meanwhile (readers and later writes open the file anew), so the close can
   * never race an operation on it, nor the OS hand the number to another file under it.
   * Acknowledgements never wait for this: the journal holds the points until a checkpoint, and a
   * checkpoint waits for every retirement (syncAll).
   */
  private retire(runUuid: string, fd: number): void {
    const written = this.dirty.delete(runUuid);
    const done = new Promise<void>((resolve) => {
      const close = (): void => fs.close(fd, () => resolve());
      if (!written) return close();
      fs.fdatasync(fd, (err) => {
        if (err) this.retireError ??= new Error(`fsync of metric series file ${this.fileFor(runUuid)} failed: ${err.message}`, { cause: err });
        close();
      });
    });
    this.retiring.add(done);
    void done.then(() => this.retiring.delete(done));
  }

  /**
   * Records whose op is applied but not yet journaled: reads stop before them, and say nothing.
   * Their bytes are kept so the point index (seriesPointIndex.ts) can see them before they land.
   */
  private readonly inFlight = new Map<string, SeriesWrite[]>();

  /** Notes that `w` will be written once its op is durable (see `write`). */
  expect(w: SeriesWrite): void {
    const writes = this.inFlight.get(w.runUuid);
    if (writes) writes.push(w);
    else this.inFlight.set(w.runUuid, [w]);
  }

  /** Drops an expected write (its op failed), or one just written. */
  settle(w: SeriesWrite): void {
    const writes = this.inFlight.get(w.runUuid);
    if (!writes) return;
    const i = writes.findIndex((x) => x.firstRecord === w.firstRecord);
    if (i >= 0) writes.splice(i, 1);
    if (writes.length === 0) this.inFlight.delete(w.runUuid);
  }

  /** Forgets every expected write (their ops failed and memory was rebuilt from disk). */
  forgetInFlight(): void {
    this.inFlight.clear();
    for (const l of this.resetListeners) l();
  }

  private readonly resetListeners: (() => void)[] = [];

  /** Hears when memory was rebuilt from disk (a failed write): derived caches must be dropped. */
  onReset(listener: () => void): void {
    this.resetListeners.push(listener);
  }

  /**
   * Visits the first `records` records of a run in chunks (bounded memory, however long the
   * history): the file's bytes with writes still in flight laid over them (their bytes are not in
   * the file yet). Damaged or missing records read as zeros or fail their check; callers skip them
   * with `recordIntact`. Each chunk is a fresh, aligned buffer starting at record `first`.
   */
  scanRecords(runUuid: string, records: number, visit: (chunk: Buffer, first: number) => void, chunkRecords = 65_536): void {
    if (records <= 0) return;
    let fd = this.open.get(runUuid);
    let own: number | undefined;
    if (fd === undefined) {
      try {
        own = fd = fs.openSync(this.fileFor(runUuid), 'r');
      } catch {
        // No file yet: everything is in flight, or lost (a read of the history reports that).
      }
    }
    const writes = this.inFlight.get(runUuid) ?? [];
    try {
      for (let first = 0; first < records; first += chunkRecords) {
        const n = Math.min(chunkRecords, records - first);
        const buf = Buffer.alloc(n * SERIES_RECORD_BYTES);
        if (fd !== undefined) readFully(fd, buf, buf.length, first * SERIES_RECORD_BYTES);
        for (const w of writes) {
          const wn = w.records.length / SERIES_RECORD_BYTES;
          const lo = Math.max(first, w.firstRecord);
          const hi = Math.min(first + n, w.firstRecord + wn);
          if (lo < hi) w.records.copy(buf, (lo - first) * SERIES_RECORD_BYTES, (lo - w.firstRecord) * SERIES_RECORD_BYTES, (hi - w.firstRecord) * SERIES_RECORD_BYTES);
        }
        visit(buf, first);
      }
    } finally {
      if (own !== undefined) fs.closeSync(own);
    }
  }

  /** One record (32 bytes, from a write in flight or the file), or undefined if it is not there. */
  recordAt(runUuid: string, index: number): Buffer | undefined {
    for (const w of this.inFlight.get(runUuid) ?? []) {
      const n = w.records.length / SERIES_RECORD_BYTES;
      if (index >= w.firstRecord && index < w.firstRecord + n) {
        const at = (index - w.firstRecord) * SERIES_RECORD_BYTES;
        const copy = Buffer.alloc(SERIES_RECORD_BYTES); // own, aligned memory for word views
        w.records.copy(copy, 0, at, at + SERIES_RECORD_BYTES);
        return copy;
      }
    }
    const buf = Buffer.alloc(SERIES_RECORD_BYTES);
    const n = fs.readSync(this.fd(runUuid), buf, 0, SERIES_RECORD_BYTES, index * SERIES_RECORD_BYTES);
    return n === SERIES_RECORD_BYTES ? buf : undefined;
  }

  write(w: SeriesWrite): void {
    const fd = this.fd(w.runUuid);
    writeAllSync(fd, w.records, w.firstRecord * SERIES_RECORD_BYTES);
    this.dirty.add(w.runUuid);
    this.settle(w);
  }

  /** Points of one key among the first `records` records of a run's file, in file order. */
  readKey(runUuid: string, keyId: number, records: number): SeriesPoint[] {
    const cols = this.readKeyColumns(runUuid, keyId, records);
    const out: SeriesPoint[] = new Array<SeriesPoint>(cols.length);
    for (let i = 0; i < cols.length; i++) out[i] = { step: cols.step[i]!, timestamp: cols.timestamp[i]!, value: cols.value[i]! };
    return out;
  }

  /** Like readKey, as typed-array columns: a 1M-point series without a million objects. */
  readKeyColumns(runUuid: string, keyId: number, records: number): SeriesColumns {
    const raw = this.readRaw(runUuid, records);
    // Typed-array views need 8-byte alignment; large reads usually have it, small ones may not.
    const buf = raw.byteOffset % 8 === 0 ? raw : Buffer.from(raw);
    const n = buf.length / SERIES_RECORD_BYTES;
    const keys = new Uint32Array(buf.buffer, buf.byteOffset, n * 8);
    const doubles = new Float64Array(buf.buffer, buf.byteOffset, n * 4);
    // Every record is checked, not only this key's: a damaged key id could move a point between keys.
    const intact = new Uint8Array(n);
    let count = 0;
    let damaged = 0;
    for (let r = 0; r < n; r++) {
      if (!recordIntact(keys, r)) {
        damaged++;
        continue;
      }
      intact[r] = 1;
      if (keys[r * 8] === keyId) count++;
    }
    if (damaged > 0) this.report(runUuid, 'damaged', `${damaged} of ${n} records failed their check and were skipped`);
    const cols: SeriesColumns = { step: new Float64Array(count), timestamp: new Float64Array(count), value: new Float64Array(count), length: count };
    let j = 0;
    for (let r = 0; r < n; r++) {
      if (intact[r] === 0 || keys[r * 8] !== keyId) continue;
      cols.step[j] = doubles[r * 4 + 1]!;
      cols.timestamp[j] = doubles[r * 4 + 2]!;
      cols.value[j] = doubles[r * 4 + 3]!;
      j++;
    }
    return cols;
  }

  private readRaw(runUuid: string, logged: number): Buffer {
    const writes = this.inFlight.get(runUuid);
    const records = writes ? Math.min(logged, ...writes.map((w) => w.firstRecord)) : logged;
    if (records <= 0) return Buffer.alloc(0);
    let fd = this.open.get(runUuid);
    let opened = false;
    if (fd === undefined) {
      try {
        fd = fs.openSync(this.fileFor(runUuid), 'r');
        opened = true;
      } catch {
        this.report(runUuid, 'missing', `the file is missing; ${records} records are lost`);
        return Buffer.alloc(0);
      }
    }
    try {
      const fileSize = fs.fstatSync(fd).size;
      const size = Math.min(fileSize, records * SERIES_RECORD_BYTES);
      if (fileSize < records * SERIES_RECORD_BYTES) {
        const have = Math.floor(fileSize / SERIES_RECORD_BYTES);
        this.report(runUuid, 'short', `the file holds ${have} of ${records} records (truncated); the missing ${records - have} are lost`);
      }
      const buf = Buffer.allocUnsafe(size);
      const read = readFully(fd, buf, size);
      return buf.subarray(0, read - (read % SERIES_RECORD_BYTES));
    } finally {
      if (opened) fs.closeSync(fd);
    }
  }

  private report(runUuid: string, kind: string, what: string): void {
    const key = `${runUuid}:${kind}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.onDamage(`metric series of run ${runUuid} (${this.fileFor(runUuid)}): ${what}`);
  }

  /**
   * Makes every write so far durable (before a checkpoint drops journal records): every written
   * file is retired (fsynced off the event loop, closed) and the retirements awaited. Writes that
   * arrive meanwhile reopen their file; they are journaled, so the next checkpoint covers them.
   */
  async syncAll(): Promise<void> {
    for (const uuid of [...this.dirty]) {
      const fd = this.open.get(uuid);
      if (fd === undefined) continue;
      this.open.delete(uuid);
      this.retire(uuid, fd);
    }
    this.dirty.clear(); // every dirty file was open: evicted ones were retired already
    await Promise.all([...this.retiring]);
    const err = this.retireError;
    this.retireError = undefined;
    if (err) throw err;
  }

  /** Retires every file and waits: a written file is on disk when this resolves. */
  async close(): Promise<void> {
    for (const [uuid, fd] of this.open) this.retire(uuid, fd);
    this.open.clear();
    this.dirty.clear();
    await Promise.all([...this.retiring]);
    const err = this.retireError;
    this.retireError = undefined;
    if (err) throw err;
  }
}

/** Reads up to `size` bytes at `position` of `fd` into `buf`; returns how many arrived. */
function readFully(fd: number, buf: Buffer, size: number, position = 0): number {
  let read = 0;
  while (read < size) {
    const n = fs.readSync(fd, buf, read, size - read, position + read);
    if (n === 0) break;
    read += n;
  }
  return read;
}
