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

let cached: ProtoGrpcType | undefined;

export function tritonProto(): ProtoGrpcType {
  if (!cached) {
    const definition = protoLoader.loadSync(
      PROTO_FILES.map((file) => PROTO_DIR + file),
      { ...LOADER_OPTIONS, includeDirs: [...LOADER_OPTIONS.includeDirs] },
    );
    cached = grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType;
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
