/**
 * Metric history outside sql.js: one append-only binary file per run, 32-byte records
 * `[u32 key id][u32 reserved][f64 step][f64 timestamp][f64 value]`. Records are written at the
 * index fixed when their op applied (positional writes), so replaying the journal over an
 * existing file is idempotent. Files are fsynced at checkpoints: the journal already holds the
 * points, so a crash loses nothing that was acknowledged.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SERIES_RECORD_BYTES, type SeriesWrite } from './ops';

const MAX_OPEN_FILES = 128;

export interface SeriesPoint {
  step: number;
  timestamp: number;
  value: number;
}

/** One key's points as parallel columns, in logging order (no per-point objects). */
export interface SeriesColumns {
  step: Float64Array;
  timestamp: Float64Array;
  value: Float64Array;
  length: number;
}

export class SeriesFiles {
  private readonly open = new Map<string, number>();
  private readonly dirty = new Set<string>();

  constructor(private readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
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
      if (this.dirty.delete(oldest)) fs.fsyncSync(oldFd);
      fs.closeSync(oldFd);
      this.open.delete(oldest);
    }
    return fd;
  }

  write(w: SeriesWrite): void {
    const fd = this.fd(w.runUuid);
    fs.writeSync(fd, w.records, 0, w.records.length, w.firstRecord * SERIES_RECORD_BYTES);
    this.dirty.add(w.runUuid);
  }

  /** Points of one key among the first `records` records of a run's file, in file order. */
  readKey(runUuid: string, keyId: number, records: number): SeriesPoint[] {
    const buf = this.readRaw(runUuid, records);
    const out: SeriesPoint[] = [];
    for (let o = 0; o + SERIES_RECORD_BYTES <= buf.length; o += SERIES_RECORD_BYTES) {
      if (buf.readUInt32LE(o) !== keyId) continue;
      out.push({ step: buf.readDoubleLE(o + 8), timestamp: buf.readDoubleLE(o + 16), value: buf.readDoubleLE(o + 24) });
    }
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
    let count = 0;
    for (let r = 0; r < n; r++) if (keys[r * 8] === keyId) count++;
    const cols: SeriesColumns = { step: new Float64Array(count), timestamp: new Float64Array(count), value: new Float64Array(count), length: count };
    let j = 0;
    for (let r = 0; r < n; r++) {
      if (keys[r * 8] !== keyId) continue;
      cols.step[j] = doubles[r * 4 + 1]!;
      cols.timestamp[j] = doubles[r * 4 + 2]!;
      cols.value[j] = doubles[r * 4 + 3]!;
      j++;
    }
    return cols;
  }

  private readRaw(runUuid: string, records: number): Buffer {
    if (records <= 0) return Buffer.alloc(0);
    let fd = this.open.get(runUuid);
    let opened = false;
    if (fd === undefined) {
      try {
        fd = fs.openSync(this.fileFor(runUuid), 'r');
        opened = true;
      } catch {
        return Buffer.alloc(0);
      }
    }
    try {
      const size = Math.min(fs.fstatSync(fd).size, records * SERIES_RECORD_BYTES);
      const buf = Buffer.allocUnsafe(size);
      let read = 0;
      while (read < size) {
        const n = fs.readSync(fd, buf, read, size - read, read);
        if (n === 0) break;
        read += n;
      }
      return buf.subarray(0, read - (read % SERIES_RECORD_BYTES));
    } finally {
      if (opened) fs.closeSync(fd);
    }
  }

  /**
   * Makes every write so far durable (before a checkpoint drops journal records). Synchronous on
   * purpose: an async fsync could race with LRU eviction closing (and the OS reusing) the fd.
   */
  syncAll(): void {
    for (const uuid of this.dirty) {
      const fd = this.open.get(uuid);
      if (fd !== undefined) fs.fsyncSync(fd); // evicted files were fsynced on eviction
    }
    this.dirty.clear();
  }

  close(): void {
    for (const [uuid, fd] of this.open) {
      if (this.dirty.has(uuid)) fs.fsyncSync(fd);
      fs.closeSync(fd);
    }
    this.open.clear();
    this.dirty.clear();
  }
}
