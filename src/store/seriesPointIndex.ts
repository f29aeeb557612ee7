/**
 * Which metric points a run already holds, so a point identical to ANY earlier one of the same
 * run and key (same step, timestamp and value) is not stored again: MLflow's SQL store keeps one
 * row per (key, timestamp, step, value, is_nan) per run (its primary key). The 3.x client re-sends
 * a run's metrics with every `log_model`, and some autologgers send a batch twice.
 *
 * Cost per point is O(1), independent of the history's length:
 * - each cached run has an open-addressing hash table of `[record index + 1, 32-bit hash]` pairs
 *   (Uint32Array, load factor at most 1/2, so a lookup probes a small constant number of slots
 *   on average; growth doubles the table, amortised O(1) per insert);
 * - a slot whose hash equals the new point's is confirmed by reading that one 32-byte record
 *   (from a write still in flight, or by position from the series file), so the answer is exact:
 *   a hash collision costs one read, never a dropped point; with 32-bit hashes a new point meets
 *   a false match about once in 2^32 probes, so in practice only true duplicates read anything;
 * - the table of a run not cached is built once from its series file, read in bounded chunks
 *   (O(history), once), and
 *   cached runs are kept in least-recently-written order up to MAX_CACHED_POINTS points in all
 *   (about 16-32 bytes per point), so memory stays bounded however many runs a store holds. The
 *   run being written is never evicted, so a single run larger than the cap is still O(1) per point.
 *
 * The check runs when a request is validated, before its op is journaled: the op carries only
 * the new points, so replaying the journal needs no index and reproduces the same history.
 */
import type { SeriesWrite } from './ops';
import type { JournalMetric } from './opTypes';
import { decodeMetricValue } from './ops';
import type { SeriesFiles } from './seriesFiles';
import { recordIntact, SERIES_RECORD_BYTES } from './seriesRecord';

const MAX_CACHED_POINTS = 2_000_000;
const MIN_SLOTS = 64;

const scratch = new Float64Array(3);
const scratchWords = new Uint32Array(scratch.buffer);

/**
 * A point's hash. -0 counts as 0 and every NaN as one value, as in MLflow's table (NaN is stored
 * as value 0 with is_nan set; SQL compares -0.0 = 0.0).
 */
function pointHash(keyId: number, step: number, ts: number, value: number): number {
  scratch[0] = step + 0;
  scratch[1] = ts + 0;
  scratch[2] = Number.isNaN(value) ? NaN : value + 0;
  let h = Math.imul(keyId ^ 0x2545f491, 0x9e3779b1);
  for (let i = 0; i < 6; i++) {
    h = Math.imul(h ^ scratchWords[i]!, 0x85ebca6b);
    h ^= h >>> 13;
  }
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function samePoint(a: number, b: number): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

class PointTable {
  slots: Uint32Array;
  count = 0;

  constructor(expected: number) {
    let n = MIN_SLOTS;
    while (n < expected * 2) n *= 2;
    this.slots = new Uint32Array(n * 2);
  }

  get capacity(): number {
    return this.slots.length / 2;
  }

  /** Whether a record with `hash` satisfying `matches(recordIndex)` is in the table. */
  has(hash: number, matches: (recordIndex: number) => boolean): boolean {
    const mask = this.capacity - 1;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const stored = this.slots[i * 2]!;
      if (stored === 0) return false;
      if (this.slots[i * 2 + 1] === hash && matches(stored - 1)) return true;
    }
  }

  add(hash: number, recordIndex: number): void {
    if ((this.count + 1) * 2 > this.capacity) this.grow();
    this.place(this.slots, hash, recordIndex + 1);
    this.count++;
  }

  private place(slots: Uint32Array, hash: number, stored: number): void {
    const mask = slots.length / 2 - 1;
    let i = hash & mask;
    while (slots[i * 2] !== 0) i = (i + 1) & mask;
    slots[i * 2] = stored;
    slots[i * 2 + 1] = hash;
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Uint32Array(old.length * 2);
    for (let i = 0; i < old.length; i += 2) if (old[i] !== 0) this.place(this.slots, old[i + 1]!, old[i]!);
  }
}

