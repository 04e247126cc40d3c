import { z } from "zod";
import { intField, numberField } from "../fields.ts";
import { defineSection } from "../section.ts";

/**
 * Limits that shed abuse at its source (docs/security.md, "Quotas and abuse"): a client over one is
 * answered `rate_limited` on the WebSocket, or 429 with Retry-After over HTTP, and other clients
 * are not slowed down. Counts are per server instance.
 */
export const quotasSection = defineSection({
  schema: z
    .strictObject({
      /** Open WebSockets from one client IP address. */
      connectionsPerIp: intField(1, 1_000_000, 200),
      /** Live sessions (including those waiting for a resume) of one user; the shared "anonymous" user is not counted. */
      sessionsPerUser: intField(1, 1_000_000, 20),
      /** Live sessions started with one API key (the sum over the users it acts for). */
      sessionsPerKey: intField(1, 1_000_000, 200),
      /** Turns a session may start per second, on average (a token bucket: `text`, `utterance_end`, `interrupt`). */
      turnsPerSecond: numberField(0.1, 1000, 2),
      /** Turns a session may start at once before the average applies (the bucket's size). */
      turnBurst: intField(1, 1000, 5),
      /** Client messages a session may have waiting to be handled; more are refused. */
      maxQueuedMessages: intField(8, 100_000, 256),
      /** Conversation writes a session may have waiting (user messages and replies); a turn over it is refused. */
      maxPendingWrites: intField(1, 10_000, 8),
      /** HTTP API requests (/v1/* and the seed's model routes) per minute per API key or token user, or per IP without one. */
      httpRequestsPerMinute: intField(1, 10_000_000, 1200),
    })
    .prefault({}),
  env: {
    MORGAN_QUOTA_CONNECTIONS_PER_IP: "connectionsPerIp",
    MORGAN_QUOTA_SESSIONS_PER_USER: "sessionsPerUser",
    MORGAN_QUOTA_SESSIONS_PER_KEY: "sessionsPerKey",
    MORGAN_QUOTA_TURNS_PER_SECOND: "turnsPerSecond",
    MORGAN_QUOTA_TURN_BURST: "turnBurst",
    MORGAN_QUOTA_MAX_QUEUED_MESSAGES: "maxQueuedMessages",
    MORGAN_QUOTA_MAX_PENDING_WRITES: "maxPendingWrites",
    MORGAN_QUOTA_HTTP_REQUESTS_PER_MINUTE: "httpRequestsPerMinute",
  },
});
