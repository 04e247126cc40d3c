/** Codec properties on seeded random data: round trips, zero-copy views, clear shape errors. */
import { describe, expect, test } from "bun:test";
import {
  DATA_TYPES,
  TritonError,
  bytesToStrings,
  decodeTensorData,
  encodeBytesElements,
  encodeTensorData,
  type DataType,
  type Tensor,
} from "@triton-client";
import { Random, randomTensor, sameBytes, utf8 } from "./random";

const NUMERIC_TYPES = DATA_TYPES.filter((type) => type !== "BYTES") as Exclude<DataType, "BYTES">[];
const ITERATIONS = 300;

function roundTrip(tensor: Tensor, offset = 0) {
  const encoded = encodeTensorData(tensor);
  // Place the bytes at `offset` inside a larger buffer, as they sit inside a received gRPC message.
  const carrier = new Uint8Array(encoded.byteLength + offset + 3);
  carrier.set(encoded, offset);
  const raw = carrier.subarray(offset, offset + encoded.byteLength);
  return { encoded, raw, decoded: decodeTensorData(tensor.datatype, tensor.shape, raw, tensor.name) };
}

describe("numeric datatypes", () => {
  for (const datatype of NUMERIC_TYPES) {
    test(`${datatype}: random tensors survive encode -> decode bit-exactly, aligned or not`, () => {
      const random = new Random(0xc0dec + datatype.length * 7919 + datatype.charCodeAt(0));
      for (let i = 0; i < ITERATIONS; i++) {
        const tensor = randomTensor(random, datatype);
        const offset = random.int(0, 7);
        const { decoded } = roundTrip(tensor, offset);
        const data = tensor.data as ArrayBufferView;
        if (!sameBytes(decoded as ArrayBufferView, data)) {
          throw new Error(`seed ${random.seed} iteration ${i}: ${datatype} shape [${tensor.shape}] offset ${offset} did not round-trip`);
        }
        expect((decoded as ArrayBufferView).constructor).toBe(data.constructor);
      }
    });
  }

  test("encoding is zero-copy: the wire bytes are a view of the caller's typed array", () => {
    const data = new Float32Array([1.5, -2, 3.25, 4]);
    const encoded = encodeTensorData({ name: "x", datatype: "FP32", shape: [2, 2], data });
    expect(encoded.buffer).toBe(data.buffer);
    expect(encoded.byteLength).toBe(16);
  });

  test("decoding an aligned slice returns a view on the received buffer; an unaligned one copies", () => {
    const carrier = new Uint8Array(64);
    new Float32Array(carrier.buffer, 8, 4).set([1, 2, 3, 4]);
    const aligned = decodeTensorData("FP32", [4], carrier.subarray(8, 24));
    expect(aligned.buffer).toBe(carrier.buffer);
    expect(Array.from(aligned)).toEqual([1, 2, 3, 4]);

    const shifted = new Uint8Array(64);
    shifted.set(carrier.subarray(8, 24), 9);
    const unaligned = decodeTensorData("FP32", [4], shifted.subarray(9, 25));
    expect(unaligned.buffer).not.toBe(shifted.buffer);
    expect(Array.from(unaligned)).toEqual([1, 2, 3, 4]);
  });

  test("values are little-endian on the wire", () => {
    const encoded = encodeTensorData({ name: "x", datatype: "INT32", shape: [1], data: new Int32Array([0x01020304]) });
    expect(Array.from(encoded)).toEqual([4, 3, 2, 1]);
    const big = encodeTensorData({ name: "x", datatype: "UINT64", shape: [1], data: new BigUint64Array([0x0102030405060708n]) });
    expect(Array.from(big)).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
  });

  test("BOOL bytes other than 0/1 are normalised to 1 without touching the caller's array", () => {
    const data = new Uint8Array([0, 1, 7, 255]);
    const encoded = encodeTensorData({ name: "b", datatype: "BOOL", shape: [4], data });
    expect(Array.from(encoded)).toEqual([0, 1, 1, 1]);
    expect(Array.from(data)).toEqual([0, 1, 7, 255]);
  });
});

