/**
 * The typed events that flow down a session's pipeline, Pipecat-style: each stage handles the
 * events it knows and forwards the rest. `interrupt` is a system event: it overtakes queued work in
 * every stage, and each stage cancels its own in-flight requests when it passes by; pausing and
 * resuming a reply overtake queued work too.
 */
import type { Transcript } from "../inference/types";
import type { ErrorCode } from "../protocol/messages";
import type { ChatMessage } from "./text/chat-template";
import type { EndReason } from "./turn-taking/endpointing";
import type { SpeculationOutcome } from "./turn-taking/recognizer";
import type { TurnView } from "./turn-taking/turn";

export type PipelineEvent =
  /** 16 kHz mono audio from the client; `receivedAt` is when it arrived (performance.now()). */
  | { kind: "audio"; samples: Float32Array; receivedAt: number }
  /** The user started speaking (after min_speech_ms of speech). */
  | { kind: "speech_started"; at: number }
  /**
   * Turn-taking decided that the user's turn is over: `at` is the decision, `speechEndedAt` when the
   * last voiced audio arrived (the end of the user's speech, the zero of the latency report).
   */
  | { kind: "speech_stopped"; at: number; speechEndedAt: number; reason: EndReason }
  /** The client says the utterance is over, optionally with its own transcript. */
  | { kind: "utterance_end"; at: number; transcription?: string }
  /** A partial or the final transcript of the user's utterance. */
  | { kind: "transcript"; transcript: Transcript; audioMs: number }
  | { kind: "user_text"; text: string; at: number }
  /** A user's turn to answer, as turn-taking decided it. */
  | { kind: "user_turn"; turn: TurnView }
  /** A reply begins: `messages` is what the LLM answers; the reply is stored after `userMessageStored`. */
  | { kind: "turn_started"; turn: TurnView; messages: ChatMessage[]; userMessageStored: Promise<unknown> }
  | { kind: "llm_delta"; turn: TurnView; text: string }
  | { kind: "llm_done"; turn: TurnView }
  | { kind: "sentence"; turn: TurnView; index: number; text: string }
  | { kind: "sentences_done"; turn: TurnView }
  | {
      kind: "tts_audio";
      turn: TurnView;
      /** Which sentence this audio speaks, and its text (for what-was-heard bookkeeping). */
      index: number;
      text: string;
      samples: Float32Array;
      sampleRate: number;
      cached: boolean;
    }
  | { kind: "tts_done"; turn: TurnView }
  /** Ask turn-taking to stop the current reply (the client's `interrupt`). */
  | { kind: "interrupt_request"; reason: "client" }
  /** Stop `turn`: every stage cancels its work for it. */
  | { kind: "interrupt"; turn: TurnView; reason: "barge_in" | "client" }
  /** The user spoke over the reply: hold its audio until it resumes or is interrupted. */
  | { kind: "reply_paused"; turn: TurnView }
  | { kind: "reply_resumed"; turn: TurnView }
  /** A speculative final transcript was used, or discarded because the user went on (wasted work). */
  | { kind: "speculation"; outcome: SpeculationOutcome }
  /** `fatal`: the session cannot go on (its conversation was deleted); it ends after the client is told. */
  | { kind: "error"; code: ErrorCode; message: string; turn?: TurnView; fatal?: boolean };

export type EventKind = PipelineEvent["kind"];
export type EventOf<K extends EventKind> = Extract<PipelineEvent, { kind: K }>;

const SYSTEM_EVENTS = new Set<EventKind>(["interrupt", "interrupt_request", "reply_paused", "reply_resumed"]);

/** Events that overtake queued work. */
export function isSystemEvent(event: PipelineEvent): boolean {
  return SYSTEM_EVENTS.has(event.kind);
}

/** An event that belongs to a cancelled turn, which no stage should act on any more. */
export function isStale(event: PipelineEvent): boolean {
  if (event.kind === "interrupt" || event.kind === "error") return false;
  return "turn" in event && event.turn !== undefined && event.turn.cancelled;
}
