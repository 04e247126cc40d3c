import { z } from "zod";
import { intField } from "../fields.ts";
import { defineSection } from "../section.ts";

/** The context handed to the LLM: the last `maxTurns` messages, at most `maxChars` characters in all. */
export const conversationSection = defineSection({
  schema: z
    .strictObject({
      contextMaxTurns: intField(1, 1_000, 20),
      contextMaxChars: intField(100, 1_000_000, 8_000),
      /** Messages kept per conversation in the memory and Redis tiers; must cover contextMaxTurns. */
      cacheWindow: intField(1, 10_000, 50),
    })
    .prefault({}),
  env: {
    MORGAN_CONTEXT_MAX_TURNS: "contextMaxTurns",
    MORGAN_CONTEXT_MAX_CHARS: "contextMaxChars",
    MORGAN_CONTEXT_CACHE_WINDOW: "cacheWindow",
  },
});
