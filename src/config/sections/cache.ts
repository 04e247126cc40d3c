import { z } from "zod";
import { intField } from "../fields.ts";
import { defineSection } from "../section.ts";

const DAY_S = 86_400;

/** Time-to-live (seconds) per Redis key family, plus bounds of the in-process tiers. */
export const cacheSection = defineSection({
  schema: z
    .strictObject({
      ttlS: z
        .strictObject({
          session: intField(1, 30 * DAY_S, 3_600),
          conversationContext: intField(1, 30 * DAY_S, 1_800),
          conversationMessages: intField(1, 30 * DAY_S, 1_800),
          audioBuffer: intField(1, DAY_S, 300),
        })
        .prefault({}),
      /**
       * How long a conversation stays in this process's memory tier after it was filled or written here.
       * Also the longest this process can miss another process's appends to the same conversation.
       */
      memoryTtlS: intField(1, DAY_S, 10),
      /** Most conversations kept in the memory tier (least recently used leave first). */
      memoryMaxConversations: intField(1, 1_000_000, 1_000),
      /** Most entries the in-process fallback cache holds while Redis is away. */
      fallbackMaxKeys: intField(100, 10_000_000, 100_000),
      /** Most chunks kept in audio:buffer:{session_id}; older chunks are trimmed. */
      audioBufferMaxChunks: intField(1, 100_000, 500),
      /** Most events kept in a session's replay list (for resuming a dropped stream). */
      replayMaxEntries: intField(1, 100_000, 200),
    })
    .prefault({}),
  env: {
    MORGAN_CACHE_TTL_SESSION_S: "ttlS.session",
    MORGAN_CACHE_TTL_CONTEXT_S: "ttlS.conversationContext",
    MORGAN_CACHE_TTL_MESSAGES_S: "ttlS.conversationMessages",
    MORGAN_CACHE_TTL_AUDIO_BUFFER_S: "ttlS.audioBuffer",
    MORGAN_CACHE_MEMORY_TTL_S: "memoryTtlS",
    MORGAN_CACHE_MEMORY_MAX_CONVERSATIONS: "memoryMaxConversations",
    MORGAN_CACHE_FALLBACK_MAX_KEYS: "fallbackMaxKeys",
    MORGAN_AUDIO_BUFFER_MAX_CHUNKS: "audioBufferMaxChunks",
    MORGAN_REPLAY_MAX_ENTRIES: "replayMaxEntries",
  },
});
