/**
 * Morgan's WebSocket protocol: the single source for the server, the tests and docs/protocol.md
 * (generated from this module by scripts/gen-docs.ts, with docs/asyncapi.json; a test fails when they are stale).
 *
 * Every message is JSON `{type, data}`. Client audio may also arrive as binary frames: 16-bit
 * little-endian mono PCM at the session's negotiated input rate. Every server message carries `seq`,
 * a per-session number (from 1, increasing by 1) the client hands back in `resume` to receive what it
 * missed; an error sent before any session exists carries seq 0. When a session moves to another
 * server instance, the numbering continues above anything the previous instance could have sent: the
 * resumed `session_started` may jump ahead, and the numbers stay unique, so a client may drop any
 * message whose seq it has already seen.
 */
import { z } from "zod";

/** Upper bounds on client input; the server refuses anything larger with a clear error. */
export const LIMITS = {
  /** Largest WebSocket frame accepted (base64 audio of ~1 s at 48 kHz fits comfortably). */
  maxFrameBytes: 256 * 1024,
  /** Longest `text` turn or system prompt, in characters. */
  maxTextChars: 4000,
  maxSystemPromptChars: 8000,
  /** Largest decoded audio chunk, in bytes of 16-bit PCM (2 s at 48 kHz). */
  maxAudioChunkBytes: 192_000,
  /** Invalid messages tolerated before the socket is closed as abusive. */
  maxConsecutiveErrors: 20,
} as const;

/** WebSocket close codes the server uses, and why. */
export const CLOSE_CODES = {
  normal: 1000,
  goingAway: 1001,
  policyViolation: 1008,
  messageTooBig: 1009,
  internalError: 1011,
  idleTimeout: 4000,
  slowConsumer: 4001,
  resumeFailed: 4002,
  /** Another socket resumed this session (here or on another instance); this one no longer receives it. */
  sessionReplaced: 4003,
} as const;

/** Close codes after which resuming cannot help: the server ended, refused or handed over the session. */
export const FINAL_CLOSE_CODES: ReadonlySet<number> = new Set<number>([
  CLOSE_CODES.normal,
  CLOSE_CODES.policyViolation,
  CLOSE_CODES.messageTooBig,
  CLOSE_CODES.resumeFailed,
  CLOSE_CODES.sessionReplaced,
]);

/**
 * WebSocket subprotocols. A browser cannot set an Authorization header on a WebSocket: it offers
 * `morgan.v1`, which the server echoes, beside `morgan.token.<token>`, which carries its credential.
 */
export const SUBPROTOCOL = "morgan.v1";
export const TOKEN_SUBPROTOCOL_PREFIX = "morgan.token.";

export const SUPPORTED_SAMPLE_RATES = [8000, 16000, 22050, 24000, 44100, 48000] as const;
const sampleRate = z
  .number()
  .int()
  .refine((r) => (SUPPORTED_SAMPLE_RATES as readonly number[]).includes(r), {
    message: `sample rate must be one of ${SUPPORTED_SAMPLE_RATES.join(", ")}`,
  })
  .meta({ enum: [...SUPPORTED_SAMPLE_RATES] });

/**
 * Text the server stores or passes on. PostgreSQL's text type cannot hold U+0000, so a NUL would
 * make the store fail after the reply went out: refused here, at the boundary, instead.
 */
const text = () => z.string().refine((value) => !value.includes("\u0000"), { message: "must not contain a NUL character (U+0000)" });

/** A BCP 47-style language tag: "en", "en-US", "zh-Hant". */
const language = z
  .string()
  .min(2)
  .max(16)
  .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/, "use a language tag such as en or en-US")
  .meta({ description: "A language tag such as `en` or `en-US`." });

const identifier = z.string().min(1).max(128).regex(/^[A-Za-z0-9_.:@-]+$/, "use letters, digits and _ . : @ -");

/** Voice-activity settings a client may tune per session. */
export const VadSettings = z
  .object({
    /** Speech probability at or above which a frame counts as speech. */
    threshold: z.number().min(0.05).max(0.95),
    /** `silence` turn detection: the silence that ends the user's turn. */
    min_silence_ms: z.number().int().min(100).max(5000),
    /** Speech needed before a turn starts (filters clicks and breaths). */
    min_speech_ms: z.number().int().min(30).max(2000),
    /** Speech needed, while Morgan is answering, before it counts as barge-in. */
    barge_in_min_speech_ms: z.number().int().min(30).max(5000),
  })
  .partial()
  .strict();
export type VadSettings = z.infer<typeof VadSettings>;

export const TURN_DETECTION_MODES = ["semantic", "silence"] as const;
export const EAGERNESS_LEVELS = ["low", "medium", "high", "auto"] as const;

