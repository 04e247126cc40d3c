export { ConfigError, DEFAULT_CONFIG_FILE, loadConfig, type LoadConfigOptions } from "./load.ts";
export { redactConfig, redactUrl, REDACTED } from "./redact.ts";
export { configSchema, type Config, type SectionName } from "./schema.ts";
