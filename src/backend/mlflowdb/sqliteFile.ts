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

const CACHE_PAGES = 4096;

export class SqliteFile {
  readonly pageSize: number;
  private readonly usable: number;
  private readonly cache = new Map<number, Buffer>();
  private readonly decoder = new TextDecoder();

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
    let p = this.cache.get(n);
    if (p) return p;
    const walOff = this.walPages?.pages.get(n);
    if (walOff !== undefined) p = this.walPages!.wal.subarray(walOff, walOff + this.pageSize);
    else {
      p = Buffer.alloc(this.pageSize);
      fs.readSync(this.fd, p, 0, this.pageSize, (n - 1) * this.pageSize);
    }
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
  *indexEquals(rootPage: number, key: string): Generator<number> {
    const target = Buffer.from(key, 'utf8');
    yield* this.indexRange(rootPage, target);
  }

  private *indexRange(n: number, target: Buffer): Generator<number> {
    const p = this.page(n);
    const type = p[0]!;
    const cells = p.readUInt16BE(3);
    const interior = type === 0x02;
    if (!interior && type !== 0x0a) throw new Error(`page ${n}: not an index b-tree page (type ${type})`);
    for (let i = 0; i < cells; i++) {
      const off = p.readUInt16BE((interior ? 12 : 8) + 2 * i);
      const values = this.record(this.payload(p, interior ? off + 4 : off, false));
      const cmp = compareFirst(values[0], target);
      // An interior cell's left subtree holds keys up to its own: skip it while the cell is below the key.
      if (cmp < 0) continue;
      if (interior) yield* this.indexRange(p.readUInt32BE(off), target);
      if (cmp > 0) return;
      yield Number(values[values.length - 1]);
    }
    if (interior) yield* this.indexRange(p.readUInt32BE(8), target);
  }

  /** The record of the row with `rowid`, or undefined. */
  row(rootPage: number, rowid: number): SqlValue[] | undefined {
    let n = rootPage;
    for (;;) {
      const p = this.page(n);
      const h = n === 1 ? 100 : 0;
      const type = p[h]!;
      const cells = p.readUInt16BE(h + 3);
      if (type === 0x0d) {
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
    const [headerSize, afterHeaderSize] = varint(buf, 0);
    const types: number[] = [];
    for (let o = afterHeaderSize; o < headerSize; ) {
      const [t, next] = varint(buf, o);
      types.push(t);
      o = next;
    }
    const values: SqlValue[] = [];
    let o = headerSize;
    for (const t of types) {
      if (t === 0) values.push(null);
      else if (t >= 1 && t <= 6) {
        const len = [0, 1, 2, 3, 4, 6, 8][t]!;
        values.push(len === 8 ? Number(buf.readBigInt64BE(o)) : buf.readIntBE(o, len));
        o += len;
      } else if (t === 7) {
        values.push(buf.readDoubleBE(o));
        o += 8;
      } else if (t === 8 || t === 9) values.push(t - 8);
      else if (t >= 12) {
        const len = (t - (t % 2 === 0 ? 12 : 13)) / 2;
        values.push(t % 2 === 0 ? new Uint8Array(buf.subarray(o, o + len)) : this.decoder.decode(buf.subarray(o, o + len)));
        o += len;
      } else throw new Error(`bad record serial type ${t}`);
    }
    return values;
  }
}

/** SQLite's varint (1–9 bytes, big-endian, 7 bits a byte, 8 in the ninth): [value, next offset]. */
export function varint(buf: Buffer, off: number): [number, number] {
  let v = 0;
  for (let i = 0; i < 8; i++) {
    const b = buf[off + i]!;
    v = v * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) return [v, off + i + 1];
  }
  return [v * 256 + buf[off + 8]!, off + 9];
}

/** BINARY collation of an index's first column against a text key: NULL < numbers < text < blobs. */
function compareFirst(v: SqlValue | undefined, target: Buffer): number {
  if (v === null || v === undefined || typeof v === 'number') return -1;
  if (typeof v === 'string') return Buffer.compare(Buffer.from(v, 'utf8'), target);
  return 1;
}