describe("BYTES", () => {
  test("random elements (strings and raw bytes, empty ones included) round-trip", () => {
    const random = new Random(20261125);
    for (let i = 0; i < ITERATIONS; i++) {
      const tensor = randomTensor(random, "BYTES");
      const decoded = roundTrip(tensor, random.int(0, 5)).decoded as Uint8Array[];
      const expected = tensor.data.map(utf8);
      expect(decoded.length).toBe(expected.length);
      decoded.forEach((element, index) => {
        if (!sameBytes(element, expected[index]!)) throw new Error(`seed ${random.seed} iteration ${i} element ${index} differs`);
      });
    }
  });

  test("wire format is a 4-byte little-endian length before each element", () => {
    const encoded = encodeBytesElements(["hé", new Uint8Array([9]), ""]);
    expect(Array.from(encoded)).toEqual([3, 0, 0, 0, 0x68, 0xc3, 0xa9, 1, 0, 0, 0, 9, 0, 0, 0, 0]);
  });

  test("decoded elements are views on the received buffer (no copy) and decode back to text", () => {
    const raw = encodeBytesElements(["hello", "wörld"]);
    const decoded = decodeTensorData("BYTES", [2], raw);
    expect(decoded[0]!.buffer).toBe(raw.buffer);
    expect(bytesToStrings(decoded)).toEqual(["hello", "wörld"]);
  });

  test("truncated or overlong data fails with a clear error", () => {
    const raw = encodeBytesElements(["abc", "de"]);
    expect(() => decodeTensorData("BYTES", [2], raw.subarray(0, raw.length - 1), "text")).toThrow(/element 1 claims 2 bytes but only 1 remain/);
    expect(() => decodeTensorData("BYTES", [2], raw.subarray(0, 9), "text")).toThrow(/truncated length prefix/);
    expect(() => decodeTensorData("BYTES", [3], raw, "text")).toThrow(/needs 3 elements, but 2 arrived/);
  });
});

describe("shape checks", () => {
  test("data length must match the shape, with a message naming tensor, shape and counts", () => {
    let caught: unknown;
    try {
      encodeTensorData({ name: "AUDIO", datatype: "FP32", shape: [2, 3], data: new Float32Array(5) });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TritonError);
    expect((caught as TritonError).code).toBe(3); // INVALID_ARGUMENT
    expect((caught as TritonError).retryable).toBe(false);
    expect((caught as TritonError).message).toBe('input tensor "AUDIO" (FP32): shape [2, 3] needs 6 elements, but data has 5');
  });

  test("the data container must match the datatype", () => {
    const wrong = { name: "AUDIO", datatype: "FP32", shape: [2], data: new Float64Array(2) } as unknown as Tensor;
    expect(() => encodeTensorData(wrong)).toThrow('input tensor "AUDIO" (FP32): data must be a Float32Array, got Float64Array');
  });

  test("negative or fractional dimensions are rejected", () => {
    expect(() => encodeTensorData({ name: "x", datatype: "INT8", shape: [-1], data: new Int8Array(1) })).toThrow(/invalid dimension -1/);
    expect(() => encodeTensorData({ name: "x", datatype: "INT8", shape: [1.5], data: new Int8Array(1) })).toThrow(/invalid dimension 1.5/);
  });

  test("received byte counts must match the declared shape", () => {
    expect(() => decodeTensorData("INT64", [3], new Uint8Array(16), "IDS")).toThrow(
      'output tensor "IDS" (INT64): shape [3] needs 3 elements = 24 bytes, but 16 bytes arrived',
    );
  });

  test("scalars (rank 0) hold one element and empty dimensions hold none", () => {
    expect(roundTrip({ name: "s", datatype: "FP64", shape: [], data: new Float64Array([Math.PI]) }).decoded[0]).toBe(Math.PI);
    expect(roundTrip({ name: "e", datatype: "INT16", shape: [4, 0], data: new Int16Array(0) }).decoded.length).toBe(0);
  });
});
