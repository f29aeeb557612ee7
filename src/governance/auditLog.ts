/**
 * The audit trail: one JSON line per mutating operation (applied or refused), each carrying the
 * SHA-256 of the previous line's hash and its own content, so editing, removing or reordering any
 * entry breaks the chain from there on. Appends go through the store's journal writer: group
 * commit (entries that arrive while a write + fdatasync is in flight go out together in the next
 * one), a preallocated file (zeros written ahead, so a commit's fdatasync never logs a new file
 * size: what lets it overlap the store's own commit cheaply, see governed.ts), and an append
 * resolves only once its line is on disk. A clean close cuts the unused zeros off, so the trail at
 * rest is plain JSON lines; readers leave a zero tail (a crash's) out.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { JournaledFile } from '../backend/api/journaledFiles';
import { JournalWriter } from '../store/journal';
import type { Attribution } from './attribution';

export type Outcome = 'ok' | 'refused' | 'failed' | 'warned';

export interface AuditTarget {
  experiment_id?: string;
  run_id?: string;
  parent_run_id?: string;
  model?: string;
  version?: string;
  trace_id?: string;
  path?: string;
}

/** What the caller supplies; the log adds seq, prev and hash. */
export interface AuditFields {
  ts: number;
  actor: string;
  attribution: Attribution;
  op: string;
  target: AuditTarget;
  outcome: Outcome;
  reason?: string;
  /** Cost charged for the operation, in nano-dollars (see pricing.ts). */
  cost_nano: number;
  /** Bytes stored by the operation (artifact uploads), for storage cost. */
  bytes?: number;
  /** LLM cost charged per trace (part of cost_nano), so a trace's spans are charged once. */
  llm_nano?: Record<string, number>;
  /** Attribution tags (and the parent link) the operation set on its run. */
  tags?: Record<string, string>;
  /**
   * Set on the entry that takes back an earlier one: an operation is audited as it is applied
   * (both syncs overlap), and when applying it then fails, this entry (outcome `failed`, the
   * negated cost) follows the `ok` one with that entry's seq.
   */
  reverses?: number;
}

export interface AuditEntry extends AuditFields {
  seq: number;
  prev: string;
  hash: string;
}

export const GENESIS = '0'.repeat(64);

export function entryHash(prev: string, fields: Omit<AuditEntry, 'hash'>): string {
  return hashOfJson(prev, JSON.stringify(fields));
}

/** One-shot SHA-256 where Node has it (20.12+), else the streaming hash: the same digest. */
const sha256Hex: (text: string) => string =
  typeof crypto.hash === 'function' ? (text) => crypto.hash('sha256', text, 'hex') : (text) => crypto.createHash('sha256').update(text).digest('hex');

/** The hash of an entry given the JSON text of everything in it but its hash. */
function hashOfJson(prev: string, json: string): string {
  return sha256Hex(`${prev}\n${json}`);
}

export interface VerifyResult {
  entries: number;
  /** The first entry that does not match its chain, with why. */
  bad?: { line: number; seq?: number | undefined; reason: string } | undefined;
  /** A last line cut short by a crash (never acknowledged, so not damage). */
  tornTail: boolean;
}

/** The trail's text without a tail of zeros (preallocated and never written: a crash leaves them). */
export function withoutZeroTail(text: string): string {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 0) end--;
  return end === text.length ? text : text.slice(0, end);
}

/** Reads the trail's entries as text (zero tail left out); '' when there is no trail yet. */
export async function readAuditText(file: string): Promise<string> {
  const text = await fs.promises.readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? '' : Promise.reject(e)));
  return withoutZeroTail(text);
}

/** Checks every line's hash and link; stops at the first that does not hold. */
export function verifyAuditText(whole: string): VerifyResult {
  const text = withoutZeroTail(whole);
  const lines = text.split('\n');
  const tornTail = lines.length > 0 && lines[lines.length - 1] !== '';
  // The last element is '' after a final newline, or the torn line: either way not a complete entry.
  const complete = lines.slice(0, -1);
  let prev = GENESIS;
  let expectSeq = 1;
  for (let i = 0; i < complete.length; i++) {
    const line = complete[i]!;
    let e: AuditEntry;
    try {
      e = JSON.parse(line) as AuditEntry;
    } catch {
      return { entries: i, bad: { line: i + 1, reason: 'not a JSON entry' }, tornTail };
    }
    const { hash, ...rest } = e;
    if (e.seq !== expectSeq) return { entries: i, bad: { line: i + 1, seq: e.seq, reason: `sequence number ${e.seq}, expected ${expectSeq} (an entry was removed or reordered)` }, tornTail };
    if (e.prev !== prev) return { entries: i, bad: { line: i + 1, seq: e.seq, reason: 'link to the previous entry does not match (an earlier entry was changed)' }, tornTail };
    if (entryHash(prev, rest) !== hash) return { entries: i, bad: { line: i + 1, seq: e.seq, reason: 'content does not match its hash (the entry was edited)' }, tornTail };
    prev = hash;
    expectSeq++;
  }
  return { entries: complete.length, tornTail };
}

export const AUDIT_FILE = 'audit.jsonl';

export class AuditLog {
  /** The last entry handed to the writer (the next one links to it). */
  private seq = 0;
  private prev = GENESIS;
  /** The last entry known on disk: where the chain goes on after a failed write. */
  private durableSeq = 0;
  private durablePrev = GENESIS;
  private closed = false;

  /** The journaled file's epoch when the chain was last started again from its durable end. */
  private epochSeen = 0;

  private constructor(
    readonly file: string,
    /** Either the trail's own writer (its own fdatasync per group), or the store's journal. */
    private readonly writer: JournalWriter | undefined,
    private readonly journaled: JournaledFile | undefined,
  ) {}

