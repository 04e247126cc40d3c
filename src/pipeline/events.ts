/**
 * The typed events that flow down a session's pipeline, Pipecat-style: each stage handles the
 * events it knows and forwards the rest. `interrupt` is a system event: it overtakes queued work in
 * every stage, and each stage cancels its own in-flight requests when it passes by.
 */
import type { Transcript } from "../inference/types";
import type { ChatMessage } from "./text/chat-template";
import type { ErrorCode } from "../protocol/messages";
import type { Turn } from "./turn";

export type PipelineEvent =
  /** 16 kHz mono audio from the client; `receivedAt` is when it arrived (performance.now()). */
  | { kind: "audio"; samples: Float32Array; receivedAt: number }
  /** The VAD confirmed speech (after min_speech_ms). */
  | { kind: "speech_started"; at: number }
  /**
   * The VAD heard enough silence to end the user's turn: `at` is when it decided, `speechEndedAt` when
   * the last voiced audio arrived (the end of the user's speech, the zero of the latency report).
   */
  | { kind: "speech_stopped"; at: number; speechEndedAt: number }
  /** Speech lasted long enough to count as barge-in if Morgan is answering. */
  | { kind: "barge_in"; at: number }
  /** The client says the utterance is over, optionally with its own transcript. */
  | { kind: "utterance_end"; at: number; transcription?: string }
  | { kind: "transcript"; transcript: Transcript; speechEndedAt?: number; endpointingMs?: number; audioMs: number }
  | { kind: "user_text"; text: string; at: number }
  /** A reply begins; `messages` is the conversation the LLM answers (system prompt, context, user text). */
  | { kind: "turn_started"; turn: Turn; messages: ChatMessage[] }
  | { kind: "llm_delta"; turn: Turn; text: string }
  | { kind: "llm_done"; turn: Turn }
  | { kind: "sentence"; turn: Turn; index: number; text: string }
  | { kind: "sentences_done"; turn: Turn }
  | {
      kind: "tts_audio";
      turn: Turn;
      /** Which sentence this audio speaks, and its text (for what-was-heard bookkeeping). */
      index: number;
      text: string;
      samples: Float32Array;
      sampleRate: number;
      cached: boolean;
    }
  | { kind: "tts_done"; turn: Turn }
  /** Ask whoever owns turns to stop the current reply (the client's `interrupt`). */
  | { kind: "interrupt_request"; reason: "client" }
  /** Stop `turn`: every stage cancels its work for it. */
  | { kind: "interrupt"; turn: Turn; reason: "barge_in" | "client" }
  | { kind: "error"; code: ErrorCode; message: string; turn?: Turn };

export type EventKind = PipelineEvent["kind"];
export type EventOf<K extends EventKind> = Extract<PipelineEvent, { kind: K }>;

/** Events that overtake queued work. */
export function isSystemEvent(event: PipelineEvent): boolean {
  return event.kind === "interrupt" || event.kind === "interrupt_request";
}

/** An event that belongs to a cancelled turn, which no stage should act on any more. */
export function isStale(event: PipelineEvent): boolean {
  if (event.kind === "interrupt" || event.kind === "error") return false;
  return "turn" in event && event.turn.cancelled;
}
