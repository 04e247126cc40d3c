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
  | { kind: "hold-sessions"; wsUrl: string; pingIntervalMs: number; turnText: string; deadlineS: number }
  | { kind: "storage"; levels: number[]; durationS: number }
  | { kind: "flood"; wsUrl: string; connections: number; window: number; durationS: number; message: "ping" | "config" | "text"; text: string };

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

export type WorkerEvent =
  /** cpuS: the worker's own CPU time, to show when the load generator rather than the server is the limit. */
  | { event: "result"; data: unknown; cpuS: number }
  | { event: "opened"; data: HoldOpened }
  | { event: "turns-done"; data: { turns: number } }
  | { event: "failed"; message: string };
