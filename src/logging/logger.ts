/**
 * pino loggers: JSON lines by default, human-readable with log.pretty (development).
 * Secrets are censored by path, and URL credentials by a serializer, before any line is written.
 */
import pino, { type DestinationStream, type Logger, type LoggerOptions } from "pino";
import { redactUrl } from "../config/redact.ts";
import type { Config } from "../config/schema.ts";

export type { Logger } from "pino";

/** Field names whose values are never written, at any depth up to three levels. */
const SECRET_FIELDS = ["password", "pass", "secret", "token", "authorization", "apiKey", "api_key", "cookie"];

export const redactPaths: string[] = SECRET_FIELDS.flatMap((field) => [
  field,
  `*.${field}`,
  `*.*.${field}`,
  `req.headers.${field}`,
]);

function loggerOptions(config: Config["log"]): LoggerOptions {
  return {
    level: config.level,
    base: { service: "morgan" },
    redact: { paths: redactPaths, censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
    serializers: {
      err: pino.stdSerializers.err,
      url: (value: unknown) => (typeof value === "string" ? redactUrl(value) : value),
    },
    formatters: { level: (label) => ({ level: label }) },
  };
}

/** The pretty printer is a dev dependency: loaded only when asked for, so production images need not ship it. */
function prettyStream(): DestinationStream {
  const pretty = require("pino-pretty") as (options: Record<string, unknown>) => DestinationStream;
  return pretty({ colorize: true, sync: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname,service" });
}

export function createLogger(config: Config["log"], destination?: DestinationStream): Logger {
  // Synchronous writes: a line logged just before exit (or a crash) is never lost; Morgan logs
  // per request/session event, not per audio frame, so the cost is small.
  const stream = destination ?? (config.pretty ? prettyStream() : pino.destination({ fd: 1, sync: true }));
  return pino(loggerOptions(config), stream);
}

/**
 * Log fields are snake_case throughout (session_id, request_id, turn_id, pending_writes); these
 * children stamp the two ids that tie a line to a client.
 */
export function sessionLogger(sessionId: string, parent: Logger): Logger {
  return parent.child({ session_id: sessionId });
}

/** A child logger whose every line carries `request_id` (an HTTP request or a WebSocket connection). */
export function requestLogger(requestId: string, parent: Logger): Logger {
  return parent.child({ request_id: requestId });
}
