/**
 * The shapes of Morgan's REST and SSE responses, as zod schemas: the source for /openapi.json, for
 * the web page's reads of the history, and for the tests that check real responses against them.
 * (Request bodies and parameters are validated by the route modules' own schemas.)
 */
import { z } from "zod";

const isoTime = z.iso.datetime({ offset: true });

export const Conversation = z
  .object({
    id: z.uuid(),
    conversationId: z.string().describe("The caller's own name for the conversation; defaults to `id`."),
    userId: z.string(),
    createdAt: isoTime,
    updatedAt: isoTime,
    lastMessageAt: isoTime.nullable(),
    messageCount: z.number().int().min(0),
    isActive: z.boolean(),
  })
  .meta({ id: "Conversation" });

export const Message = z
  .object({
    id: z.uuid(),
    conversationId: z.uuid(),
    role: z.enum(["user", "assistant", "system"]),
    content: z.string(),
    sequenceNumber: z.number().int().min(1).describe("1, 2, 3… per conversation; provisional while `pending`."),
    tokensUsed: z.number().int().nullable(),
    processingTimeMs: z.number().int().nullable(),
    interrupted: z.boolean().describe("The user barged in: `content` is what they heard."),
    metadata: z.record(z.string(), z.unknown()),
    createdAt: isoTime,
    pending: z.literal(true).optional().describe("Journaled locally while PostgreSQL is away; not yet in the database."),
  })
  .meta({ id: "Message" });

const page = <Item extends z.ZodType>(item: Item) =>
  z.object({
    items: z.array(item),
    nextCursor: z.string().nullable().describe("Pass back as `cursor` for the next page; null at the end."),
  });
export const ConversationPage = page(Conversation).meta({ id: "ConversationPage" });
export const MessagePage = page(Message).meta({ id: "MessagePage" });

export const ErrorBody = z
  .object({
    error: z.string().describe("A stable code: invalid_request, not_found, payload_too_large, inference_failed, unavailable, internal_error…"),
    message: z.string(),
    problems: z.array(z.object({ field: z.string(), problem: z.string() })).optional(),
    requestId: z.string().optional(),
  })
  .meta({ id: "Error" });

const check = z.object({ status: z.string(), latencyMs: z.number().nullable() }).loose();
export const HealthReport = z
  .object({
    status: z.enum(["ok", "degraded", "stopping"]),
    uptimeS: z.number(),
    storage: z.object({ database: z.string(), cache: z.string() }),
    checks: z.object({ postgres: check, redis: check, triton: check }),
  })
  .meta({ id: "HealthReport" });

export const GenerateResult = z.object({
  text: z.string(),
  usage: z.object({ completion_tokens: z.number().int() }),
  latency_ms: z.number(),
});

export const TranscribeResult = z.object({
  text: z.string(),
  confidence: z.number().min(0).max(1),
  duration_ms: z.number().int(),
});

/** Server-Sent Events of the streaming routes: `event:` name → JSON `data:`. */
export const LlmStreamEvents = {
  delta: z.object({ text: z.string() }),
  done: z.object({
    text: z.string(),
    usage: z.object({ completion_tokens: z.number().int() }),
    latency: z.object({ first_token_ms: z.number().nullable(), total_ms: z.number().nullable() }),
  }),
  error: z.object({ message: z.string() }),
};

export const TtsStreamEvents = {
  audio: z.object({
    index: z.number().int().min(0),
    audio_data: z.base64().describe("16-bit little-endian mono PCM"),
    sample_rate: z.number().int(),
    format: z.literal("pcm_s16le"),
  }),
  done: z.object({ chunks: z.number().int().min(0) }),
  error: z.object({ message: z.string() }),
};