interface RecordView {
  keyId: number;
  step: number;
  ts: number;
  value: number;
}

function decodeRecord(buf: Buffer, at = 0): RecordView {
  return { keyId: buf.readUInt32LE(at), step: buf.readDoubleLE(at + 8), ts: buf.readDoubleLE(at + 16), value: buf.readDoubleLE(at + 24) };
}

export class SeriesPointIndex {
  /** Cached tables, least recently written first (Map keeps insertion order). */
  private readonly runs = new Map<string, PointTable>();
  private cachedPoints = 0;

  constructor(
    private readonly series: SeriesFiles,
    private readonly maxCachedPoints: number = MAX_CACHED_POINTS,
  ) {
    series.onReset(() => this.clear());
  }

  /** Drops every table (memory was rebuilt from disk; tables are rebuilt when next needed). */
  clear(): void {
    this.runs.clear();
    this.cachedPoints = 0;
  }

  /**
   * The points of `rows` (already unique among themselves) that the run does not hold yet.
   * `keyIdOf` gives the series key id of a key the run has logged before, else undefined (then
   * none of its points can be a duplicate). `records` is the run's series length.
   */
  newPoints(runUuid: string, records: number, rows: JournalMetric[], keyIdOf: (key: string) => number | undefined): JournalMetric[] {
    if (rows.length === 0 || records === 0) return rows;
    const ids = new Map<string, number | undefined>();
    for (const [key] of rows) if (!ids.has(key)) ids.set(key, keyIdOf(key));
    if (![...ids.values()].some((id) => id !== undefined)) return rows;
    const table = this.table(runUuid, records);
    return rows.filter(([key, raw, ts, step]) => {
      const keyId = ids.get(key);
      if (keyId === undefined) return true;
      const value = decodeMetricValue(raw);
      const hash = pointHash(keyId, step, ts, value);
      return !table.has(hash, (index) => {
        if (index >= records) return false;
        const rec = this.series.recordAt(runUuid, index);
        if (!rec || !recordIntact(new Uint32Array(rec.buffer, rec.byteOffset, SERIES_RECORD_BYTES / 4), 0)) return false;
        const r = decodeRecord(rec);
        return r.keyId === keyId && r.step === step && r.ts === ts && samePoint(r.value, value);
      });
    });
  }

  /** Adds the records an applied op produced (a run not cached is built from disk when needed). */
  added(w: SeriesWrite): void {
    const table = this.runs.get(w.runUuid);
    if (!table) return;
    const n = w.records.length / SERIES_RECORD_BYTES;
    for (let i = 0; i < n; i++) {
      const r = decodeRecord(w.records, i * SERIES_RECORD_BYTES);
      table.add(pointHash(r.keyId, r.step, r.ts, r.value), w.firstRecord + i);
    }
    this.cachedPoints += n;
    this.touch(w.runUuid, table);
  }

  private table(runUuid: string, records: number): PointTable {
    let table = this.runs.get(runUuid);
    if (!table) {
      table = this.build(runUuid, records);
      this.cachedPoints += table.count;
    }
    this.touch(runUuid, table);
    return table;
  }

  /** Moves a run to the most recently written end and evicts the oldest others past the cap. */
  private touch(runUuid: string, table: PointTable): void {
    this.runs.delete(runUuid);
    this.runs.set(runUuid, table);
    for (const [uuid, t] of this.runs) {
      if (this.cachedPoints <= this.maxCachedPoints || uuid === runUuid) break;
      this.runs.delete(uuid);
      this.cachedPoints -= t.count;
    }
  }

  private build(runUuid: string, records: number): PointTable {
    const table = new PointTable(records);
    this.series.scanRecords(runUuid, records, (chunk, first) => {
      const words = new Uint32Array(chunk.buffer, chunk.byteOffset, chunk.length / 4);
      const n = chunk.length / SERIES_RECORD_BYTES;
      for (let r = 0; r < n; r++) {
        if (!recordIntact(words, r)) continue; // lost or damaged: not in the history either
        const p = decodeRecord(chunk, r * SERIES_RECORD_BYTES);
        table.add(pointHash(p.keyId, p.step, p.ts, p.value), first + r);
      }
    });
    return table;
  }
}
