/**
 * Deterministic random data for property tests: a seeded PRNG (mulberry32) so
 * a failure prints a seed that reproduces it exactly.
 */
import type { DataType, Tensor, TensorDataByType } from "../src/codec";

export class Random {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(min: number, maxInclusive: number): number {
    return min + Math.floor(this.next() * (maxInclusive - min + 1));
  }

  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.int(0, 255);
    return out;
  }

  /** Random shape of rank 0..maxRank whose element count stays small. */
  shape(maxRank = 3, maxDim = 6): number[] {
    const rank = this.int(0, maxRank);
    return Array.from({ length: rank }, () => this.int(0, maxDim));
  }

  /** A string mixing ASCII, multi-byte UTF-8, emoji and NULs. */
  text(maxLength = 12): string {
    const alphabet = ["a", "Z", "0", " ", "\u0000", "é", "ß", "語", "🎙️", "\n"];
    const length = this.int(0, maxLength);
    let out = "";
    for (let i = 0; i < length; i++) out += alphabet[this.int(0, alphabet.length - 1)];
    return out;
  }
}

/** Random data covering each type's full bit range (NaNs and infinities included for floats). */
export function randomData<D extends DataType>(random: Random, datatype: D, count: number): TensorDataByType[D] {
  const fill = <T extends { buffer: ArrayBufferLike }>(array: T): T => {
    new Uint8Array(array.buffer).set(random.bytes(new Uint8Array(array.buffer).byteLength));
    return array;
  };
  const make = (): TensorDataByType[DataType] => {
    switch (datatype) {
      case "BOOL": return Uint8Array.from({ length: count }, () => random.int(0, 1));
      case "UINT8": return fill(new Uint8Array(count));
      case "UINT16": case "FP16": case "BF16": return fill(new Uint16Array(count));
      case "UINT32": return fill(new Uint32Array(count));
      case "UINT64": return fill(new BigUint64Array(count));
      case "INT8": return fill(new Int8Array(count));
      case "INT16": return fill(new Int16Array(count));
      case "INT32": return fill(new Int32Array(count));
      case "INT64": return fill(new BigInt64Array(count));
      case "FP32": return fill(new Float32Array(count));
      case "FP64": return fill(new Float64Array(count));
      case "BYTES": return Array.from({ length: count }, () => (random.int(0, 1) ? random.text() : random.bytes(random.int(0, 9))));
      default: throw new Error(`no generator for ${String(datatype)}`);
    }
  };
  return make() as TensorDataByType[D];
}

export function randomTensor<D extends DataType>(random: Random, datatype: D, name = "T", shape = random.shape()): Tensor<D> {
  const count = shape.reduce((a, b) => a * b, 1);
  return { name, datatype, shape, data: randomData(random, datatype, count) } as Tensor<D>;
}

/** Byte-level equality, so NaN payloads and -0 compare exactly. */
export function sameBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  if (a.byteLength !== b.byteLength) return false;
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

export function utf8(element: string | Uint8Array): Uint8Array {
  return typeof element === "string" ? new TextEncoder().encode(element) : element;
}
