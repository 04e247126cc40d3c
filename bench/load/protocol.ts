import type { UtteranceSpec } from "./utterance";

/** The jobs a load worker runs and the JSON-line events it answers with (bench/lib/workers.ts). */

export interface StreamJobBase {
  /** Concurrent streams, each running `requestsPerStream` requests one after another. */
  streams: number;
  requestsPerStream: number;
  /** The worker stops starting requests after this many seconds. */
  deadlineS: number;
}

export interface LlmRequestSpec {
  userText: string;
  systemPrompt: string;
  maxTokens: number;
  temperature: number;
}

export interface TtsRequestSpec {
  text: string;
  voice: string;
  speed: number;
}

export type Job =
  | ({ kind: "llm-direct"; tritonUrl: string; model: string; request: LlmRequestSpec } & StreamJobBase)
  | ({ kind: "llm-ws"; wsUrl: string; request: LlmRequestSpec } & StreamJobBase)
  | ({ kind: "tts-direct"; tritonUrl: string; model: string; request: TtsRequestSpec } & StreamJobBase)
  | ({ kind: "tts-sse"; httpUrl: string; request: TtsRequestSpec } & StreamJobBase)
  | {
      kind: "voice-turns";
      wsUrl: string;
      sessions: number;
      /** Spoken by Flite in the worker; session i asks questions[i % length]. */
      questions: string[];
      /** Silence streamed after the question so the VAD can end the turn. */
      trailingSilenceMs: number;
      /** Sessions start spread over this window, as real users do not all speak on the same 20 ms tick. */
      rampMs: number;
      deadlineS: number;
    }
  | SpokenJob
  | { kind: "hold-sessions"; wsUrl: string; pingIntervalMs: number; turnText: string; deadlineS: number }
  | { kind: "storage"; levels: number[]; durationS: number }
  /** `protocols`: WebSocket subprotocols, e.g. a client token (bench/scenarios/auth.ts). */
  | { kind: "flood"; wsUrl: string; connections: number; window: number; durationS: number; message: "ping" | "config" | "text"; text: string; protocols?: string[] }
  /** `concurrency` loops each sending GET `path` (with `Authorization: Bearer token` if given) back to back, for `durationS`. */
  | { kind: "rest-flood"; httpUrl: string; path: string; token?: string; concurrency: number; durationS: number }
  /** One session sends `texts` texts at once, `delayMs` after it starts (bench/scenarios/flood.ts). */
  | { kind: "text-flood"; wsUrl: string; texts: number; text: string; delayMs: number; answerTimeoutMs: number }
  /** Another session pings every `intervalMs` and takes text turns `turnGapMs` apart, for `durationS`. */
  | { kind: "ping-watch"; wsUrl: string; durationS: number; intervalMs: number; text: string; turnGapMs: number; turnTimeoutMs: number }
  /** The protocol fuzzer (tests/security/support/fuzz.ts). */
  | { kind: "fuzz"; wsUrl: string; frames: number; seed: number; lanes: number };

/** One streamed request as the client saw it. */
export interface StreamSample {
  /** Request sent → first token / first audio chunk. */
  firstMs: number;
  /** Gaps between consecutive tokens / chunks. */
  gapsMs: number[];
  totalMs: number;
  pieces: number;
}

export interface StreamResult {
  samples: StreamSample[];
  errors: string[];
  wallS: number;
}

export interface VoiceTurnSample {
  /** Client clock: vad_status speaking=false → first response_audio. */
  endOfSpeechToAudioMs: number | null;
  /** Client clock: final transcription → first response_text delta. */
  finalTranscriptToTextMs: number | null;
  /** Client clock: last audio chunk sent → vad_status speaking=false (the VAD's silence wait, seen by the client). */
  lastChunkToVadEndMs: number | null;
  /** The server's latency report from response_complete. */
  latency: Record<string, number | null> | null;
  transcript: string;
  /** 20 ms audio chunks sent for the turn: the question, then silence until the reply completed. */
  audioChunks: number;
}

