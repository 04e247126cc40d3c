/** Public surface of @triton-client: a typed gRPC client for NVIDIA Triton. */
export { TritonClient } from "./client";
export { TritonStream } from "./stream";
export { TritonError, GrpcStatus } from "./errors";
export {
  DATA_TYPES,
  bytesToStrings,
  decodeTensorData,
  elementCount,
  elementSize,
  encodeBytesElements,
  encodeTensorData,
  isDataType,
  type DataType,
  type DecodedTensor,
  type DecodedTensorDataByType,
  type Tensor,
  type TensorDataByType,
} from "./codec";
export { DEFAULT_KEEPALIVE_MS, DEFAULT_MAX_MESSAGE_BYTES } from "./connection";
export type {
  CallOptions,
  InferRequest,
  InferResponse,
  ModelIndexEntry,
  ModelMetadata,
  ParameterValue,
  ServerMetadata,
  TensorMetadata,
  TlsOptions,
  TritonClientOptions,
} from "./types";
export type { ModelConfig__Output as ModelConfig } from "./generated/inference/ModelConfig";
export type { ModelStatistics__Output as ModelStatistics } from "./generated/inference/ModelStatistics";
