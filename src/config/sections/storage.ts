import { z } from "zod";
import { intField, textField } from "../fields.ts";
import { defineSection } from "../section.ts";

/** The durable-intent queue that holds writes while PostgreSQL is away. */
export const storageSection = defineSection({
  schema: z
    .strictObject({
      /** Directory of the append-only journal of pending writes (survives a process restart). */
      journalDir: textField(".data/journal"),
      /** How often a lost PostgreSQL is re-tried. */
      reconnectIntervalMs: intField(50, 600_000, 1_000),
      /** Health probes give up after this long and report "down". */
      probeTimeoutMs: intField(50, 60_000, 1_000),
    })
    .prefault({}),
  env: {
    MORGAN_JOURNAL_DIR: "journalDir",
    MORGAN_DB_RECONNECT_INTERVAL_MS: "reconnectIntervalMs",
    MORGAN_PROBE_TIMEOUT_MS: "probeTimeoutMs",
  },
});
