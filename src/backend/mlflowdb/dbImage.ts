/**
 * A consistent in-memory image of an SQLite file that another process (MLflow) may be writing.
 *
 * sql.js opens a byte array, never the file, so the file is never written or locked. What SQLite
 * itself would see on open is rebuilt here: committed frames of a `-wal` file are applied to the
 * image (sql.js cannot read a WAL: its file system is private), and a hot rollback journal — a
 * write in the middle of its commit — is waited out, since the main file is torn until it ends.
 */
import * as fs from 'node:fs';
import type { WalPages } from './sqliteFile';

export interface DbImage {
  bytes: Uint8Array;
  /** Committed WAL frames applied to the image (0 without a WAL). */
  walFrames: number;
}

const JOURNAL_MAGIC = Buffer.from([0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7]);
const ATTEMPTS = 20;

/** Reads `file` (and its `-wal`) until two stats around the read agree and no write is committing. */
export async function readDbImage(file: string): Promise<DbImage> {
  for (let attempt = 0; ; attempt++) {
    const before = stamp(file);
    const hot = hotJournal(file);
    if (!hot) {
      const main = fs.readFileSync(file);
      const wal = readIfPresent(`${file}-wal`);
      if (before === stamp(file) && !hotJournal(file)) {
        const walFrames = wal && wal.length > 0 ? applyWal(main, wal) : { image: main, frames: 0 };
        const bytes = new Uint8Array(walFrames.image.buffer, walFrames.image.byteOffset, walFrames.image.byteLength);
        // The image is opened on its own: WAL mode (header bytes 18/19 = 2) would look for a -wal file.
        if (bytes.length >= 100 && (bytes[18] === 2 || bytes[19] === 2)) bytes[18] = bytes[19] = 1;
        return { bytes, walFrames: walFrames.frames };
      }
    }
    if (attempt + 1 >= ATTEMPTS) {
      throw new Error(
        hot
          ? `${file} has a hot journal (${file}-journal): a write is in progress or a writer crashed. Open it once with mlflow or sqlite3 to recover it, then try again.`
          : `${file} kept changing while it was read; try again when MLflow is idle.`,
      );
    }
    await new Promise((r) => setTimeout(r, 25 * (attempt + 1)));
  }
}

/** Size and mtime of a database file and its WAL: equal before and after a read means no write came between. */
export function stamp(file: string): string {
  const parts = [file, `${file}-wal`].map((f) => {
    try {
      const s = fs.statSync(f, { bigint: true });
      return `${s.size}:${s.mtimeNs}`;
    } catch {
      return '-';
    }
  });
  return parts.join('|');
}

function readIfPresent(file: string): Buffer | undefined {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** A rollback journal is hot when it exists with a valid header (PERSIST/TRUNCATE leave it zeroed). */
function hotJournal(file: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(`${file}-journal`, 'r');
  } catch {
    return false;
  }
  try {
    const head = Buffer.alloc(8);
    return fs.readSync(fd, head, 0, 8, 0) === 8 && head.equals(JOURNAL_MAGIC);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The committed pages of a WAL (SQLite's WAL format: a 32-byte header, then frames of a 24-byte
 * header and one page). A frame counts only when its salts match the header and the running
 * checksum holds; the database ends at the last valid commit frame, as in SQLite's recovery.
 */
export function walIndex(wal: Buffer): WalPages | undefined {
  if (wal.length < 32) return undefined;
  const magic = wal.readUInt32BE(0);
  if (magic !== 0x377f0682 && magic !== 0x377f0683) return undefined;
  const bigEndian = magic === 0x377f0683;
  const pageSize = wal.readUInt32BE(8) || 65536;
  const salt1 = wal.readUInt32BE(16);
  const salt2 = wal.readUInt32BE(20);
  let sum = checksum(wal, 0, 24, [0, 0], bigEndian);
  if (sum[0] !== wal.readUInt32BE(24) || sum[1] !== wal.readUInt32BE(28)) return undefined;
  let dbPages = 0;
  let frames = 0;
  const frameSize = 24 + pageSize;
  for (let off = 32; off + frameSize <= wal.length; off += frameSize) {
    if (wal.readUInt32BE(off + 8) !== salt1 || wal.readUInt32BE(off + 12) !== salt2) break;
    sum = checksum(wal, off, 8, sum, bigEndian);
    sum = checksum(wal, off + 24, pageSize, sum, bigEndian);
    if (sum[0] !== wal.readUInt32BE(off + 16) || sum[1] !== wal.readUInt32BE(off + 20)) break;
    const commitSize = wal.readUInt32BE(off + 4);
    if (commitSize !== 0) {
      dbPages = commitSize;
      frames = (off - 32) / frameSize + 1;
    }
  }
  if (frames === 0) return undefined;
  // In log order, so a page's last committed copy wins.
  const pages = new Map<number, number>();
  for (let f = 0; f < frames; f++) {
    const off = 32 + f * frameSize;
    const pgno = wal.readUInt32BE(off);
    if (pgno <= dbPages) pages.set(pgno, off + 24);
  }
  return { wal, pages, dbPages, frames, pageSize };
}

/** `main` with the WAL's committed pages written over it. */
export function applyWal(main: Buffer, wal: Buffer): { image: Buffer; frames: number } {
  const index = walIndex(wal);
  if (!index) return { image: main, frames: 0 };
  const image = Buffer.alloc(index.dbPages * index.pageSize);
  main.copy(image, 0, 0, Math.min(main.length, image.length));
  for (const [pgno, off] of index.pages) wal.copy(image, (pgno - 1) * index.pageSize, off, off + index.pageSize);
  return { image, frames: index.frames };
}

/** SQLite's WAL checksum over `len` bytes (a multiple of 8) of 32-bit words in the WAL's byte order. */
function checksum(buf: Buffer, start: number, len: number, [s0, s1]: [number, number] | number[], bigEndian: boolean): [number, number] {
  let a = s0!;
  let b = s1!;
  for (let i = start; i < start + len; i += 8) {
    const x0 = bigEndian ? buf.readUInt32BE(i) : buf.readUInt32LE(i);
    const x1 = bigEndian ? buf.readUInt32BE(i + 4) : buf.readUInt32LE(i + 4);
    a = (a + x0 + b) >>> 0;
    b = (b + x1 + a) >>> 0;
  }
  return [a, b];
}
