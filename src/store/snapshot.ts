/**
 * Checkpoint snapshots of the sql.js image, written so that a full disk or a crash at any moment
 * leaves a good snapshot in place:
 *   store.sqlite       the newest checkpoint
 *   store.prev.sqlite  the one before it (the journal is kept back to it, so a damaged newest
 *                      snapshot can be rebuilt from this one losing nothing)
 *   store.sums.json    length and CRC-32 of the snapshots written, checked at start-up
 * A new snapshot goes to a temp file, is fsynced, read back and compared, and only then replaces
 * the old one; the caller drops journal files only after that.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { crc32 } from './crc32';
import { syncDir, writeSynced } from './durableFiles';

export const SNAPSHOT_FILE = 'store.sqlite';
export const PREV_SNAPSHOT_FILE = 'store.prev.sqlite';
const SUMS_FILE = 'store.sums.json';
const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');
const KEEP_SUMS = 6;

export interface SnapshotSum {
  bytes: number;
  crc32: number;
  /** The first journal generation not folded into this snapshot. */
  gen: number;
  time: number;
}

function readSums(dir: string): SnapshotSum[] | undefined {
  try {
    const parsed = JSON.parse(fs.readFileSync(path.join(dir, SUMS_FILE), 'utf8')) as unknown;
    if (!Array.isArray(parsed)) return undefined;
    return parsed.filter(
      (s): s is SnapshotSum => typeof s === 'object' && s !== null && typeof (s as SnapshotSum).bytes === 'number' && typeof (s as SnapshotSum).crc32 === 'number',
    );
  } catch {
    return undefined;
  }
}

function fileCrc(file: string): { bytes: number; crc32: number } {
  const fd = fs.openSync(file, 'r');
  try {
    const chunk = Buffer.allocUnsafe(4 * 1024 * 1024);
    let crc = 0;
    let bytes = 0;
    for (;;) {
      const n = fs.readSync(fd, chunk, 0, chunk.length, bytes);
      if (n === 0) break;
      crc = crc32(chunk.subarray(0, n), crc);
      bytes += n;
    }
    return { bytes, crc32: crc };
  } finally {
    fs.closeSync(fd);
  }
}

export type SnapshotCheck =
  | { ok: true; file: string; data: Buffer; sum?: SnapshotSum }
  | { ok: false; file: string; missing: boolean; reason: string };

/**
 * Reads a snapshot and checks it against the sums written with it: missing, truncated or changed
 * files are named as such (the caller still has to open the image to know it is a database).
 */
export function checkSnapshot(dir: string, name: string): SnapshotCheck {
  const file = path.join(dir, name);
  if (!fs.existsSync(file)) return { ok: false, file, missing: true, reason: 'the file is missing' };
  const data = fs.readFileSync(file);
  if (data.length < SQLITE_MAGIC.length || !data.subarray(0, SQLITE_MAGIC.length).equals(SQLITE_MAGIC)) {
    return { ok: false, file, missing: false, reason: `it is not an SQLite database (${data.length} bytes, bad header)` };
  }
  const sums = readSums(dir);
  if (sums === undefined) return { ok: true, file, data }; // a store from before sums were kept
  const crc = crc32(data);
  const sum = sums.find((s) => s.bytes === data.length && s.crc32 === crc);
  if (sum) return { ok: true, file, data, sum };
  const sameLength = sums.some((s) => s.bytes === data.length);
  const longest = Math.max(0, ...sums.map((s) => s.bytes));
  const reason = sameLength
    ? 'its checksum does not match the one written with it (bytes changed on disk)'
    : data.length < longest
      ? `it is ${data.length} bytes, shorter than any checkpoint written (truncated)`
      : `its length (${data.length} bytes) and checksum match no checkpoint written`;
  return { ok: false, file, missing: false, reason };
}

/**
 * Writes `image` as the new snapshot. Throws (leaving the old snapshots as they were) if any byte
 * did not reach the file or the file read back differs; `opens` must confirm the image is a usable
 * database whose journal generation is `gen`.
 */
export async function writeSnapshot(dir: string, image: Uint8Array, gen: number, opens: (data: Uint8Array) => void): Promise<void> {
  const current = path.join(dir, SNAPSHOT_FILE);
  const tmp = `${current}.tmp`;
  const sumsFile = path.join(dir, SUMS_FILE);
  const prevTmp = path.join(dir, `${PREV_SNAPSHOT_FILE}.tmp`);
  try {
    await writeSynced(tmp, image);
    const written = fileCrc(tmp);
    const expected = crc32(image);
    if (written.bytes !== image.length || written.crc32 !== expected) {
      throw new Error(`the new snapshot read back wrong (${written.bytes} of ${image.length} bytes, crc ${written.crc32 === expected ? 'ok' : 'differs'})`);
    }
    opens(image);
    // Sums first: whichever snapshot a crash leaves in place, its sum is already recorded.
    const sums = [...(readSums(dir) ?? []), { bytes: image.length, crc32: expected, gen, time: Date.now() }].slice(-KEEP_SUMS);
    await writeSynced(`${sumsFile}.tmp`, Buffer.from(JSON.stringify(sums)));
    fs.renameSync(`${sumsFile}.tmp`, sumsFile);
    if (fs.existsSync(current)) {
      // Keep the current snapshot as the previous one; store.sqlite itself is never absent.
      fs.rmSync(prevTmp, { force: true });
      try {
        fs.linkSync(current, prevTmp);
      } catch {
        fs.copyFileSync(current, prevTmp); // file systems without hard links
      }
      fs.renameSync(prevTmp, path.join(dir, PREV_SNAPSHOT_FILE));
    }
    fs.renameSync(tmp, current);
    await syncDir(dir);
  } catch (err) {
    for (const f of [tmp, `${sumsFile}.tmp`, prevTmp]) fs.rmSync(f, { force: true });
    throw err;
  }
}
