/**
 * Tensor codec: KServe-v2 datatypes <-> JS typed arrays, using the raw
 * little-endian byte layout of `raw_input_contents` / `raw_output_contents`.
 *
 * Encoding never copies numeric data (the typed array's bytes are sent as they
 * are). Decoding returns a view on the received buffer when its offset is
 * aligned for the element type and copies only when it is not.
 */
import { invalidArgument } from "./errors";

/** Maps each wire datatype to the JS container that holds its elements. */
export interface TensorDataByType {
  BOOL: Uint8Array; // one byte per element, 0 or 1
  UINT8: Uint8Array;
  UINT16: Uint16Array;
  UINT32: Uint32Array;
  UINT64: BigUint64Array;
  INT8: Int8Array;
  INT16: Int16Array;
  INT32: Int32Array;
  INT64: BigInt64Array;
  FP16: Uint16Array; // IEEE half, raw bits
  BF16: Uint16Array; // bfloat16, raw bits
  FP32: Float32Array;
  FP64: Float64Array;
  BYTES: (string | Uint8Array)[]; // strings are sent as UTF-8
}

export type DataType = keyof TensorDataByType;

export const DATA_TYPES = [
  "BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64",
  "FP16", "BF16", "FP32", "FP64", "BYTES",
] as const satisfies readonly DataType[];

/** A tensor whose `data` container matches its `datatype` (discriminated union). */
export type Tensor<D extends DataType = DataType> = {
  [K in D]: { name: string; datatype: K; shape: number[]; data: TensorDataByType[K] };
}[D];

/** Decoded BYTES elements are always byte views; use `bytesToStrings` for text. */
export type DecodedTensorDataByType = Omit<TensorDataByType, "BYTES"> & { BYTES: Uint8Array[] };
export type DecodedTensor<D extends DataType = DataType> = {
  [K in D]: { name: string; datatype: K; shape: number[]; data: DecodedTensorDataByType[K] };
}[D];

type NumericType = Exclude<DataType, "BYTES">;

interface TypedArrayConstructorLike<T> {
  new (length: number): T;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): T;
  readonly BYTES_PER_ELEMENT: number;
}

const NUMERIC_CONTAINERS: { [K in NumericType]: TypedArrayConstructorLike<TensorDataByType[K]> } = {
  BOOL: Uint8Array,
  UINT8: Uint8Array,
  UINT16: Uint16Array,
  UINT32: Uint32Array,
  UINT64: BigUint64Array,
  INT8: Int8Array,
  INT16: Int16Array,
  INT32: Int32Array,
  INT64: BigInt64Array,
  FP16: Uint16Array,
  BF16: Uint16Array,
  FP32: Float32Array,
  FP64: Float64Array,
};

// Typed arrays use the host byte order and the wire is little-endian; every
// platform Bun ships for is little-endian, so fail loudly rather than send
// byte-swapped tensors if that ever changes.
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error("triton-client codec requires a little-endian host");
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

export function isDataType(value: string): value is DataType {
  return Object.hasOwn(NUMERIC_CONTAINERS, value) || value === "BYTES";
}

/** Bytes per element, or undefined for variable-size BYTES. */
export function elementSize(datatype: DataType): number | undefined {
  return datatype === "BYTES" ? undefined : NUMERIC_CONTAINERS[datatype].BYTES_PER_ELEMENT;
}

/** Number of elements a shape holds; validates the shape itself. */
export function elementCount(shape: readonly number[], where = "tensor"): number {
  let count = 1;
  for (const dim of shape) {
    if (!Number.isSafeInteger(dim) || dim < 0) {
      throw invalidArgument(`${where}: shape [${shape.join(", ")}] has invalid dimension ${dim}; dimensions must be non-negative integers`);
    }
    count *= dim;
  }
  return count;
}

/**
 * Serialises a tensor's elements to its raw wire bytes. Numeric data is
 * returned as a view over the caller's typed array (no copy), so the caller
 * must not mutate it until the request has been written.
 */
export function encodeTensorData(tensor: Tensor): Uint8Array {
  const where = `input tensor "${tensor.name}" (${tensor.datatype})`;
  const expected = elementCount(tensor.shape, where);
  if (tensor.datatype === "BYTES") {
    checkLength(tensor.data.length, expected, tensor.shape, where);
    return encodeBytesElements(tensor.data);
  }
  const Container = NUMERIC_CONTAINERS[tensor.datatype];
  if (!(tensor.data instanceof Container)) {
    const got = (tensor.data as object)?.constructor?.name ?? typeof tensor.data;
    throw invalidArgument(`${where}: data must be a ${Container.name}, got ${got}`);
  }
  checkLength(tensor.data.length, expected, tensor.shape, where);
  const bytes = new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
  return tensor.datatype === "BOOL" ? normaliseBool(bytes) : bytes;
}

/**
 * Rebuilds typed elements from raw wire bytes. `raw` may be a slice of a larger
 * received buffer; the result is a view on it whenever alignment allows.
 */
