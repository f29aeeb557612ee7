/**
 * A read-only reader of SQLite's file format that reads pages on demand, for an `mlflow.db` too
 * large for sql.js (which must hold the whole image in its WASM heap). Its metric history — tens
 * of millions of rows and three indexes over them, nearly all of the file — is read through the
 * `run_uuid` index a run at a time; the rest of the file is small and copied into sql.js.
 *
 * Covers what MLflow's schema uses: rowid tables and their indexes, overflow pages, UTF-8 text.
 * Pages still in a `-wal` file are read from it (`walPages`), so the reader sees what SQLite would.
 */
import * as fs from 'node:fs';
import type { SqlValue } from 'sql.js';

export interface SchemaRow {
  type: string;
  name: string;
  tblName: string;
  rootPage: number;
  sql: string | null;
}

/** Pages whose current copy is in the WAL: page number → offset of its data in `wal`. */
export interface WalPages {
  wal: Buffer;
  pages: Map<number, number>;
  dbPages: number;
  frames: number;
  pageSize: number;
}

/** Pages kept decoded-ready (64 MiB of 4 KiB pages): the upper levels of every b-tree stay in. */
const CACHE_PAGES = 16384;
/** Pages read per system call: a run's rows and index entries are stored next to each other. */
const READ_AHEAD_BYTES = 64 * 1024;

export class SqliteFile {
  readonly pageSize: number;
  private readonly usable: number;
  private readonly cache = new Map<number, Buffer>();
  private lastPageNo = -1;
  private lastPage: Buffer | undefined;
  /** The table leaf the last `row()` ended in, with its rowid range: the next rowid is usually there. */
  private lastLeaf: { root: number; page: number; first: number; last: number } | undefined;

  constructor(
    private readonly fd: number,
    private readonly walPages?: WalPages,
  ) {
    const head = Buffer.alloc(100);
    fs.readSync(fd, head, 0, 100, 0);
    if (head.toString('latin1', 0, 16) !== 'SQLite format 3\u0000') throw new Error('not an SQLite database');
    const size = head.readUInt16BE(16);
    this.pageSize = size === 1 ? 65536 : size;
    this.usable = this.pageSize - head[20]!;
    if (head.readUInt32BE(56) > 1) throw new Error('only UTF-8 databases can be read this way');
    // The WAL may hold a newer page 1 (and header); page size never changes under a WAL.
  }

  static open(file: string, walPages?: WalPages): SqliteFile {
    return new SqliteFile(fs.openSync(file, 'r'), walPages);
  }

  close(): void {
    fs.closeSync(this.fd);
  }

  /** Rows of `sqlite_master`. */
  schema(): SchemaRow[] {
    const out: SchemaRow[] = [];
    for (const [, v] of this.scanTable(1)) {
      out.push({ type: String(v[0]), name: String(v[1]), tblName: String(v[2]), rootPage: Number(v[3] ?? 0), sql: v[4] === null || v[4] === undefined ? null : String(v[4]) });
    }
    return out;
  }

  private page(n: number): Buffer {
    if (n === this.lastPageNo) return this.lastPage!;
    const p = this.lookup(n);
    this.lastPageNo = n;
    this.lastPage = p;
    return p;
  }

  private lookup(n: number): Buffer {
    const hit = this.cache.get(n);
    if (hit) {
      // Least recently used first: a hit moves to the end.
      this.cache.delete(n);
      this.cache.set(n, hit);
      return hit;
    }
    const walOff = this.walPages?.pages.get(n);
    if (walOff !== undefined) return this.remember(n, this.walPages!.wal.subarray(walOff, walOff + this.pageSize));
    const perRead = Math.max(1, Math.floor(READ_AHEAD_BYTES / this.pageSize));
    const first = n - ((n - 1) % perRead);
    const block = Buffer.alloc(perRead * this.pageSize);
    const got = fs.readSync(this.fd, block, 0, block.length, (first - 1) * this.pageSize);
    let wanted: Buffer | undefined;
    for (let i = 0; i * this.pageSize < got; i++) {
      const pg = first + i;
      const data = block.subarray(i * this.pageSize, (i + 1) * this.pageSize);
      if (pg === n) wanted = data;
      if (pg !== n && (this.cache.has(pg) || this.walPages?.pages.has(pg))) continue;
      this.remember(pg, data);
    }
    if (!wanted) throw new Error(`page ${n} is past the end of the file`);
    return this.remember(n, wanted);
  }

