/**
 * The small interfaces the voice pipeline sees for each inference stage.
 * Adapters in this folder implement them on top of Triton (@triton-client); the pipeline never
 * touches tensors or gRPC. Every call takes an AbortSignal: aborting it must cancel the work at
 * Triton (barge-in relies on this).
 */

/** Mono PCM samples in [-1, 1] at `sampleRate` Hz. */
export interface AudioChunk {
  samples: Float32Array;
  sampleRate: number;
}

/** One VAD decision per model frame (Silero: 512 samples = 32 ms at 16 kHz). */
export interface VadFrame {
  /** Speech probability in [0, 1]. */
  probability: number;
  /** Duration of audio this frame covers, in ms. */
  durationMs: number;
}

/** A stateful VAD stream: one Triton sequence per client audio stream. */
export interface VadStream {
  /** Feeds 16 kHz audio; resolves with the frames completed by this chunk (possibly none). */
  push(samples: Float32Array, signal?: AbortSignal): Promise<VadFrame[]>;
  /** Ends the Triton sequence and frees its state. Safe to call twice. */
  close(): Promise<void>;
}

export interface VoiceActivityDetector {
  open(): VadStream;
}

export interface Transcript {
  text: string;
  isFinal: boolean;
  /** In [0, 1]; partial hypotheses may report 0 when the engine gives none. */
  confidence: number;
}

/** One utterance: one Triton sequence. */
export interface SttStream {
  /** Sends a 16 kHz chunk; partial hypotheses arrive through `onPartial`. */
  push(samples: Float32Array): void;
  /** Ends the utterance and resolves with the final transcript. */
  finish(signal?: AbortSignal): Promise<Transcript>;
  /** Drops the utterance at Triton without a result. */
  abort(): void;
}

export interface SpeechToText {
  open(options: { language: string; onPartial: (t: Transcript) => void }): SttStream;
}

/** End-of-turn detection from how the user spoke (Smart Turn) and from what they said (a small LLM). */
export interface TurnDetector {
  /** The probability that the user has finished their turn, from up to the last 8 s of its 16 kHz audio. */
  predict(audio: Float32Array, signal?: AbortSignal): Promise<number>;
  /**
   * The probability that the words so far end an utterance (the text check), or null where the model
   * has no text check (a repository without its runtime): then the audio alone decides.
   */
  predictText(transcript: string, signal?: AbortSignal): Promise<number | null>;
}

export interface GenerationRequest {
  prompt: string;
  maxTokens: number;
  temperature: number;
  /** vLLM's repetition_penalty: above 1 discourages repeating earlier tokens. */
  repetitionPenalty?: number;
  seed?: number;
  stop?: string[];
}

export interface LanguageModel {
  /** Streams text deltas, as Triton's vLLM backend does with stream=true. */
  stream(request: GenerationRequest, signal?: AbortSignal): AsyncIterable<string>;
}

export interface SynthesisRequest {
  text: string;
  voice: string;
  speed: number;
}

export interface TextToSpeech {
  /** Streams audio as it is synthesised (at least one chunk per sentence). */
  synthesize(request: SynthesisRequest, signal?: AbortSignal): AsyncIterable<AudioChunk>;
  /** The names of the installed voices (what `voice` may be). */
  voices(): Promise<string[]>;
}

/** The models a voice session uses, one per role. */
export interface Models {
  vad: VoiceActivityDetector;
  stt: SpeechToText;
  turn: TurnDetector;
  llm: LanguageModel;
  tts: TextToSpeech;
}

/** The Triton model serving each role (configuration: MORGAN_TRITON_MODEL_*). */
export type ModelNames = Record<keyof Models, string>;
