/**
 * TritonClient: typed, Promise-based access to Triton's gRPC API.
 * Unary RPCs map 1:1 to methods; `openStream()` gives the multiplexed
 * ModelStreamInfer stream used for decoupled (streaming) models.
 */
import * as grpc from "@grpc/grpc-js";
import { acquireChannel, type ChannelLease } from "./connection";
import { GrpcStatus, TritonError, cancelledError, fromGrpcError } from "./errors";
import { MODEL_INFER_PATH, MODEL_STREAM_INFER_PATH, type GrpcInferenceClient } from "./grpc-definition";
import type { MethodDefinition } from "@grpc/proto-loader";
import type { GRPCInferenceServiceDefinition } from "./generated/inference/GRPCInferenceService";
import type { ModelConfig__Output } from "./generated/inference/ModelConfig";
import type { ModelStatistics__Output } from "./generated/inference/ModelStatistics";
import { decodeInferResponse, encodeInferRequest } from "./request-encoding";
import { TritonStream } from "./stream";
import { decodeModelInferResponse, decodeModelStreamInferResponse, encodeModelInferRequest } from "./wire";
import type { ModelInferRequest } from "./generated/inference/ModelInferRequest";
import type { ModelInferResponse__Output } from "./generated/inference/ModelInferResponse";
import type { ModelStreamInferResponse__Output } from "./generated/inference/ModelStreamInferResponse";
import type {
  CallOptions,
  InferRequest,
  InferResponse,
  ModelIndexEntry,
  ModelMetadata,
  ServerMetadata,
  TritonClientOptions,
} from "./types";

/** Request/response types of each RPC, read off the generated service definition (`any` only in positions we do not read). */
type UnaryRpc = "ServerLive" | "ServerReady" | "ModelReady" | "ServerMetadata" | "ModelMetadata"
  | "ModelConfig" | "ModelStatistics" | "RepositoryIndex" | "RepositoryModelLoad" | "RepositoryModelUnload";
type RequestOf<K extends UnaryRpc> = GRPCInferenceServiceDefinition[K] extends MethodDefinition<infer Req, any, any, any> ? Req : never;
type ResponseOf<K extends UnaryRpc> = GRPCInferenceServiceDefinition[K] extends MethodDefinition<any, any, any, infer Res> ? Res : never;

/** The callback-style unary methods of the generated client, reduced to the overload we call. */
type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response?: Res) => void,
) => grpc.ClientUnaryCall;

type StartUnary<Res> = (
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response?: Res) => void,
) => grpc.ClientUnaryCall;

export class TritonClient {
  readonly url: string;
  private readonly lease: ChannelLease;
  private readonly grpcClient: GrpcInferenceClient;
  private readonly baseMetadata: Record<string, string>;
  private readonly streams = new Set<TritonStream>();
  private closed = false;

  constructor(options: TritonClientOptions) {
    if (!options.url) throw new TritonError(GrpcStatus.INVALID_ARGUMENT, "TritonClient needs a url such as 127.0.0.1:8101");
    this.url = options.url;
    this.baseMetadata = { ...options.metadata };
    this.lease = acquireChannel(options);
    this.grpcClient = this.lease.client;
  }

  async serverLive(options?: CallOptions): Promise<boolean> {
    return (await this.unary("ServerLive", {}, "ServerLive", options)).live;
  }

  async serverReady(options?: CallOptions): Promise<boolean> {
    return (await this.unary("ServerReady", {}, "ServerReady", options)).ready;
  }

  async modelReady(name: string, version = "", options?: CallOptions): Promise<boolean> {
    return (await this.unary("ModelReady", { name, version }, `ModelReady(${name})`, options, name)).ready;
  }

  async serverMetadata(options?: CallOptions): Promise<ServerMetadata> {
    const { name, version, extensions } = await this.unary("ServerMetadata", {}, "ServerMetadata", options);
    return { name, version, extensions };
  }

  async modelMetadata(name: string, version = "", options?: CallOptions): Promise<ModelMetadata> {
    const response = await this.unary("ModelMetadata", { name, version }, `ModelMetadata(${name})`, options, name);
    const tensors = (list: typeof response.inputs) =>
      list.map((tensor) => ({ name: tensor.name, datatype: tensor.datatype, shape: tensor.shape.map(Number) }));
    return {
      name: response.name,
      versions: response.versions,
      platform: response.platform,
      inputs: tensors(response.inputs),
      outputs: tensors(response.outputs),
    };
  }

  /** The model's full configuration (64-bit integers as decimal strings, enums as names). */
  async modelConfig(name: string, version = "", options?: CallOptions): Promise<ModelConfig__Output> {
    const response = await this.unary("ModelConfig", { name, version }, `ModelConfig(${name})`, options, name);
    if (!response.config) throw new TritonError(GrpcStatus.INTERNAL, `Triton returned no config for model "${name}"`, { model: name });
    return response.config;
  }