export interface VoiceResult {
  samples: VoiceTurnSample[];
  errors: string[];
  wallS: number;
}

export interface HoldOpened {
  total: number;
  setupMs: number[];
  wallS: number;
  failures: string[];
}

export interface HoldResult {
  turnFirstTextMs: number[];
  pongMs: number[];
  errors: string[];
  stillOpen: number;
}

export interface FloodResult {
  sent: number;
  answered: number;
  errors: string[];
  wallS: number;
  /** Round trip of each answered message (sent → its answer). */
  roundTripMs: number[];
}

export interface TextFloodResult {
  sent: number;
  /** Epoch ms when the first text was sent. */
  startedAt: number;
  /** How long sending them all took, and until every one was answered. */
  sentMs: number;
  answeredMs: number;
  rateLimited: number;
  otherErrors: number;
  completed: number;
  interrupted: number;
}

export interface PingWatchResult {
  /** sentAt: epoch ms; rttMs null when no pong came. */
  pings: { sentAt: number; rttMs: number | null }[];
  turns: { sentAt: number; ms: number | null; error?: string }[];
}

export type WorkerEvent =
  /** cpuS: the worker's own CPU time, to show when the load generator rather than the server is the limit. */
  | { event: "result"; data: unknown; cpuS: number }
  | { event: "opened"; data: HoldOpened }
  | { event: "turns-done"; data: { turns: number } }
  | { event: "failed"; message: string };

/** One thing a scripted user does: say an utterance into the microphone, or type a text. */
export type SpokenItem =
  | { kind: "speech"; utterance: UtteranceSpec; reference: string; label?: string }
  | { kind: "text"; text: string; label?: string };

/**
 * Scripted users (bench/load/jobs/spoken.ts): each session streams a live microphone in real time
 * (20 ms chunks; silence between utterances) and works through its items.
 */
export interface SpokenJob {
  kind: "spoken";
  wsUrl: string;
  /** The `start` message's settings (turn_detection, max_response_tokens, seed, …). */
  settings: Record<string, unknown>;
  /** Per session: its items, and when it starts (ms after the job). */
  sessions: { items: SpokenItem[]; offsetMs: number }[];
  /** A fresh session (a first turn) for every item, or all of a session's items in one conversation. */
  sessionPerItem: boolean;
  /** Items start this long after the previous one started (a user speaking on a rhythm); absent: once the previous is done. */
  everyMs?: number;
  /** When an item is done: its end of turn, its reply's first audio, or its reply's response_complete. */
  until: "end_of_turn" | "first_audio" | "complete";
  itemTimeoutMs: number;
  deadlineS: number;
}

export interface SpokenItemResult {
  session: number;
  item: number;
  kind: "speech" | "text";
  label?: string;
  /** What was said or typed. */
  reference: string;
  voice?: string;
  /** Speech items: the mid-utterance pause in ms, if any. */
  pauseMs?: number;
  /** End-of-turn decisions (vad_status speaking=false) before the item's last voiced chunk was sent: the turn ended mid-utterance. */
  prematureEnds: number;
  /** Client clock: last voiced chunk sent → vad_status speaking=false (the end-of-turn decision). */
  endpointingMs: number | null;
  /** Client clock: last voiced chunk sent (text items: the text sent) → the reply's first response_audio. */
  firstAudioMs: number | null;
  /** Client clock: final transcription (text items: the text sent) → the reply's first response_text. */
  firstTextMs: number | null;
  /** The final transcription of the item's turn. */
  transcript: string | null;
  /** response_complete's text, when the item waited for it. */
  reply: string | null;
  /** The server's latency report (response_complete), when the item waited for it. */
  latency: Record<string, number | null> | null;
  error?: string;
}

export interface SpokenResult {
  items: SpokenItemResult[];
  errors: string[];
  wallS: number;
}
