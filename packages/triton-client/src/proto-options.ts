/**
 * One source of truth for how protobuf messages map to JS values. The type
 * generator (scripts/gen.ts) and the runtime loader (src/grpc-definition.ts)
 * both read it, so the generated TypeScript types always describe what the
 * loader really produces.
 */
export const PROTO_DIR = new URL("../proto/", import.meta.url).pathname;
export const PROTO_FILES = ["grpc_service.proto", "model_config.proto"] as const;

export const LOADER_OPTIONS = {
  // Field names exactly as on the wire (raw_input_contents, not rawInputContents),
  // so code reads like Triton's documentation.
  keepCase: true,
  // int64/uint64 as decimal strings: no precision loss for sequence ids or
  // nanosecond counters, and no Long dependency in our types.
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_DIR],
} as const;

/** The same options spelled as proto-loader-gen-types flags. */
export const GENERATOR_FLAGS = [
  "--keepCase",
  "--longs=String",
  "--enums=String",
  "--defaults",
  "--oneofs",
  "--grpcLib=@grpc/grpc-js",
] as const;
