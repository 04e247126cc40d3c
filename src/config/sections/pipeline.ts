import { z } from "zod";
import { boolField, intField, numberField, textField } from "../fields.ts";
import { defineSection } from "../section.ts";
import { EAGERNESS_LEVELS, TURN_DETECTION_MODES } from "../../protocol/messages.ts";

/** Defaults for voice sessions (a client overrides them per session in `start` / `config`) and WebSocket limits. */
export const pipelineSection = defineSection({
  schema: z
    .strictObject({
      language: textField("en"),
      /** One of the installed Piper voices (the tts model's `voices` parameter). */
      voice: textField("en_US-joe-medium"),
      speed: numberField(0.5, 2, 1),
      outputSampleRate: intField(8000, 48000, 16000),
      systemPrompt: z.string().max(8000).default("You are Morgan, a friendly voice assistant. Give short, correct answers."),
      /** The LLM's chat template: chatml (SmolLM2, Qwen2.5) or llama3. Its stop strings come with it. */
      chatTemplate: z.enum(["chatml", "llama3"], { error: "expected chatml or llama3" }).default("chatml"),
      maxResponseTokens: intField(1, 1024, 96),
      /** Low for a small model: sampled words drift from the facts it knows. */
      temperature: numberField(0, 2, 0.2),
      /** vLLM's repetition_penalty for spoken replies: above 1 keeps a small model from looping. */
      repetitionPenalty: numberField(1, 2, 1.1),
      echoCancellation: boolField(true),
      vad: z
        .strictObject({
          threshold: numberField(0.05, 0.95, 0.5),
          /** `silence` turn detection: the silence that ends a turn. */
          minSilenceMs: intField(100, 5000, 500),
          minSpeechMs: intField(30, 2000, 120),
          bargeInMinSpeechMs: intField(30, 5000, 300),
          /** A session that sends no audio this long gives its VAD sequence back (the model holds 64). */
          releaseAfterMs: intField(100, 600_000, 3000),
        })
        .prefault({}),
      /** How the end of the user's turn is decided (docs/turn-taking.md). */
      turnDetection: z
        .strictObject({
          mode: z.enum(TURN_DETECTION_MODES, { error: `expected one of ${TURN_DETECTION_MODES.join(", ")}` }).default("semantic"),
          eagerness: z.enum(EAGERNESS_LEVELS, { error: `expected one of ${EAGERNESS_LEVELS.join(", ")}` }).default("auto"),
          minEndpointingMs: intField(50, 2000, 200),
          maxEndpointingMs: intField(200, 10_000, 2000),
        })
        .prefault({}),
      /** What the user's speech does to a reply that is playing (docs/turn-taking.md). */
      interruption: z
        .strictObject({
          minWords: intField(0, 10, 0),
          resumeFalseInterruption: boolField(true),
          falseInterruptionTimeoutMs: intField(200, 10_000, 1500),
          /** Barge-in needs at least this much speech when the client has no echo cancellation. */
          minSpeechMsWithoutEchoCancellation: intField(30, 5000, 600),
        })
        .prefault({}),
      /** Reply audio is paced to real time, at most this far ahead of playout (the client's jitter buffer). */
      audioLeadMs: intField(0, 60_000, 1000),
      /** A dropped client may resume within this window; then the session ends. */
      resumeWindowS: intField(1, 3600, 60),
      /** A client whose unsent backlog exceeds this is not reading: it is disconnected. */
      maxBufferedBytes: intField(64 * 1024, 256 * 1024 * 1024, 8 * 1024 * 1024),
      pingIntervalS: intField(1, 600, 30),
    })
    .prefault({}),
  env: {
    MORGAN_LANGUAGE: "language",
    MORGAN_VOICE: "voice",
    MORGAN_SPEED: "speed",
    MORGAN_OUTPUT_SAMPLE_RATE: "outputSampleRate",
    MORGAN_SYSTEM_PROMPT: "systemPrompt",
    MORGAN_CHAT_TEMPLATE: "chatTemplate",
    MORGAN_REPETITION_PENALTY: "repetitionPenalty",
    MORGAN_MAX_RESPONSE_TOKENS: "maxResponseTokens",
    MORGAN_TEMPERATURE: "temperature",
    MORGAN_ECHO_CANCELLATION: "echoCancellation",
    MORGAN_VAD_THRESHOLD: "vad.threshold",
    MORGAN_VAD_MIN_SILENCE_MS: "vad.minSilenceMs",
    MORGAN_VAD_MIN_SPEECH_MS: "vad.minSpeechMs",
    MORGAN_BARGE_IN_MIN_SPEECH_MS: "vad.bargeInMinSpeechMs",
    MORGAN_VAD_RELEASE_AFTER_MS: "vad.releaseAfterMs",
    MORGAN_TURN_DETECTION: "turnDetection.mode",
    MORGAN_TURN_EAGERNESS: "turnDetection.eagerness",
    MORGAN_MIN_ENDPOINTING_MS: "turnDetection.minEndpointingMs",
    MORGAN_MAX_ENDPOINTING_MS: "turnDetection.maxEndpointingMs",
    MORGAN_INTERRUPTION_MIN_WORDS: "interruption.minWords",
    MORGAN_RESUME_FALSE_INTERRUPTION: "interruption.resumeFalseInterruption",
    MORGAN_FALSE_INTERRUPTION_TIMEOUT_MS: "interruption.falseInterruptionTimeoutMs",
    MORGAN_BARGE_IN_MIN_SPEECH_MS_WITHOUT_AEC: "interruption.minSpeechMsWithoutEchoCancellation",
    MORGAN_AUDIO_LEAD_MS: "audioLeadMs",
    MORGAN_RESUME_WINDOW_S: "resumeWindowS",
    MORGAN_WS_MAX_BUFFERED_BYTES: "maxBufferedBytes",
    MORGAN_WS_PING_INTERVAL_S: "pingIntervalS",
  },
});
