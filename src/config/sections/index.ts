/** Every configuration section, one line each. A new section: add its file and a line here. */
import { authSection } from "./auth.ts";
import { cacheSection } from "./cache.ts";
import { conversationSection } from "./conversation.ts";
import { logSection } from "./log.ts";
import { pipelineSection } from "./pipeline.ts";
import { postgresSection } from "./postgres.ts";
import { quotasSection } from "./quotas.ts";
import { redisSection } from "./redis.ts";
import { serverSection } from "./server.ts";
import { storageSection } from "./storage.ts";
import { streamingSection } from "./streaming.ts";
import { telemetrySection } from "./telemetry.ts";
import { tritonSection } from "./triton.ts";
import { webSection } from "./web.ts";

export const sections = {
  server: serverSection,
  auth: authSection,
  log: logSection,
  postgres: postgresSection,
  redis: redisSection,
  triton: tritonSection,
  streaming: streamingSection,
  cache: cacheSection,
  conversation: conversationSection,
  storage: storageSection,
  pipeline: pipelineSection,
  telemetry: telemetrySection,
  web: webSection,
  quotas: quotasSection,
};