  private remember(n: number, p: Buffer): Buffer {
    this.cache.delete(n);
    if (this.cache.size >= CACHE_PAGES) this.cache.delete(this.cache.keys().next().value as number);
    this.cache.set(n, p);
    return p;
  }

  /** Every row of a rowid table, in rowid order, as [rowid, record values]. */
  *scanTable(rootPage: number): Generator<[number, SqlValue[]]> {
    const stack = [rootPage];
    // Depth first, children in order: an explicit stack of pages still to visit, reversed.
    while (stack.length > 0) {
      const n = stack.pop()!;
      const p = this.page(n);
      const h = n === 1 ? 100 : 0;
      const type = p[h]!;
      const cells = p.readUInt16BE(h + 3);
      if (type === 0x05) {
        const children: number[] = [];
        for (let i = 0; i < cells; i++) children.push(p.readUInt32BE(p.readUInt16BE(h + 12 + 2 * i)));
        children.push(p.readUInt32BE(h + 8));
        for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
      } else if (type === 0x0d) {
        for (let i = 0; i < cells; i++) yield this.tableLeafCell(p, p.readUInt16BE(h + 8 + 2 * i));
      } else {
        throw new Error(`page ${n}: not a table b-tree page (type ${type})`);
      }
    }
  }

  /** Rowids of the index entries whose first column equals `key` (a text value), in index order. */
  indexEquals(rootPage: number, key: string): number[] {
    const out: number[] = [];
    this.indexRange(rootPage, Buffer.from(key, 'utf8'), out);
    return out;
  }

  /** Appends matching rowids to `out`; false once past the key (the caller's later cells are too). */
  private indexRange(n: number, target: Buffer, out: number[]): boolean {
    const p = this.page(n);
    const type = p[0]!;
    const cells = p.readUInt16BE(3);
    const interior = type === 0x02;
    if (!interior && type !== 0x0a) throw new Error(`page ${n}: not an index b-tree page (type ${type})`);
    for (let i = 0; i < cells; i++) {
      const off = p.readUInt16BE((interior ? 12 : 8) + 2 * i);
      const payload = this.payload(p, interior ? off + 4 : off, false);
      const cmp = compareFirstColumn(payload, target);
      // An interior cell's left subtree holds keys up to its own: skip it while the cell is below the key.
      if (cmp < 0) continue;
      if (interior && !this.indexRange(p.readUInt32BE(off), target, out)) return false;
      if (cmp > 0) return false;
      const values = this.record(payload);
      out.push(Number(values[values.length - 1]));
    }
    return interior ? this.indexRange(p.readUInt32BE(8), target, out) : true;
  }

