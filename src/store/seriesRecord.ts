/**
 * One metric point in a series file: 32 bytes, `[u32 key id][u32 check][f64 step][f64 timestamp]
 * [f64 value]`, little-endian. `check` is a hash of the other seven words, so a flipped byte, a
 * record torn by a crash or a hole of zeros left by a truncated file is recognised and dropped
 * instead of read as a point (step 0, timestamp 0, value 0). Files written before checks existed
 * hold 0 there: such a record is accepted unless it is all zeros (a hole).
 */
export const SERIES_RECORD_BYTES = 32;
const WORDS = SERIES_RECORD_BYTES / 4;
const SEED = 0x52554e4c; // 'RUNL'

function hashRecord(words: Uint32Array, base: number): number {
  let h = SEED;
  for (let i = 0; i < WORDS; i++) {
    if (i === 1) continue;
    // Each step is a bijection of h for a fixed word, so changing any one word changes the result.
    h = Math.imul(h ^ words[base + i]!, 0x9e3779b1);
    h ^= h >>> 15;
  }
  h >>>= 0;
  return h === 0 ? 1 : h; // 0 means "not checked" (older files)
}

/** Fills in the check word of every record in `buf` (a fresh, 4-byte aligned buffer). */
export function sealRecords(buf: Buffer): void {
  const words = new Uint32Array(buf.buffer, buf.byteOffset, buf.length / 4);
  for (let base = 0; base < words.length; base += WORDS) words[base + 1] = hashRecord(words, base);
}

/** Whether record `r` of an aligned word view is intact. */
export function recordIntact(words: Uint32Array, r: number): boolean {
  const base = r * WORDS;
  const check = words[base + 1]!;
  if (check !== 0) return check === hashRecord(words, base);
  for (let i = 0; i < WORDS; i++) if (words[base + i] !== 0) return true; // an older, unchecked record
  return false; // all zeros: a hole, never a logged point
}