  /**
   * Opens (creating) the trail, handing every intact entry to `replay` in order. A torn last line
   * (a crash mid-append: never acknowledged) is cut off; a broken chain is reported, not repaired.
   */
  static async open(dir: string, replay: (e: AuditEntry) => void, warn: (msg: string) => void, journaled?: JournaledFile): Promise<AuditLog> {
    await fs.promises.mkdir(dir, { recursive: true });
    const file = path.join(dir, AUDIT_FILE);
    const existed = fs.existsSync(file);
    const whole = await fs.promises.readFile(file).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? Buffer.alloc(0) : Promise.reject(e)));
    const text = withoutZeroTail(whole.toString('utf8'));
    const check = verifyAuditText(text);
    if (check.bad) warn(`audit trail ${file}: line ${check.bad.line}: ${check.bad.reason}; run 'runlens audit verify' for details`);
    let keep = Buffer.byteLength(text);
    const lines = text.split('\n');
    if (check.tornTail) {
      keep -= Buffer.byteLength(lines[lines.length - 1]!);
      warn(`audit trail ${file}: dropped a partial last entry left by a crash`);
    }
    let seq = 0;
    let prev = GENESIS;
    for (const line of lines.slice(0, -1)) {
      try {
        const e = JSON.parse(line) as AuditEntry;
        replay(e);
        seq = Math.max(seq, e.seq);
        prev = e.hash;
      } catch {
        // Reported by verify above; later entries still count.
      }
    }
    if (keep < whole.length && journaled) {
      await journaled.cutTo(keep);
    } else if (keep < whole.length) {
      // A torn line or a crash's zeros: the writer appends after the last whole entry.
      const fh = await fs.promises.open(file, 'r+');
      try {
        await fh.truncate(keep);
        await fh.datasync();
      } finally {
        await fh.close();
      }
    }
    let log: AuditLog | undefined;
    if (journaled) {
      // The store replayed what its journal held for the trail before this was opened. Opening
      // the file now makes a failure to (no descriptors, no space) show at start, not at a write.
      journaled.size();
      log = new AuditLog(file, undefined, journaled);
      log.epochSeen = journaled.epoch();
      log.seq = log.durableSeq = seq;
      log.prev = log.durablePrev = prev;
      return log;
    }
    const writer = await JournalWriter.open(file, { onFailure: () => log?.rewind() });
    if (!existed) {
      // A new file: its directory entry must be durable before the first append is acknowledged.
      const d = await fs.promises.open(dir, 'r');
      try {
        await d.sync();
      } finally {
        await d.close();
      }
    }
    log = new AuditLog(file, writer, undefined);
    log.seq = log.durableSeq = seq;
    log.prev = log.durablePrev = prev;
    return log;
  }

  get lastSeq(): number {
    return this.durableSeq;
  }

  /** Whether the store the trail rides in refuses writes now (its writes, and the entries, would fail). */
  get storeRefusing(): boolean {
    return this.journaled?.refusing() ?? false;
  }

  /** The last entry chained was not written: the chain goes on from the one before it. */
  private takeBack(entry: AuditEntry): void {
    this.seq = entry.seq - 1;
    this.prev = entry.prev;
  }

  /** A write failed: every entry not yet on disk was cut off the file, so the chain goes on from the last that is. */
  private rewind(): void {
    this.seq = this.durableSeq;
    this.prev = this.durablePrev;
  }

  /**
   * Chains the entry (order is the order of calls) and resolves once it is on disk. A failed write
   * rejects every entry not yet on disk and the chain goes on from the last one that is, so it has
   * no gap; the next append finds the writer accepting again.
   */
  append(fields: AuditFields): Promise<AuditEntry> {
    if (this.closed) return Promise.reject(new Error('the audit trail is closed'));
    if (this.writer?.failed) {
      try {
        this.writer.resume();
      } catch (err) {
        return Promise.reject(err as Error);
      }
    }
    const unsigned: Omit<AuditEntry, 'hash'> = { seq: this.seq + 1, ...fields, prev: this.prev };
    // The line is the unsigned entry's JSON with the hash added last: what verify parses back and
    // re-serialises (the same keys in the same order) to check it. Serialised once, not twice.
    const json = JSON.stringify(unsigned);
    const hash = hashOfJson(this.prev, json);
    const entry = unsigned as AuditEntry;
    entry.hash = hash;
    this.seq = entry.seq;
    this.prev = hash;
    const line = `${json.slice(0, -1)},"hash":"${hash}"}\n`;
    const durable = () => {
      this.durableSeq = entry.seq;
      this.durablePrev = entry.hash;
    };
    if (this.journaled) {
      const journaled = this.journaled;
      let appended: Promise<void>;
      try {
        appended = journaled.append(line);
      } catch (err) {
        // Nothing was written (the file could not be opened): the chain takes the entry back.
        this.takeBack(entry);
        return Promise.reject(err as Error);
      }
      return appended.then(
        () => {
          durable();
          return entry;
        },
        (err: unknown) => {
          // Every entry not yet durable was dropped with the failed write: the chain goes on from
          // the last durable one. The first rejection of a failure does it, before anything can
          // append again (appends after a failure wait on these rejections).
          const epoch = journaled.epoch();
          if (epoch !== this.epochSeen) {
            this.epochSeen = epoch;
            this.rewind();
          } else if (entry.seq === this.seq) {
            // Refused alone (the store is closing), nothing chained onto it yet: take just it back.
            this.takeBack(entry);
          }
          throw err;
        },
      );
    }
    return this.writer!.append(Buffer.from(line), durable).then(() => entry);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.writer?.close();
  }
}
