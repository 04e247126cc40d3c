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
      err: (value: unknown) => pino.stdSerializers.err(withoutQueryParameters(value) as Error),
      url: (value: unknown) => (typeof value === "string" ? redactUrl(value) : value),
    },
    formatters: { level: (label) => ({ level: label }) },
  };
}

/**
 * Drizzle's failed-query error carries the statement's parameters (in `params` and in its message
 * and stack), and those are users' words: the copy that is logged keeps the statement and the
 * database's reason (the cause), and says the parameters were left out.
 */
function withoutQueryParameters(value: unknown, depth = 0): unknown {
  if (!(value instanceof Error) || depth > 5) return value;
  const cause = withoutQueryParameters((value as { cause?: unknown }).cause, depth + 1);
  if (!("params" in value) || !("query" in value)) {
    if (cause === (value as { cause?: unknown }).cause) return value;
    const copy = Object.assign(Object.create(Object.getPrototypeOf(value)), value, { cause }) as Error;
    copy.message = value.message;
    copy.stack = value.stack;
    return copy;
  }
  const message = `Failed query: ${String(value.query)}\nparams: [left out: they hold users' words]`;
  const scrubbed = new Error(message, { cause });
  scrubbed.name = value.name;
  // The database's error code (SQLSTATE) says what went wrong; the serializer would not show the cause's.
  const code = (cause as { code?: unknown } | undefined)?.code;
  if (code !== undefined) Object.assign(scrubbed, { code });
  scrubbed.stack = `${value.name}: ${message}\n${(value.stack ?? "").split("\n").filter((line) => /^\s+at /.test(line)).join("\n")}`;
  return scrubbed;
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
