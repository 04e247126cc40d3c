/**
 * PostgreSQL tables (the seed's five, plus what the voice pipeline needs). UUID keys everywhere so
 * writers can generate ids themselves: a write replayed after an outage is recognised by its id.
 * SQL migrations in drizzle/ are generated from this file: `bun run db:generate`.
 */
import { sql } from "drizzle-orm";
import {
  boolean,
  check,
  customType,
  index,
  integer,
  jsonb,
  pgTable,
  real,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

/** Raw bytes (bytea); postgres.js and PGlite both hand back a Uint8Array. */
const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType: () => "bytea",
});

const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp("updated_at", { withTimezone: true }).notNull().defaultNow();

export const MESSAGE_ROLES = ["system", "user", "assistant"] as const;
export type MessageRole = (typeof MESSAGE_ROLES)[number];

export const conversations = pgTable(
  "conversations",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    /** The caller's own name for the conversation (defaults to the id); unique. */
    conversationId: text("conversation_id").notNull(),
    userId: text("user_id").notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    lastMessageAt: timestamp("last_message_at", { withTimezone: true }),
    /** Also the last sequence_number handed out: incremented under the row lock by each append. */
    messageCount: integer("message_count").notNull().default(0),
    isActive: boolean("is_active").notNull().default(true),
  },
  (table) => [
    uniqueIndex("conversations_conversation_id_key").on(table.conversationId),
    // A user's conversations by recency (GET /v1/conversations?user_id=, keyset-paginated).
    index("conversations_user_recent_idx").on(table.userId, table.updatedAt.desc(), table.id.desc()),
  ],
);

export const messages = pgTable(
  "messages",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    conversationId: uuid("conversation_id")
      .notNull()
      .references(() => conversations.id, { onDelete: "cascade" }),
    role: text("role", { enum: MESSAGE_ROLES }).notNull(),
    content: text("content").notNull(),
    sequenceNumber: integer("sequence_number").notNull(),
    tokensUsed: integer("tokens_used"),
    processingTimeMs: integer("processing_time_ms"),
    /** The assistant was cut off (barge-in); content holds what was actually spoken. */
    interrupted: boolean("interrupted").notNull().default(false),
    metadata: jsonb("metadata").$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
  },
  (table) => [
    // The backstop for gapless numbering: two appends can never share a number.
    uniqueIndex("messages_conversation_sequence_key").on(table.conversationId, table.sequenceNumber),
    check("messages_role_check", sql`${table.role} in ('system', 'user', 'assistant')`),
    check("messages_sequence_positive", sql`${table.sequenceNumber} > 0`),
  ],
);

export const streamingSessions = pgTable(
  "streaming_sessions",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    sessionId: text("session_id").notNull(),
    userId: text("user_id").notNull(),
    conversationId: uuid("conversation_id").references(() => conversations.id, { onDelete: "set null" }),
    status: text("status").notNull().default("active"),
    sessionType: text("session_type").notNull().default("voice"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    endedAt: timestamp("ended_at", { withTimezone: true }),
    durationMs: integer("duration_ms"),
  },
  (table) => [
    uniqueIndex("streaming_sessions_session_id_key").on(table.sessionId),
    index("streaming_sessions_user_idx").on(table.userId, table.createdAt.desc()),
    index("streaming_sessions_conversation_idx").on(table.conversationId),
  ],
);

export const audioTranscriptions = pgTable(
  "audio_transcriptions",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    sessionId: uuid("session_id")
      .notNull()
      .references(() => streamingSessions.id, { onDelete: "cascade" }),
    messageId: uuid("message_id").references(() => messages.id, { onDelete: "set null" }),
    transcription: text("transcription").notNull(),
    language: text("language"),
    confidence: real("confidence"),
    durationMs: integer("duration_ms"),
    createdAt: createdAt(),
  },
  (table) => [
    index("audio_transcriptions_session_idx").on(table.sessionId),
    index("audio_transcriptions_message_idx").on(table.messageId),
  ],
);

export const ttsGenerations = pgTable(
  "tts_generations",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    messageId: uuid("message_id").references(() => messages.id, { onDelete: "set null" }),
    /** sha256 hex of the synthesised text. */
    textHash: text("text_hash").notNull(),
    voice: text("voice").notNull(),
    speed: real("speed").notNull(),
    audioFormat: text("audio_format").notNull(),
    sampleRate: integer("sample_rate").notNull(),
    durationMs: integer("duration_ms"),
    /** The synthesis itself, so the TTS cache survives restarts. */
    audio: bytea("audio").notNull(),
    createdAt: createdAt(),
  },
  (table) => [
    uniqueIndex("tts_generations_lookup_key").on(table.textHash, table.voice, table.speed, table.audioFormat),
    index("tts_generations_message_idx").on(table.messageId),
  ],
);

export type ConversationRow = typeof conversations.$inferSelect;
export type MessageRow = typeof messages.$inferSelect;
export type StreamingSessionRow = typeof streamingSessions.$inferSelect;
export type AudioTranscriptionRow = typeof audioTranscriptions.$inferSelect;
export type TtsGenerationRow = typeof ttsGenerations.$inferSelect;
