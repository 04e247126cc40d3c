import { z } from "zod";
import { boolField } from "../fields.ts";
import { defineSection } from "../section.ts";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

export const logSection = defineSection({
  schema: z
    .strictObject({
      level: z.enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(", ")}` }).default("info"),
      /** Human-readable lines instead of JSON (development only: slower, needs pino-pretty). */
      pretty: boolField(false),
    })
    .prefault({}),
  env: { LOG_LEVEL: "level", MORGAN_LOG_LEVEL: "level", MORGAN_LOG_PRETTY: "pretty" },
});
