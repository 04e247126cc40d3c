/**
 * Plugs the voice pipeline into the HTTP server: builds the Triton stage adapters (observed by the
 * telemetry seam), the session manager over Morgan's storage, the WebSocket endpoints and the
 * LLM/TTS/STT routes, and registers the shutdown work: the drain (clients told `going_away`, replies
 * in flight finished up to server.drainMs, then stored), then the sockets closed with 1001.
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { Hono } from "hono";
import { observedModels } from "../inference/observed.ts";
import { transcribeAtEnd } from "../inference/transcribe-at-end.ts";
import { type ModelServers, tritonModels } from "../inference/triton/index.ts";
import type { ResolvedSettings } from "../pipeline/settings.ts";
import { SessionManager } from "../pipeline/sessions.ts";
import { chatTemplate } from "../pipeline/text/chat-template.ts";
import { pipelineStore, sessionState, sessionStore } from "../storage/pipeline-ports.ts";
import { OWNER_LEASE_S, SessionOwnership } from "../storage/session-ownership.ts";
import type { Config } from "../config/schema.ts";
import type { PipelineExtension, Services } from "./context.ts";
import { inferenceRoutes } from "./routes/inference.ts";
import { webSocketEndpoints } from "./ws/routes.ts";

/** Input audio is 16 kHz unless the client negotiates another rate in `start`. */
const DEFAULT_INPUT_SAMPLE_RATE = 16000;

/** What streaming.enabled=false switches off: the WebSocket endpoints and the streamed (SSE) routes. */
const STREAMING_PATHS = ["/ws/stream", "/ws/stream/:user_id", "/ws/audio", "/v1/llm/stream", "/stream", "/v1/tts/generate/stream", "/generate/stream"];

export function sessionDefaults(pipeline: Config["pipeline"]): ResolvedSettings {
  return {
    language: pipeline.language,
    voice: pipeline.voice,
    speed: pipeline.speed,
    inputSampleRate: DEFAULT_INPUT_SAMPLE_RATE,
    outputSampleRate: pipeline.outputSampleRate,
    turnTaking: {
      vad: { threshold: pipeline.vad.threshold, minSpeechMs: pipeline.vad.minSpeechMs, releaseAfterMs: pipeline.vad.releaseAfterMs },
      endpointing: {
        mode: pipeline.turnDetection.mode,
        eagerness: pipeline.turnDetection.eagerness,
        silenceMs: pipeline.vad.minSilenceMs,
        minPauseMs: pipeline.turnDetection.minEndpointingMs,
        maxWaitMs: pipeline.turnDetection.maxEndpointingMs,
      },
      interruption: {
        minSpeechMs: pipeline.vad.bargeInMinSpeechMs,
        minWords: pipeline.interruption.minWords,
        echoCancellation: pipeline.echoCancellation,
        minSpeechMsWithoutEchoCancellation: pipeline.interruption.minSpeechMsWithoutEchoCancellation,
        resumeFalseInterruption: pipeline.interruption.resumeFalseInterruption,
        falseInterruptionTimeoutMs: pipeline.interruption.falseInterruptionTimeoutMs,
      },
    },
    systemPrompt: pipeline.systemPrompt,
    maxResponseTokens: pipeline.maxResponseTokens,
    temperature: pipeline.temperature,
    repetitionPenalty: pipeline.repetitionPenalty,
  };
}

export function voiceExtension(services: Services, triton: ModelServers): PipelineExtension {
  const { config, storage, logger, lifecycle } = services;
  const { observers } = services.telemetry;
  const log = logger.child({ component: "voice" });
  triton.watch((endpoint, healthy) => observers.observe({ type: "triton_endpoint", endpoint, healthy }));
  const adapters = tritonModels(triton, config.triton.models, config.triton.timeouts.requestMs);
  const stt = config.streaming.realTimeProcessing ? adapters.stt : transcribeAtEnd(adapters.stt);
  const models = observedModels({ ...adapters, stt }, config.triton.models, observers);
  const defaults = sessionDefaults(config.pipeline);
  const ownership = new SessionOwnership(storage.cache, { instanceId: instanceId(), leaseS: OWNER_LEASE_S, keyPrefix: config.redis.keyPrefix }, log);
  log.info({ instance_id: ownership.instanceId }, "session leases held as this instance");
  const sessions = new SessionManager({
    models,
    store: pipelineStore(storage),
    sessions: sessionStore(storage),
    state: sessionState(storage, log),
    log,
    defaults,
    chunkBytes: config.streaming.chunkSize,
    audioLeadMs: config.pipeline.audioLeadMs,
    replayLimit: config.cache.replayMaxEntries,
    resumeWindowMs: config.pipeline.resumeWindowS * 1000,
    chatTemplate: chatTemplate(config.pipeline.chatTemplate),
    observers,
    limits: { sessionsPerUser: config.quotas.sessionsPerUser, sessionsPerKey: config.quotas.sessionsPerKey },
    maxPendingWrites: config.quotas.maxPendingWrites,
    ownership,
  });
  const ws = webSocketEndpoints({
    sessions,
    log,
    observers,
    options: {
      idleTimeoutMs: config.streaming.timeoutS * 1000,
      maxBufferedBytes: config.pipeline.maxBufferedBytes,
      pingIntervalMs: config.pipeline.pingIntervalS * 1000,
      turns: { ratePerSecond: config.quotas.turnsPerSecond, burst: config.quotas.turnBurst },
      maxQueuedMessages: config.quotas.maxQueuedMessages,
    },
    connectionsPerIp: config.quotas.connectionsPerIp,
  });
  const http = inferenceRoutes({
    ...models,
    log,
    chatTemplate: chatTemplate(config.pipeline.chatTemplate),
    defaults: {
      voice: defaults.voice,
      speed: defaults.speed,
      maxTokens: defaults.maxResponseTokens,
      temperature: defaults.temperature,
      repetitionPenalty: defaults.repetitionPenalty,
      language: defaults.language,
    },
  });
  lifecycle.onShutdown("voice sessions", async () => {
    // The listener is closed and /ready answers 503 already: no new clients arrive.
    await sessions.drain(config.server.drainMs);
    // A reply still running is stored as heard, and its client told, while the socket is open.
    await sessions.endAll("shutdown");
    ws.shutdown();
    await ownership.close();
  });
  if (!config.streaming.enabled) return { routes: [streamingDisabled(), http] };
  return { routes: [ws.routes, http], websocket: ws.websocket };
}

/** Names this process in the session leases it holds: readable in Redis, unique across restarts. */
function instanceId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
}

/** Mounted first, so the streaming paths answer 503 instead of reaching their handlers. */
function streamingDisabled(): Hono {
  const routes = new Hono();
  const refuse = () =>
    Response.json(
      {
        error: "streaming_disabled",
        message: "streaming is switched off (streaming.enabled, MORGAN_STREAMING_ENABLED=false); use POST /v1/llm/generate, /v1/tts/generate or /v1/stt/transcribe",
      },
      { status: 503 },
    );
  for (const path of STREAMING_PATHS) routes.all(path, refuse);
  return routes;
}
