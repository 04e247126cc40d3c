/** Public request/response/option types of the Triton client. */
import type { ChannelCredentials } from "@grpc/grpc-js";
import type { DecodedTensor, Tensor } from "./codec";

/** Options every call accepts. */
export interface CallOptions {
  /** Aborting cancels the call (at Triton too, where the RPC allows it). */
  signal?: AbortSignal;
  /** Time budget for this call in milliseconds, from the moment it starts. */
  deadlineMs?: number;
  /** Extra per-call gRPC metadata (e.g. an auth header); merged over the client's. */
  metadata?: Record<string, string>;
}

export type ParameterValue = string | number | boolean;

export interface InferRequest {
  model: string;
  /** Empty/absent lets Triton's version policy choose. */
  version?: string;
  /** Echoed on responses. On a stream it must be unique among in-flight requests; generated when absent. */
  id?: string;
  inputs: Tensor[];
  /** Output names to return; absent returns all of the model's outputs. */
  outputs?: string[];
  parameters?: Record<string, ParameterValue>;
  /** Stateful models: correlation id shared by all requests of one sequence. */
  sequenceId?: number | bigint | string;
  sequenceStart?: boolean;
  sequenceEnd?: boolean;
}

export interface InferResponse {
  model: string;
  version: string;
  id: string;
  outputs: DecodedTensor[];
  parameters: Record<string, ParameterValue>;
  /** True on the last response for the request (always true for unary infer). */
  final: boolean;
  /** The output with this name; throws a TritonError naming what did arrive when absent. */
  output(name: string): DecodedTensor;
}

export interface TlsOptions {
  /** PEM root certificates; absent uses the system roots. */
  rootCerts?: Uint8Array;
  /** Client certificate and key for mutual TLS. */
  privateKey?: Uint8Array;
  certChain?: Uint8Array;
  /** Or fully custom credentials. */
  credentials?: ChannelCredentials;
}

export interface TritonClientOptions {
  /** host:port of Triton's gRPC endpoint, e.g. "127.0.0.1:8101". */
  url: string;
  /** true for TLS with system roots, or explicit TLS material. Plaintext when absent. */
  tls?: boolean | TlsOptions;
  /** Metadata sent on every call (e.g. { authorization: "Bearer ..." }). */
  metadata?: Record<string, string>;
  /**
   * HTTP/2 keep-alive ping interval while calls are active; 0 disables. Default
   * 330000, safe with stock Triton; lower values need Triton's ping flags (see README).
   */
  keepaliveMs?: number;
  /** Max gRPC message size both ways. Default 64 MiB (gRPC's 4 MiB default is too small for audio). */
  maxMessageBytes?: number;
}

export interface TensorMetadata {
  name: string;
  datatype: string;
  /** -1 marks a variable dimension. */
  shape: number[];
}

export interface ModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
}

export interface ServerMetadata {
  name: string;
  version: string;
  extensions: string[];
}

export interface ModelIndexEntry {
  name: string;
  version: string;
  /** e.g. "READY", "UNAVAILABLE", "LOADING". */
  state: string;
  reason: string;
}