/** How Morgan decides that the user has finished speaking. */
export const TurnDetectionSettings = z
  .object({
    /**
     * `semantic`: at a short pause, a turn model (Smart Turn) judges from the audio whether the user
     * is done; if not, Morgan keeps listening up to `max_endpointing_ms`. `silence`: the turn ends after
     * `vad.min_silence_ms` of silence, whatever was said.
     */
    mode: z.enum(TURN_DETECTION_MODES),
    /** `high` ends turns sooner (and cuts in more often); `low` waits for more certainty. `auto` = `medium`. */
    eagerness: z.enum(EAGERNESS_LEVELS),
    /** The pause after which the turn model is asked (and speech recognition is finalised early). */
    min_endpointing_ms: z.number().int().min(50).max(2000),
    /** The longest silence Morgan waits for a turn the model thinks is unfinished. */
    max_endpointing_ms: z.number().int().min(200).max(10_000),
  })
  .partial()
  .strict();
export type TurnDetectionSettings = z.infer<typeof TurnDetectionSettings>;

/** When the user's speech interrupts Morgan's reply. */
export const InterruptionSettings = z
  .object({
    /** Words the user must say (from the live transcript) before speech counts as an interruption; 0 = speech alone. */
    min_words: z.number().int().min(0).max(10),
    /**
     * Pause the reply when the user starts speaking over it, and resume it where it stopped if no
     * words follow (a cough, a "mm"); otherwise the reply stops at once.
     */
    resume_false_interruption: z.boolean(),
    /** How long after the user falls silent a paused reply waits for words before it resumes. */
    false_interruption_timeout_ms: z.number().int().min(200).max(10_000),
  })
  .partial()
  .strict();
export type InterruptionSettings = z.infer<typeof InterruptionSettings>;

/** Settings that `start` sets and `config` may change mid-session. */
export const SessionSettings = z
  .object({
    language,
    voice: text().min(1).max(64),
    speed: z.number().min(0.5).max(2),
    input_sample_rate: sampleRate,
    output_sample_rate: sampleRate,
    audio_format: z.literal("pcm_s16le"),
    vad: VadSettings,
    turn_detection: TurnDetectionSettings,
    interruption: InterruptionSettings,
    system_prompt: text().max(LIMITS.maxSystemPromptChars),
    /** Without echo cancellation Morgan's own voice may reach the mic: barge-in then needs longer speech. */
    echo_cancellation: z.boolean(),
    max_response_tokens: z.number().int().min(1).max(1024),
    temperature: z.number().min(0).max(2),
    /** Fixes the LLM's sampling for reproducible replies (as vLLM's `seed`). */
    seed: z.number().int().min(0).max(2 ** 31 - 1),
  })
  .partial()
  .strict();
export type SessionSettings = z.infer<typeof SessionSettings>;

const message = <T extends string, D extends z.ZodType>(type: T, data: D) =>
  z.object({ type: z.literal(type), data }).strict();
const emptyData = z.object({}).strict().optional();

export const StartMessage = message(
  "start",
  SessionSettings.extend({
    user_id: identifier.optional(),
    /** Continue an existing conversation instead of starting a new one; "latest": the one the user used last. */
    conversation_id: z.union([z.uuid(), z.literal("latest")]).optional(),
  })
    .strict()
    .optional(),
);
export const AudioMessage = message(
  "audio",
  z.object({ audio_data: z.base64().min(1) }).strict(),
);
export const TextMessage = message(
  "text",
  z.object({ text: text().trim().min(1).max(LIMITS.maxTextChars) }).strict(),
);
export const UtteranceEndMessage = message(
  "utterance_end",
  /** A client that ran its own STT may pass the transcript; otherwise Morgan's STT finalises. */
  z.object({ transcription: text().max(LIMITS.maxTextChars).optional() }).strict().optional(),
);
export const StopMessage = message("stop", emptyData);
export const ConfigMessage = message("config", SessionSettings);
export const PingMessage = message("ping", z.object({ timestamp: z.number().optional() }).strict().optional());
export const InterruptMessage = message("interrupt", emptyData);
export const PlaybackMessage = message(
  "playback",
  /** Milliseconds of the current reply the client has actually played. */
  z.object({ played_ms: z.number().min(0).max(3_600_000) }).strict(),
);
export const ResumeMessage = message(
  "resume",
  z
    .object({
      session_id: z.uuid(),
      resume_token: z.string().min(16).max(256),
      /** The last server `seq` the client received; everything after it is replayed. */
      last_seq: z.number().int().min(0),
    })
    .strict(),
);

export const ClientMessage = z.discriminatedUnion("type", [
  StartMessage,
  AudioMessage,
  TextMessage,
  UtteranceEndMessage,
  StopMessage,
  ConfigMessage,
  PingMessage,
  InterruptMessage,
  PlaybackMessage,
  ResumeMessage,
]);
export type ClientMessage = z.infer<typeof ClientMessage>;
export const CLIENT_MESSAGE_TYPES = ClientMessage.options.map((o) => o.shape.type.value);

// ---------------------------------------------------------------- server → client

export const LatencyReport = z.object({
  /**
   * Voice turns: from the end of the user's speech, i.e. the arrival of the last voiced audio, to the
   * decision that the turn was over (the silence or model wait). Null for text turns.
   */
  endpointing_ms: z.number().nullable(),
  /** The rest in ms from the end of the user's speech (text turns: from receipt of the text). */
  stt_final_ms: z.number().nullable(),
  llm_first_token_ms: z.number().nullable(),
  first_sentence_ms: z.number().nullable(),
  tts_first_chunk_ms: z.number().nullable(),
  last_chunk_ms: z.number().nullable(),
});
export type LatencyReport = z.infer<typeof LatencyReport>;

