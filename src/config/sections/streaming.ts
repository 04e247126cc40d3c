import { z } from "zod";
import { boolField, intField } from "../fields.ts";
import { defineSection } from "../section.ts";

export const streamingSection = defineSection({
  schema: z
    .strictObject({
      enabled: boolField(true),
      chunkSize: intField(256, 1024 * 1024, 8192),
      timeoutS: intField(1, 3600, 60),
      realTimeProcessing: boolField(true),
    })
    .prefault({}),
  env: {
    MORGAN_STREAMING_ENABLED: "enabled",
    MORGAN_STREAM_CHUNK_SIZE: "chunkSize",
    MORGAN_STREAM_TIMEOUT: "timeoutS",
    MORGAN_REAL_TIME_PROCESSING: "realTimeProcessing",
  },
  legacyYamlKeys: {
    streaming_enabled: "enabled",
    stream_chunk_size: "chunkSize",
    stream_timeout: "timeoutS",
    real_time_processing: "realTimeProcessing",
  },
});