  /** The record of the row with `rowid`, or undefined. */
  row(rootPage: number, rowid: number): SqlValue[] | undefined {
    const memo = this.lastLeaf;
    let n = memo && memo.root === rootPage && rowid >= memo.first && rowid <= memo.last ? memo.page : rootPage;
    for (;;) {
      const p = this.page(n);
      const h = n === 1 ? 100 : 0;
      const type = p[h]!;
      const cells = p.readUInt16BE(h + 3);
      if (type === 0x0d) {
        if (cells > 0) {
          const first = varint(p, varint(p, p.readUInt16BE(h + 8))[1])[0];
          const last = varint(p, varint(p, p.readUInt16BE(h + 8 + 2 * (cells - 1)))[1])[0];
          this.lastLeaf = { root: rootPage, page: n, first, last };
        }
        let lo = 0;
        let hi = cells - 1;
        while (lo <= hi) {
          const mid = (lo + hi) >> 1;
          const off = p.readUInt16BE(h + 8 + 2 * mid);
          const [id] = varint(p, varint(p, off)[1]);
          if (id === rowid) return this.tableLeafCell(p, off)[1];
          if (id < rowid) lo = mid + 1;
          else hi = mid - 1;
        }
        return undefined;
      }
      if (type !== 0x05) throw new Error(`page ${n}: not a table b-tree page (type ${type})`);
      // The first cell whose key is >= rowid leads to it; past all of them, the right-most child.
      let lo = 0;
      let hi = cells;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        const off = p.readUInt16BE(h + 12 + 2 * mid);
        if (varint(p, off + 4)[0] < rowid) lo = mid + 1;
        else hi = mid;
      }
      n = lo < cells ? p.readUInt32BE(p.readUInt16BE(h + 12 + 2 * lo)) : p.readUInt32BE(h + 8);
    }
  }

  private tableLeafCell(p: Buffer, off: number): [number, SqlValue[]] {
    const [, afterSize] = varint(p, off);
    const [rowid, afterRowid] = varint(p, afterSize);
    return [rowid, this.record(this.payload(p, off, true, afterRowid))];
  }

  /** A cell's payload, following overflow pages; `off` is the payload-size varint (`start` its bytes, when known). */
  private payload(p: Buffer, off: number, tableLeaf: boolean, start?: number): Buffer {
    const [size, afterSize] = varint(p, off);
    const begin = start ?? afterSize;
    const u = this.usable;
    const x = tableLeaf ? u - 35 : Math.floor(((u - 12) * 64) / 255) - 23;
    if (size <= x) return p.subarray(begin, begin + size);
    const m = Math.floor(((u - 12) * 32) / 255) - 23;
    const k = m + ((size - m) % (u - 4));
    const local = k <= x ? k : m;
    const out = Buffer.alloc(size);
    p.copy(out, 0, begin, begin + local);
    let filled = local;
    let next = p.readUInt32BE(begin + local);
    while (filled < size && next !== 0) {
      const o = this.page(next);
      const n = Math.min(u - 4, size - filled);
      o.copy(out, filled, 4, 4 + n);
      filled += n;
      next = o.readUInt32BE(0);
    }
    return out;
  }

  private record(buf: Buffer): SqlValue[] {
    const headerSize = readVarint(buf, 0);
    const values: SqlValue[] = [];
    let h = varintEnd;
    let o = headerSize;
    while (h < headerSize) {
      const t = readVarint(buf, h);
      h = varintEnd;
      if (t === 0) values.push(null);
      else if (t >= 1 && t <= 6) {
        const len = INT_SIZES[t]!;
        values.push(len === 8 ? Number(buf.readBigInt64BE(o)) : buf.readIntBE(o, len));
        o += len;
      } else if (t === 7) {
        values.push(buf.readDoubleBE(o));
        o += 8;
      } else if (t === 8 || t === 9) values.push(t - 8);
      else if (t >= 12) {
        const len = (t - (t % 2 === 0 ? 12 : 13)) / 2;
        values.push(t % 2 === 0 ? new Uint8Array(buf.subarray(o, o + len)) : buf.toString('utf8', o, o + len));
        o += len;
      } else throw new Error(`bad record serial type ${t}`);
    }
    return values;
  }
}

const INT_SIZES = [0, 1, 2, 3, 4, 6, 8];

/** Where the varint read last ended: varints are read per cell and per column, so no tuple is allocated. */
let varintEnd = 0;

/** SQLite's varint (1–9 bytes, big-endian, 7 bits a byte, 8 in the ninth); its end is in `varintEnd`. */
export function readVarint(buf: Buffer, off: number): number {
  let v = 0;
  for (let i = 0; i < 8; i++) {
    const b = buf[off + i]!;
    v = v * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      varintEnd = off + i + 1;
      return v;
    }
  }
  varintEnd = off + 9;
  return v * 256 + buf[off + 8]!;
}

/** [value, next offset], for the few places that are not per row. */
export function varint(buf: Buffer, off: number): [number, number] {
  const v = readVarint(buf, off);
  return [v, varintEnd];
}

/** BINARY collation of a record's first column against a text key (NULL < numbers < text < blobs), read in place. */
function compareFirstColumn(record: Buffer, target: Buffer): number {
  const headerSize = readVarint(record, 0);
  const t = readVarint(record, varintEnd);
  if (t < 12) return -1;
  if (t % 2 === 0) return 1;
  const len = (t - 13) / 2;
  return record.compare(target, 0, target.length, headerSize, headerSize + len);
}
