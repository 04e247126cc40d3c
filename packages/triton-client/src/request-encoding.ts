/**
 * Translates between the client's friendly request/response shapes and the
 * generated protobuf message shapes. Pure functions, no I/O.
 */
import { decodeTensorData, decodeTypedContents, encodeTensorData, isDataType, type DecodedTensor } from "./codec";
import { TritonError, invalidArgument, GrpcStatus } from "./errors";
import type { InferParameter, InferParameter__Output } from "./generated/inference/InferParameter";
import type { ModelInferRequest } from "./generated/inference/ModelInferRequest";
import type { ModelInferResponse__Output } from "./generated/inference/ModelInferResponse";
import type { InferRequest, InferResponse, ParameterValue } from "./types";

/** Request parameter Triton reads to send an empty response that only says "final". */
export const EMPTY_FINAL_RESPONSE_PARAMETER = "triton_enable_empty_final_response";
/** Response parameter Triton sets on the last response of a streamed request. */
export const FINAL_RESPONSE_PARAMETER = "triton_final_response";

export function encodeParameter(value: ParameterValue | bigint, key: string): InferParameter {
  switch (typeof value) {
    case "boolean":
      return { bool_param: value };
    case "string":
      return { string_param: value };
    case "bigint":
      return { int64_param: value.toString() };
    case "number":
      return Number.isInteger(value) ? { int64_param: value } : { double_param: value };
    default:
      throw invalidArgument(`parameter "${key}" must be a string, number or boolean`);
  }
}

export function decodeParameter(parameter: InferParameter__Output): ParameterValue {
  switch (parameter.parameter_choice) {
    case "bool_param":
      return parameter.bool_param ?? false;
    case "string_param":
      return parameter.string_param ?? "";
    case "double_param":
      return parameter.double_param ?? 0;
    case "int64_param":
      return longToValue(parameter.int64_param);
    case "uint64_param":
      return longToValue(parameter.uint64_param);
    default:
      return "";
  }
}

/** 64-bit integers arrive as decimal strings; keep them as numbers while exact. */
function longToValue(text: string | undefined): number | string {
  const value = Number(text ?? "0");
  return Number.isSafeInteger(value) ? value : (text ?? "0");
}

export function encodeInferRequest(request: InferRequest, extraParameters?: Record<string, ParameterValue>): ModelInferRequest {
  if (!request.model) throw invalidArgument("infer request needs a model name");
  const parameters: Record<string, InferParameter> = {};
  for (const [key, value] of Object.entries(request.parameters ?? {})) parameters[key] = encodeParameter(value, key);
  if (request.sequenceId !== undefined) {
    // Triton accepts numeric correlation ids as int64 and string ids as string.
    parameters.sequence_id = encodeParameter(
      typeof request.sequenceId === "number" ? BigInt(request.sequenceId) : request.sequenceId,
      "sequence_id",
    );
  }
  if (request.sequenceStart !== undefined) parameters.sequence_start = { bool_param: request.sequenceStart };
  if (request.sequenceEnd !== undefined) parameters.sequence_end = { bool_param: request.sequenceEnd };
  for (const [key, value] of Object.entries(extraParameters ?? {})) parameters[key] = encodeParameter(value, key);

  const inputs = new Array(request.inputs.length);
  const raw = new Array<Uint8Array>(request.inputs.length);
  for (let i = 0; i < request.inputs.length; i++) {
    const tensor = request.inputs[i]!;
    if (!isDataType(tensor.datatype)) throw invalidArgument(`input "${tensor.name}": unknown datatype ${String(tensor.datatype)}`, request.model);
    raw[i] = encodeTensorData(tensor);
    inputs[i] = { name: tensor.name, datatype: tensor.datatype, shape: tensor.shape };
  }
  return {
    model_name: request.model,
    model_version: request.version ?? "",
    id: request.id ?? "",
    parameters,
    inputs,
    outputs: (request.outputs ?? []).map((name) => ({ name })),
    raw_input_contents: raw,
  };
}

class DecodedInferResponse implements InferResponse {
  constructor(
    readonly model: string,
    readonly version: string,
    readonly id: string,
    readonly outputs: DecodedTensor[],
    readonly parameters: Record<string, ParameterValue>,
    readonly final: boolean,
  ) {}

  output(name: string): DecodedTensor {
    const found = this.outputs.find((tensor) => tensor.name === name);
    if (!found) {
      const present = this.outputs.map((tensor) => tensor.name).join(", ") || "none";
      throw new TritonError(GrpcStatus.NOT_FOUND, `model "${this.model}" response has no output "${name}" (outputs: ${present})`, {
        model: this.model,
      });
    }
    return found;
  }
}

export function decodeInferResponse(message: ModelInferResponse__Output, finalWhenUnmarked: boolean): InferResponse {
  const parameters: Record<string, ParameterValue> = {};
  for (const [key, parameter] of Object.entries(message.parameters ?? {})) parameters[key] = decodeParameter(parameter);
  const outputs: DecodedTensor[] = new Array(message.outputs.length);
  for (let i = 0; i < message.outputs.length; i++) {
    const output = message.outputs[i]!;
    if (!isDataType(output.datatype)) {
      throw new TritonError(GrpcStatus.INTERNAL, `output "${output.name}" has unknown datatype ${output.datatype}`, { model: message.model_name });
    }
    const shape = output.shape.map(Number);
    const raw = message.raw_output_contents[i];
    const data = raw !== undefined
      ? decodeTensorData(output.datatype, shape, raw, output.name)
      : decodeTypedContents(output.datatype, shape, output.contents ?? emptyContents(), output.name);
    outputs[i] = { name: output.name, datatype: output.datatype, shape, data } as DecodedTensor;
  }
  const marked = parameters[FINAL_RESPONSE_PARAMETER];
  const final = marked === undefined ? finalWhenUnmarked : marked === true;
  return new DecodedInferResponse(message.model_name, message.model_version, message.id, outputs, parameters, final);
}

function emptyContents() {
  return {
    bool_contents: [], int_contents: [], int64_contents: [], uint_contents: [], uint64_contents: [],
    fp32_contents: [], fp64_contents: [], bytes_contents: [],
  };
}
