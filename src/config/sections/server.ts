import { z } from "zod";
import { intField, textField } from "../fields.ts";
import { defineSection } from "../section.ts";

export const serverSection = defineSection({
  schema: z
    .strictObject({
      /** Loopback by default: listening on a network needs auth.mode other than none (docs/security.md). */
      host: textField("127.0.0.1"),
      port: intField(1, 65535, 8000),
      /** Largest accepted HTTP request body. */
      bodyLimitBytes: intField(1024, 64 * 1024 * 1024, 1024 * 1024),
      /** How long shutdown hooks and in-flight requests get before the process exits anyway. */
      shutdownTimeoutMs: intField(100, 600_000, 15_000),
      /**
       * Drain on SIGTERM: how long replies already started may run on after clients were told
       * `going_away`, before the sockets close with 1001. Keep it below shutdownTimeoutMs.
       */
      drainMs: intField(0, 600_000, 10_000),
    })
    .prefault({}),
  env: {
    PORT: "port",
    MORGAN_HOST: "host",
    MORGAN_BODY_LIMIT_BYTES: "bodyLimitBytes",
    MORGAN_SHUTDOWN_TIMEOUT_MS: "shutdownTimeoutMs",
    MORGAN_DRAIN_MS: "drainMs",
  },
});
