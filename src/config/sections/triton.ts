import { z } from "zod";
import { intField, isHostPort, textField } from "../fields.ts";
import { defineSection } from "../section.ts";

const MAX_TRITONS = 16;
const URL_MESSAGE = `expected host:port, or up to ${MAX_TRITONS} of them comma-separated (e.g. 127.0.0.1:8101 or 10.0.0.1:8001,10.0.0.2:8001)`;

/** The endpoints named by `triton.url`, in order, without repeats. */
export function tritonUrls(url: string): string[] {
  return [...new Set(url.split(",").map((part) => part.trim()).filter((part) => part !== ""))];
}

/**
 * Morgan talks to Triton over gRPC only; `url` is a gRPC target (host:port) or several,
 * comma-separated: each new request goes to a healthy one with the fewest requests in flight
 * (src/inference/triton/pool.ts).
 */
export const tritonSection = defineSection({
  schema: z
    .strictObject({
      url: z
        .string({ error: URL_MESSAGE })
        .refine((value) => {
          const urls = tritonUrls(value);
          return urls.length >= 1 && urls.length <= MAX_TRITONS && urls.every(isHostPort);
        }, { error: URL_MESSAGE })
        .default("127.0.0.1:8101"),
      models: z
        .strictObject({
          vad: textField("vad"),
          stt: textField("stt"),
          llm: textField("llm"),
          tts: textField("tts"),
          turn: textField("turn"),
        })
        .prefault({}),
      /**
       * HTTP/2 keep-alive ping interval. Stock Triton refuses pings more often than every 5 min
       * (GOAWAY too_many_pings, breaking every stream), so the default stays above that; lower it
       * only for a Triton started with the keep-alive flags of scripts/triton/start.sh.
       */
      keepaliveMs: intField(0, 3_600_000, 330_000),
      /** How often each endpoint is probed (ServerReady and its ready models). */
      healthIntervalMs: intField(100, 60_000, 1_000),
      timeouts: z
        .strictObject({
          requestMs: intField(100, 600_000, 30_000),
          /** Deadline of one health probe of one endpoint (and of /health's). */
          healthMs: intField(50, 60_000, 1_000),
          /** How long a model load or unload may take (admin API, `bun run models`) before it is reported stuck. */
          modelControlMs: intField(1_000, 3_600_000, 120_000),
        })
        .prefault({}),
    })
    .prefault({}),
  env: {
    TRITON_URL: "url",
    MORGAN_TRITON_KEEPALIVE_MS: "keepaliveMs",
    MORGAN_TRITON_HEALTH_INTERVAL_MS: "healthIntervalMs",
    MORGAN_TRITON_MODEL_VAD: "models.vad",
    MORGAN_TRITON_MODEL_STT: "models.stt",
    MORGAN_TRITON_MODEL_LLM: "models.llm",
    MORGAN_TRITON_MODEL_TTS: "models.tts",
    MORGAN_TRITON_MODEL_TURN: "models.turn",
    MORGAN_TRITON_REQUEST_TIMEOUT_MS: "timeouts.requestMs",
    MORGAN_TRITON_HEALTH_TIMEOUT_MS: "timeouts.healthMs",
    MORGAN_TRITON_MODEL_CONTROL_TIMEOUT_MS: "timeouts.modelControlMs",
  },
});
