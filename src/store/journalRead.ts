/**
 * Reading the write-ahead journal: one record per line, `<crc32 as 8 hex> <json>\n`. JSON never
 * holds a raw newline, so the newline is the frame: a damaged record costs that record only, and
 * replay resynchronises at the next line. A journal file may end in zeros (preallocated by the
 * writer, see journal.ts): they are the end of the journal, never damage.
 */
import * as fs from 'node:fs';
import { crc32 } from './crc32';

export function encodeRecord(payload: unknown): Buffer {
  const text = JSON.stringify(payload);
  // One buffer, the JSON encoded straight into it (no second copy to join head, body and newline).
  const out = Buffer.allocUnsafe(10 + Buffer.byteLength(text, 'utf8'));
  const end = 9 + out.write(text, 9, 'utf8');
  out.write(crc32(out.subarray(9, end)).toString(16).padStart(8, '0'), 0, 'latin1');
  out[8] = 0x20;
  out[end] = 0x0a;
  return out;
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

/** Where the bytes of `data` end once a tail of zeros (preallocated, never written) is left off. */
export function endOfData(data: Uint8Array): number {
  let end = data.length;
  while (end > 0 && data[end - 1] === 0) end--;
  return end;
}

export function parseJournal(whole: Buffer): JournalReadResult {
  const result: JournalReadResult = { records: [], goodBytes: 0, damaged: [] };
  // The preallocated zeros are not records. What a cut-off write left in them (a record's start,
  // or a later page of it that landed before an earlier one) is the last line: a torn tail.
  const data = whole.subarray(0, endOfData(whole));
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

