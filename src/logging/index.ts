export { createLogger, redactPaths, requestLogger, sessionLogger, type Logger } from "./logger.ts";