export const ErrorCode = z.enum([
  "invalid_json",
  "invalid_message",
  "unknown_type",
  "not_started",
  "already_started",
  "invalid_audio",
  "resume_failed",
  /** The connection's credential does not allow it: another user's id, or a conversation the token is not bound to. */
  "forbidden",
  "inference_failed",
  "storage_failed",
  /** A quota was exceeded (turns per second, queued messages, sessions per user or key); `message` says which. */
  "rate_limited",
  /** The session's conversation was deleted: the session ends. */
  "conversation_deleted",
  "internal",
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

const serverMessage = <T extends string, D extends z.ZodType>(type: T, data: D) =>
  z.object({ type: z.literal(type), seq: z.number().int().min(0), data }).strict();

export const ServerMessage = z.discriminatedUnion("type", [
  serverMessage(
    "session_started",
    z.object({
      session_id: z.uuid(),
      conversation_id: z.uuid(),
      resume_token: z.string(),
      resumed: z.boolean(),
      input_sample_rate: z.number(),
      output_sample_rate: z.number(),
      audio_format: z.literal("pcm_s16le"),
    }),
  ),
  serverMessage(
    "transcription",
    z.object({ text: z.string(), is_final: z.boolean(), confidence: z.number().min(0).max(1) }),
  ),
  serverMessage("vad_status", z.object({ speaking: z.boolean() })),
  serverMessage(
    "response_text",
    z.object({ turn_id: z.uuid(), text: z.string(), is_final: z.boolean() }),
  ),
  serverMessage(
    "response_audio",
    z.object({
      turn_id: z.uuid(),
      /** Base64 of 16-bit little-endian mono PCM; empty on the final marker. */
      audio_data: z.string(),
      is_final: z.boolean(),
      sample_rate: z.number(),
      format: z.literal("pcm_s16le"),
      duration_ms: z.number(),
    }),
  ),
  serverMessage(
    "response_complete",
    z.object({ turn_id: z.uuid(), text: z.string(), latency: LatencyReport, cached_audio: z.boolean() }),
  ),
  serverMessage("response_paused", z.object({ turn_id: z.uuid() })),
  serverMessage("response_resumed", z.object({ turn_id: z.uuid() })),
  serverMessage(
    "interrupted",
    z.object({ turn_id: z.uuid(), heard_text: z.string(), heard_ms: z.number(), reason: z.enum(["barge_in", "client", "server"]) }),
  ),
  serverMessage(
    "error",
    z.object({ code: ErrorCode, message: z.string(), recoverable: z.boolean() }),
  ),
  serverMessage("pong", z.object({ timestamp: z.number() })),
  serverMessage("session_ended", z.object({ session_id: z.uuid(), duration: z.number() })),
  serverMessage(
    "going_away",
    z.object({
      session_id: z.uuid(),
      resume_token: z.string(),
      /** Milliseconds until this instance closes the socket with 1001; a reply already started finishes first, if it can. */
      deadline_ms: z.number().int().min(0),
    }),
  ),
]);
export type ServerMessage = z.infer<typeof ServerMessage>;
export type ServerMessageType = ServerMessage["type"];
/** A server message before the session stamps its sequence number. */
export type OutgoingMessage = { [K in ServerMessageType]: Omit<Extract<ServerMessage, { type: K }>, "seq"> }[ServerMessageType];

/** Parses one text frame. Returns a typed message or the error to send back. */
export function parseClientMessage(raw: string):
  | { ok: true; message: ClientMessage }
  | { ok: false; code: ErrorCode; message: string } {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, code: "invalid_json", message: "message is not valid JSON" };
  }
  const type = (json as { type?: unknown } | null)?.type;
  if (typeof type !== "string" || !(CLIENT_MESSAGE_TYPES as string[]).includes(type)) {
    return {
      ok: false,
      code: "unknown_type",
      message: `unknown message type ${echoed(type)}; expected one of ${CLIENT_MESSAGE_TYPES.join(", ")}`,
    };
  }
  const parsed = ClientMessage.safeParse(json);
  if (!parsed.success) return { ok: false, code: "invalid_message", message: describeIssues(type, parsed.error) };
  return { ok: true, message: parsed.data };
}

/** How much of a client's unknown `type` an error quotes: enough to recognise, never the whole frame back. */
const MAX_ECHOED_CHARS = 64;

function echoed(value: unknown): string {
  const json = JSON.stringify(value ?? null) ?? "null";
  return json.length <= MAX_ECHOED_CHARS ? json : `${json.slice(0, MAX_ECHOED_CHARS)}…`;
}

/** One readable line naming each offending field, e.g. `start: data.vad.threshold: Too big…`. */
export function describeIssues(context: string, error: z.ZodError): string {
  const parts = error.issues.map((issue) => {
    const path = issue.path.length > 0 ? issue.path.join(".") : "(message)";
    return `${path}: ${issue.message}`;
  });
  return `${context}: ${parts.join("; ")}`;
}
