/**
 * The audit trail: one JSON line per mutating operation (applied or refused), each carrying the
 * SHA-256 of the previous line's hash and its own content, so editing, removing or reordering any
 * entry breaks the chain from there on. Appends are group-committed: entries that arrive while a
 * write + fdatasync is in flight go out together in the next one, and an append resolves only
 * once its line is on disk.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
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
}

export interface AuditEntry extends AuditFields {
  seq: number;
  prev: string;
  hash: string;
}

export const GENESIS = '0'.repeat(64);

export function entryHash(prev: string, fields: Omit<AuditEntry, 'hash'>): string {
  return createHash('sha256').update(prev).update('\n').update(JSON.stringify(fields)).digest('hex');
}

export interface VerifyResult {
  entries: number;
  /** The first entry that does not match its chain, with why. */
  bad?: { line: number; seq?: number | undefined; reason: string } | undefined;
  /** A last line cut short by a crash (never acknowledged, so not damage). */
  tornTail: boolean;
}

/** Checks every line's hash and link; stops at the first that does not hold. */
export function verifyAuditText(text: string): VerifyResult {
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
  private seq = 0;
  private prev = GENESIS;
  private pending: { fields: AuditFields; resolve: (e: AuditEntry) => void; reject: (e: unknown) => void }[] = [];
  private flushing: Promise<void> | undefined;
  private closed = false;

  private constructor(
    readonly file: string,
    private readonly fh: fs.promises.FileHandle,
    private size: number,
  ) {}

  /**
   * Opens (creating) the trail, handing every intact entry to `replay` in order. A torn last line
   * (a crash mid-append: never acknowledged) is cut off; a broken chain is reported, not repaired.
   */
  static async open(dir: string, replay: (e: AuditEntry) => void, warn: (msg: string) => void): Promise<AuditLog> {
    await fs.promises.mkdir(dir, { recursive: true });
    const file = path.join(dir, AUDIT_FILE);
    const text = await fs.promises.readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? '' : Promise.reject(e)));
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
    const fh = await fs.promises.open(file, fs.constants.O_RDWR | fs.constants.O_CREAT);
    if (check.tornTail) {
      await fh.truncate(keep);
      await fh.datasync();
    }
    if (text === '') {
      // A new file: its directory entry must be durable before the first append is acknowledged.
      const d = await fs.promises.open(dir, 'r');
      try {
        await d.sync();
      } finally {
        await d.close();
      }
    }
    const log = new AuditLog(file, fh, keep);
    log.seq = seq;
    log.prev = prev;
    return log;
  }

  get lastSeq(): number {
    return this.seq;
  }

  /**
   * Queues the entry (order is the order of calls) and resolves once it is on disk. Entries are
   * chained when their group is written, so a failed write leaves no gap in the chain.
   */
  append(fields: AuditFields): Promise<AuditEntry> {
    if (this.closed) return Promise.reject(new Error('the audit trail is closed'));
    return new Promise<AuditEntry>((resolve, reject) => {
      this.pending.push({ fields, resolve, reject });
      this.flushing ??= this.flushLoop();
    });
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.pending.length) {
        const group = this.pending;
        this.pending = [];
        let seq = this.seq;
        let prev = this.prev;
        const entries = group.map((g) => {
          const unsigned: Omit<AuditEntry, 'hash'> = { seq: ++seq, ...g.fields, prev };
          const entry: AuditEntry = { ...unsigned, hash: entryHash(prev, unsigned) };
          prev = entry.hash;
          return entry;
        });
        try {
          const data = Buffer.from(entries.map((e) => JSON.stringify(e) + '\n').join(''));
          let off = 0;
          while (off < data.length) {
            const { bytesWritten } = await this.fh.write(data, off, data.length - off, this.size + off);
            if (bytesWritten <= 0) throw new Error(`short write to ${this.file}`);
            off += bytesWritten;
          }
          await this.fh.datasync();
          this.size += data.length;
          this.seq = seq;
          this.prev = prev;
          group.forEach((g, i) => g.resolve(entries[i]!));
        } catch (err) {
          // Whatever part of the group reached the file is a torn tail: cut it so the chain stays whole.
          await this.fh.truncate(this.size).catch(() => undefined);
          for (const g of group) g.reject(err);
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.flushing) await this.flushing;
    await this.fh.close();
  }
}
