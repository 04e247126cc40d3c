/** Morgan's stage adapters on Triton, built from configuration: model names swap engines. */
import { TritonClient } from "@triton-client";
import type { ModelNames, Models } from "../types";
import type { ModelServers } from "./failover";
import { TritonLanguageModel } from "./llm";
import { TritonPool } from "./pool";
import { TritonSpeechToText } from "./stt";
import { TritonTextToSpeech } from "./tts";
import { TritonTurnDetector } from "./turn";
import { TritonVad } from "./vad";

export type { ModelServers } from "./failover";
export type { EndpointStatus } from "./pool";

export function tritonModels(servers: ModelServers, names: ModelNames, requestTimeoutMs: number): Models {
  return {
    vad: new TritonVad(servers, { model: names.vad, requestTimeoutMs }),
    stt: new TritonSpeechToText(servers, { model: names.stt, requestTimeoutMs }),
    turn: new TritonTurnDetector(servers, { model: names.turn, requestTimeoutMs }),
    llm: new TritonLanguageModel(servers, { model: names.llm, requestTimeoutMs }),
    tts: new TritonTextToSpeech(servers, { model: names.tts, requestTimeoutMs }),
  };
}

export interface ModelServerOptions {
  keepaliveMs?: number;
  healthIntervalMs: number;
  healthTimeoutMs: number;
}

/** One TritonClient (one gRPC channel) per endpoint, health-probed; call start() to begin probing. */
export function modelServers(urls: readonly string[], options: ModelServerOptions): ModelServers {
  return new TritonPool(urls, (url) => new TritonClient({ url, keepaliveMs: options.keepaliveMs }), {
    intervalMs: options.healthIntervalMs,
    timeoutMs: options.healthTimeoutMs,
  });
}
