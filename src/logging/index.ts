export { createLogger, getRootLogger, redactPaths, requestLogger, sessionLogger, setRootLogger, type Logger } from "./logger.ts";
