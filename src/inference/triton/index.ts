/** Morgan's stage adapters on Triton, built from configuration: model names swap engines. */
import type { TritonClient } from "@triton-client";
import type { ModelNames, Models } from "../types";
import { TritonLanguageModel } from "./llm";
import { TritonSpeechToText } from "./stt";
import { TritonTextToSpeech } from "./tts";
import { TritonTurnDetector } from "./turn";
import { TritonVad } from "./vad";

export function tritonModels(client: TritonClient, names: ModelNames, requestTimeoutMs: number): Models {
  return {
    vad: new TritonVad(client, { model: names.vad, requestTimeoutMs }),
    stt: new TritonSpeechToText(client, { model: names.stt, requestTimeoutMs }),
    turn: new TritonTurnDetector(client, { model: names.turn, requestTimeoutMs }),
    llm: new TritonLanguageModel(client, { model: names.llm, requestTimeoutMs }),
    tts: new TritonTextToSpeech(client, { model: names.tts, requestTimeoutMs }),
  };
}