export function decodeTensorData<D extends DataType>(
  datatype: D,
  shape: readonly number[],
  raw: Uint8Array,
  name = "?",
): DecodedTensorDataByType[D] {
  const where = `output tensor "${name}" (${datatype})`;
  const expected = elementCount(shape, where);
  if (datatype === "BYTES") {
    return decodeBytesElements(raw, expected, shape, where) as DecodedTensorDataByType[D];
  }
  const Container = NUMERIC_CONTAINERS[datatype as NumericType];
  const size = Container.BYTES_PER_ELEMENT;
  if (raw.byteLength !== expected * size) {
    throw invalidArgument(
      `${where}: shape [${shape.join(", ")}] needs ${expected} elements = ${expected * size} bytes, but ${raw.byteLength} bytes arrived`,
    );
  }
  if (raw.byteOffset % size === 0) {
    return new Container(raw.buffer, raw.byteOffset, expected) as DecodedTensorDataByType[D];
  }
  // Unaligned slice of the message buffer: one copy into fresh, aligned memory.
  const copy = new Container(expected);
  new Uint8Array(copy.buffer).set(raw);
  return copy as DecodedTensorDataByType[D];
}

/** BYTES wire format: each element is a 4-byte little-endian length, then the bytes. */
export function encodeBytesElements(elements: readonly (string | Uint8Array)[]): Uint8Array {
  const encoded: Uint8Array[] = new Array(elements.length);
  let total = 0;
  for (let i = 0; i < elements.length; i++) {
    const element = elements[i];
    const bytes = typeof element === "string" ? utf8Encoder.encode(element) : element;
    if (!(bytes instanceof Uint8Array)) {
      throw invalidArgument(`BYTES element ${i} must be a string or Uint8Array, got ${typeof element}`);
    }
    encoded[i] = bytes;
    total += 4 + bytes.byteLength;
  }
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let offset = 0;
  for (const bytes of encoded) {
    view.setUint32(offset, bytes.byteLength, true);
    out.set(bytes, offset + 4);
    offset += 4 + bytes.byteLength;
  }
  return out;
}

function decodeBytesElements(raw: Uint8Array, expected: number, shape: readonly number[], where: string): Uint8Array[] {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const elements: Uint8Array[] = [];
  let offset = 0;
  while (offset < raw.byteLength) {
    if (offset + 4 > raw.byteLength) {
      throw invalidArgument(`${where}: truncated length prefix at byte ${offset} of ${raw.byteLength}`);
    }
    const length = view.getUint32(offset, true);
    const start = offset + 4;
    if (start + length > raw.byteLength) {
      throw invalidArgument(`${where}: element ${elements.length} claims ${length} bytes but only ${raw.byteLength - start} remain`);
    }
    elements.push(raw.subarray(start, start + length));
    offset = start + length;
  }
  if (elements.length !== expected) {
    throw invalidArgument(`${where}: shape [${shape.join(", ")}] needs ${expected} elements, but ${elements.length} arrived`);
  }
  return elements;
}

/** UTF-8 decodes BYTES elements (e.g. an LLM's text_output). */
export function bytesToStrings(elements: readonly (string | Uint8Array)[]): string[] {
  return elements.map((element) => (typeof element === "string" ? element : utf8Decoder.decode(element)));
}

function checkLength(actual: number, expected: number, shape: readonly number[], where: string): void {
  if (actual !== expected) {
    throw invalidArgument(`${where}: shape [${shape.join(", ")}] needs ${expected} elements, but data has ${actual}`);
  }
}

/** Triton reads BOOL bytes as C++ bool, so anything but 0/1 must be normalised (copying only then). */
function normaliseBool(bytes: Uint8Array): Uint8Array {
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i]! > 1) return bytes.map((value) => (value ? 1 : 0));
  }
  return bytes;
}

/**
 * Reads the typed `contents` field a server may use instead of raw bytes.
 * FP16/BF16 have no typed field in the protocol, so they can only come raw.
 */
export interface TypedContents {
  bool_contents: boolean[];
  int_contents: number[];
  int64_contents: string[];
  uint_contents: number[];
  uint64_contents: string[];
  fp32_contents: number[];
  fp64_contents: number[];
  bytes_contents: Uint8Array[];
}

export function decodeTypedContents<D extends DataType>(
  datatype: D,
  shape: readonly number[],
  contents: TypedContents,
  name = "?",
): DecodedTensorDataByType[D] {
  const where = `output tensor "${name}" (${datatype})`;
  const expected = elementCount(shape, where);
  const pick = (): ArrayLike<unknown> => {
    switch (datatype) {
      case "BOOL": return contents.bool_contents;
      case "INT8": case "INT16": case "INT32": return contents.int_contents;
      case "INT64": return contents.int64_contents;
      case "UINT8": case "UINT16": case "UINT32": return contents.uint_contents;
      case "UINT64": return contents.uint64_contents;
      case "FP32": return contents.fp32_contents;
      case "FP64": return contents.fp64_contents;
      case "BYTES": return contents.bytes_contents;
      default: throw invalidArgument(`${where}: ${datatype} has no typed contents field; expected raw_output_contents`);
    }
  };
  const source = pick();
  checkLength(source.length, expected, shape, where);
  if (datatype === "BYTES") return Array.from(source as Uint8Array[]) as DecodedTensorDataByType[D];
  const Container = NUMERIC_CONTAINERS[datatype as NumericType];
  const out = new Container(expected) as { [index: number]: unknown };
  const isBig = datatype === "INT64" || datatype === "UINT64";
  for (let i = 0; i < expected; i++) {
    const value = source[i];
    out[i] = isBig ? BigInt(value as string) : datatype === "BOOL" ? (value ? 1 : 0) : value;
  }
  return out as DecodedTensorDataByType[D];
}