  /** Statistics for one model, or for every model when name is omitted. */
  async modelStatistics(name = "", version = "", options?: CallOptions): Promise<ModelStatistics__Output[]> {
    const context = name ? `ModelStatistics(${name})` : "ModelStatistics";
    return (await this.unary("ModelStatistics", { name, version }, context, options, name || undefined)).model_stats;
  }

  async repositoryIndex(options?: CallOptions & { readyOnly?: boolean }): Promise<ModelIndexEntry[]> {
    const response = await this.unary("RepositoryIndex", { repository_name: "", ready: options?.readyOnly ?? false }, "RepositoryIndex", options);
    return response.models.map(({ name, version, state, reason }) => ({ name, version, state, reason }));
  }

  /** Loads (or reloads) a model; resolves once Triton reports it loaded. */
  async loadModel(name: string, options?: CallOptions): Promise<void> {
    await this.unary("RepositoryModelLoad", { repository_name: "", model_name: name, parameters: {} }, `RepositoryModelLoad(${name})`, options, name);
  }

  async unloadModel(name: string, options?: CallOptions): Promise<void> {
    await this.unary("RepositoryModelUnload", { repository_name: "", model_name: name, parameters: {} }, `RepositoryModelUnload(${name})`, options, name);
  }

  /** Unary ModelInfer: one request, one response. Decoupled models need openStream(). */
  async infer(request: InferRequest, options?: CallOptions): Promise<InferResponse> {
    const message = encodeInferRequest(request);
    // The hot path uses the hand-written wire codec instead of proto-loader's generic one.
    const start: StartUnary<ModelInferResponse__Output> = (metadata, callOptions, callback) =>
      this.grpcClient.makeUnaryRequest<ModelInferRequest, ModelInferResponse__Output>(
        MODEL_INFER_PATH, encodeModelInferRequest, decodeModelInferResponse, message, metadata, callOptions, callback,
      );
    const response = await this.call(start, `ModelInfer(${request.model})`, options, request.model);
    return decodeInferResponse(response, true);
  }

  /**
   * Opens a multiplexed ModelStreamInfer stream. `deadlineMs` bounds the whole
   * stream's life; aborting `signal` closes it (cancelling work at Triton).
   */
  openStream(options: CallOptions = {}): TritonStream {
    this.assertOpen();
    const call = this.grpcClient.makeBidiStreamRequest<ModelInferRequest, ModelStreamInferResponse__Output>(
      MODEL_STREAM_INFER_PATH, encodeModelInferRequest, decodeModelStreamInferResponse, this.metadataFor(options), this.grpcCallOptions(options),
    );
    const stream = new TritonStream(call, options);
    this.streams.add(stream);
    void stream.settled.then(() => this.streams.delete(stream));
    return stream;
  }

  /** Closes open streams and releases the shared channel (closed when its last user leaves). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const stream of this.streams) stream.close();
    this.streams.clear();
    this.lease.release();
  }

  private assertOpen(): void {
    if (this.closed) throw new TritonError(GrpcStatus.CANCELLED, "TritonClient is closed", { retryable: false });
  }

  private metadataFor(options: CallOptions | undefined): grpc.Metadata {
    const metadata = new grpc.Metadata();
    for (const [key, value] of Object.entries(this.baseMetadata)) metadata.set(key, value);
    for (const [key, value] of Object.entries(options?.metadata ?? {})) metadata.set(key, value);
    return metadata;
  }

  private grpcCallOptions(options: CallOptions | undefined): grpc.CallOptions {
    return options?.deadlineMs === undefined ? {} : { deadline: Date.now() + options.deadlineMs };
  }

  private unary<K extends UnaryRpc>(rpc: K, request: RequestOf<K>, context: string, options?: CallOptions, model?: string): Promise<ResponseOf<K>> {
    const method = this.grpcClient[rpc] as unknown as UnaryMethod<RequestOf<K>, ResponseOf<K>>;
    return this.call((metadata, callOptions, callback) => method.call(this.grpcClient, request, metadata, callOptions, callback), context, options, model);
  }

  /** Runs one unary call with the client's metadata, deadline, abort and error conventions. */
  private call<Res>(start: StartUnary<Res>, context: string, options?: CallOptions, model?: string): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      if (this.closed) return reject(new TritonError(GrpcStatus.CANCELLED, `${context}: TritonClient is closed`, { retryable: false }));
      const signal = options?.signal;
      if (signal?.aborted) return reject(cancelledError(`${context} was aborted before it was sent`, model));
      let abortedByCaller = false;
      const call = start(this.metadataFor(options), this.grpcCallOptions(options), (error, response) => {
        signal?.removeEventListener("abort", onAbort);
        if (error) {
          reject(abortedByCaller ? cancelledError(`${context} was aborted by the caller`, model) : fromGrpcError(error, context, model));
        } else if (response === undefined) {
          reject(new TritonError(GrpcStatus.INTERNAL, `${context}: empty response`, { model }));
        } else {
          resolve(response);
        }
      });
      const onAbort = () => {
        abortedByCaller = true;
        call.cancel();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
}
