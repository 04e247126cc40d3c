/**
 * Loads the Triton service definition at runtime from the .proto files, with
 * the same options the type generator used, and types it with the generated
 * ProtoGrpcType. Parsed once per process.
 */
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import type { ProtoGrpcType } from "./generated/grpc_service";
import type { GRPCInferenceServiceClient } from "./generated/inference/GRPCInferenceService";
import { LOADER_OPTIONS, PROTO_DIR, PROTO_FILES } from "./proto-options";
import { useProtoLoaderForTypedContents, type ModelInferResponseDeserializer } from "./wire";

let cached: ProtoGrpcType | undefined;

export function tritonProto(): ProtoGrpcType {
  if (!cached) {
    const definition = protoLoader.loadSync(
      PROTO_FILES.map((file) => PROTO_DIR + file),
      { ...LOADER_OPTIONS, includeDirs: [...LOADER_OPTIONS.includeDirs] },
    );
    cached = grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType;
    useProtoLoaderForTypedContents(
      cached.inference.GRPCInferenceService.service.ModelInfer.responseDeserialize as ModelInferResponseDeserializer,
    );
  }
  return cached;
}

export type GrpcInferenceClient = GRPCInferenceServiceClient;

export type GrpcInferenceClientConstructor = new (
  address: string,
  credentials: grpc.ChannelCredentials,
  options?: grpc.ChannelOptions,
) => GrpcInferenceClient;

export function inferenceClientConstructor(): GrpcInferenceClientConstructor {
  return tritonProto().inference.GRPCInferenceService as unknown as GrpcInferenceClientConstructor;
}

/** Full method paths, for calls made with the fast wire codec (src/wire.ts). */
export const MODEL_INFER_PATH = "/inference.GRPCInferenceService/ModelInfer";
export const MODEL_STREAM_INFER_PATH = "/inference.GRPCInferenceService/ModelStreamInfer";
