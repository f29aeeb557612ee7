/**
 * A minimal protobuf wire-format reader: enough to walk OTLP messages field by field without
 * a schema compiler. Every read is bounds-checked; malformed input throws ProtobufError.
 */
export class ProtobufError extends Error {}

export type WireValue =
  | { wire: 0; value: bigint }
  | { wire: 1; value: Uint8Array }
  | { wire: 2; value: Uint8Array }
  | { wire: 5; value: Uint8Array };

export interface WireField {
  field: number;
  v: WireValue;
}

const MAX_DEPTH = 64;

export class ProtobufReader {
  private pos = 0;

  constructor(
    private readonly buf: Uint8Array,
    private readonly depth = 0,
  ) {
    if (depth > MAX_DEPTH) throw new ProtobufError(`messages nested deeper than ${MAX_DEPTH} levels`);
  }

  private varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw new ProtobufError(`truncated varint at byte ${this.pos}`);
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
    throw new ProtobufError(`varint longer than 10 bytes at byte ${this.pos}`);
  }

  private take(n: number): Uint8Array {
    if (n < 0 || this.pos + n > this.buf.length) throw new ProtobufError(`field of ${n} bytes runs past the end of the message at byte ${this.pos}`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** All fields of the message, in wire order. */
  fields(): WireField[] {
    const out: WireField[] = [];
    while (this.pos < this.buf.length) {
      const key = this.varint();
      const field = Number(key >> 3n);
      const wire = Number(key & 7n);
      if (field === 0) throw new ProtobufError(`field number 0 at byte ${this.pos}`);
      switch (wire) {
        case 0:
          out.push({ field, v: { wire: 0, value: this.varint() } });
          break;
        case 1:
          out.push({ field, v: { wire: 1, value: this.take(8) } });
          break;
        case 2: {
          const len = this.varint();
          if (len > BigInt(this.buf.length)) throw new ProtobufError(`length ${len} exceeds the message size`);
          out.push({ field, v: { wire: 2, value: this.take(Number(len)) } });
          break;
        }
        case 5:
          out.push({ field, v: { wire: 5, value: this.take(4) } });
          break;
        default:
          throw new ProtobufError(`unsupported wire type ${wire} for field ${field}`);
      }
    }
    return out;
  }

  /** A reader for an embedded message. */
  child(bytes: Uint8Array): ProtobufReader {
    return new ProtobufReader(bytes, this.depth + 1);
  }
}

function expectWire(f: WireField, wire: number, what: string): void {
  if (f.v.wire !== wire) throw new ProtobufError(`${what} (field ${f.field}) has wire type ${f.v.wire}, expected ${wire}`);
}

export function bytesOf(f: WireField, what: string): Uint8Array {
  expectWire(f, 2, what);
  return f.v.value as Uint8Array;
}

export function stringOf(f: WireField, what: string): string {
  const bytes = bytesOf(f, what);
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
}

export function varintOf(f: WireField, what: string): bigint {
  expectWire(f, 0, what);
  return f.v.value as bigint;
}

export function fixed64Of(f: WireField, what: string): bigint {
  expectWire(f, 1, what);
  const b = f.v.value as Uint8Array;
  return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
}

export function doubleOf(f: WireField, what: string): number {
  expectWire(f, 1, what);
  const b = f.v.value as Uint8Array;
  return new DataView(b.buffer, b.byteOffset, 8).getFloat64(0, true);
}

/** int64 as a JS number when exact, else its decimal string. */
export function int64Value(v: bigint): number | string {
  const signed = BigInt.asIntN(64, v);
  return signed >= BigInt(Number.MIN_SAFE_INTEGER) && signed <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(signed) : signed.toString();
}
