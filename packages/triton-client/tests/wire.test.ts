/**
 * The hand-written wire codec (src/wire.ts) must agree exactly with
 * protobufjs via proto-loader, the reference implementation of the .proto
 * files, on random messages in both directions.
 */
import { describe, expect, test } from "bun:test";
import { tritonProto } from "../src/grpc-definition";
import type { InferParameter } from "../src/generated/inference/InferParameter";
import type { ModelInferRequest } from "../src/generated/inference/ModelInferRequest";
import type { ModelInferResponse } from "../src/generated/inference/ModelInferResponse";
import { decodeModelInferResponse, decodeModelStreamInferResponse, encodeModelInferRequest } from "../src/wire";
import { Random } from "./random";

const service = tritonProto().inference.GRPCInferenceService.service;
const reference = {
  decodeRequest: service.ModelInfer.requestDeserialize as (bytes: Buffer) => unknown,
  encodeRequest: service.ModelInfer.requestSerialize as (message: ModelInferRequest) => Buffer,
  encodeResponse: service.ModelInfer.responseSerialize as (message: ModelInferResponse) => Buffer,
  decodeResponse: service.ModelInfer.responseDeserialize as (bytes: Buffer) => unknown,
  encodeStream: service.ModelStreamInfer.responseSerialize as (message: unknown) => Buffer,
  decodeStream: service.ModelStreamInfer.responseDeserialize as (bytes: Buffer) => unknown,
};

const ITERATIONS = 400;

function randomParameter(random: Random): InferParameter {
  switch (random.int(0, 6)) {
    case 0: return { bool_param: random.int(0, 1) === 1 };
    case 1: return { int64_param: random.int(-5, 5) * 10 ** random.int(0, 15) };
    case 2: return { int64_param: String(BigInt.asIntN(64, BigInt(random.int(0, 2 ** 31)) * 2n ** BigInt(random.int(0, 40)) * (random.int(0, 1) ? -1n : 1n))) };
    case 3: return { string_param: random.text() };
    case 4: return { double_param: (random.next() - 0.5) * 10 ** random.int(-3, 12) };
    case 5: return { uint64_param: String(BigInt.asUintN(64, BigInt(random.int(0, 2 ** 31)) * 2n ** BigInt(random.int(0, 33)))) };
    default: return { string_param: "" };
  }
}

function randomParameters(random: Random): Record<string, InferParameter> {
  const out: Record<string, InferParameter> = {};
  for (let i = random.int(0, 3); i > 0; i--) out[random.text(6) || "k"] = randomParameter(random);
  return out;
}

function randomShape(random: Random): number[] {
  return Array.from({ length: random.int(0, 4) }, () => (random.int(0, 9) === 0 ? random.int(0, 2 ** 40) : random.int(-1, 600)));
}

function randomRequest(random: Random): ModelInferRequest {
  const inputs = Array.from({ length: random.int(0, 3) }, () => ({
    name: random.text(8), datatype: random.text(5), shape: randomShape(random).map((d) => Math.abs(d)), parameters: randomParameters(random),
  }));
  return {
    model_name: random.text(), model_version: random.int(0, 1) ? "" : String(random.int(1, 9)), id: random.text(),
    parameters: randomParameters(random), inputs,
    outputs: Array.from({ length: random.int(0, 2) }, () => ({ name: random.text(6), parameters: randomParameters(random) })),
    raw_input_contents: inputs.map(() => Buffer.from(random.bytes(random.int(0, 300)))),
  };
}

function randomResponse(random: Random): ModelInferResponse {
  const outputs = Array.from({ length: random.int(0, 3) }, () => ({
    name: random.text(8), datatype: random.text(5), shape: randomShape(random), parameters: randomParameters(random),
  }));
  return {
    model_name: random.text(), model_version: String(random.int(0, 3)), id: random.text(), parameters: randomParameters(random), outputs,
    raw_output_contents: outputs.map(() => Buffer.from(random.bytes(random.int(0, 200)))),
  };
}

/** Buffers compare by content; everything else structurally. */
function normalise(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_key, item) => (item && item.type === "Buffer" ? `bytes:${Buffer.from(item.data).toString("hex")}` : item)));
}

describe("wire codec agrees with protobufjs", () => {
  test("requests we encode decode to the same message in protobufjs", () => {
    const random = new Random(777);
    for (let i = 0; i < ITERATIONS; i++) {
      const request = randomRequest(random);
      const ours = encodeModelInferRequest(request);
      expect(normalise(reference.decodeRequest(ours))).toEqual(normalise(reference.decodeRequest(reference.encodeRequest(request))));
    }
  });

  test("responses protobufjs encodes decode to the same objects as proto-loader gives", () => {
    const random = new Random(888);
    for (let i = 0; i < ITERATIONS; i++) {
      const response = randomResponse(random);
      const bytes = reference.encodeResponse(response);
      expect(normalise(decodeModelInferResponse(bytes))).toEqual(normalise(reference.decodeResponse(bytes)));
      const stream = reference.encodeStream(random.int(0, 3) === 0 ? { error_message: random.text() } : { infer_response: response });
      expect(normalise(decodeModelStreamInferResponse(stream))).toEqual(normalise(reference.decodeStream(stream)));
    }
  });

  test("typed tensor contents are decoded like proto-loader does", () => {
    const bytes = reference.encodeResponse({
      outputs: [{ name: "x", datatype: "INT64", shape: [2], contents: { int64_contents: ["-1", "9007199254740993"], fp32_contents: [1.5] } }],
    });
    expect(normalise(decodeModelInferResponse(bytes))).toEqual(normalise(reference.decodeResponse(bytes)));
  });

  test("output tensor bytes are views on the received buffer, not copies", () => {
    const bytes = reference.encodeResponse({ outputs: [{ name: "o", datatype: "UINT8", shape: [3] }], raw_output_contents: [Buffer.from([1, 2, 3])] });
    const decoded = decodeModelInferResponse(bytes);
    expect(decoded.raw_output_contents[0]!.buffer).toBe(bytes.buffer);
  });

  test("truncated input is rejected, not misread", () => {
    const bytes = reference.encodeResponse({ id: "abc", raw_output_contents: [Buffer.from([1, 2, 3, 4])] });
    expect(() => decodeModelInferResponse(bytes.subarray(0, bytes.length - 2))).toThrow(/overruns/);
  });
});
