/** Tensor helpers for Morgan's contract with the models (docs/contract.md). */
import type { DecodedTensor, InferResponse, Tensor } from "@triton-client";

const decoder = new TextDecoder();

export const text = (name: string, value: string): Tensor => ({ name, datatype: "BYTES", shape: [1], data: [value] });
export const flag = (name: string, value: boolean): Tensor => ({
  name,
  datatype: "BOOL",
  shape: [1],
  data: Uint8Array.of(value ? 1 : 0),
});
export const floats = (name: string, samples: Float32Array): Tensor => ({
  name,
  datatype: "FP32",
  shape: [samples.length],
  data: samples,
});
export const float = (name: string, value: number): Tensor => floats(name, Float32Array.of(value));
/** One batch row holding one string, for models with a batch dimension (turn). */
export const textRow = (name: string, value: string): Tensor => ({ name, datatype: "BYTES", shape: [1, 1], data: [value] });
/** One batch row of samples, for models with a batch dimension (max_batch_size > 0: vad, stt). */
export const floatRow = (name: string, samples: Float32Array): Tensor => ({
  name,
  datatype: "FP32",
  shape: [1, samples.length],
  data: samples,
});

/** The first element of a BYTES output as UTF-8 text ("" when the output holds no element). */
export function outputText(response: InferResponse, name: string): string {
  const tensor = response.output(name);
  expectType(tensor, "BYTES", response.model);
  const first = (tensor.data as Uint8Array[])[0];
  return first ? decoder.decode(first) : "";
}

export function outputFloats(response: InferResponse, name: string): Float32Array {
  const tensor = response.output(name);
  expectType(tensor, "FP32", response.model);
  return tensor.data as Float32Array;
}

export function outputScalar(response: InferResponse, name: string): number {
  const tensor = response.output(name);
  const value = (tensor.data as ArrayLike<number | bigint>)[0];
  if (value === undefined) throw new Error(`model ${response.model}: output ${name} is empty`);
  return Number(value);
}

export function outputFlag(response: InferResponse, name: string): boolean {
  return outputScalar(response, name) !== 0;
}

/** Whether a response carries the output at all (the empty final response of a decoupled model does not). */
export function hasOutput(response: InferResponse, name: string): boolean {
  return response.outputs.some((o) => o.name === name);
}

function expectType(tensor: DecodedTensor, datatype: string, model: string): void {
  if (tensor.datatype !== datatype) {
    throw new Error(`model ${model}: output ${tensor.name} is ${tensor.datatype}, expected ${datatype}`);
  }
}
