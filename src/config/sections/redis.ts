import { z } from "zod";
import { intField, optionalText, optionalUrl, textField } from "../fields.ts";
import { defineSection } from "../section.ts";

/** Redis is used when `url` or `host` is set; otherwise an in-process cache with the same interface serves. */
export const redisSection = defineSection({
  schema: z
    .strictObject({
      url: optionalUrl(["redis", "rediss"]),
      host: optionalText(),
      port: intField(1, 65535, 6379),
      db: intField(0, 15, 0),
      password: optionalText(),
      /** Prepended to every key, so several deployments (or test runs) can share one Redis. */
      keyPrefix: z.string().max(64, { error: "expected at most 64 characters" }).default(""),
      connectTimeoutMs: intField(100, 60_000, 2_000),
      /** Upper bound of the reconnect back-off while Redis is away. */
      maxReconnectDelayMs: intField(50, 60_000, 2_000),
    })
    .prefault({}),
  env: {
    REDIS_URL: "url",
    REDIS_HOST: "host",
    REDIS_PORT: "port",
    REDIS_DB: "db",
    REDIS_PASSWORD: "password",
    MORGAN_REDIS_KEY_PREFIX: "keyPrefix",
    MORGAN_REDIS_CONNECT_TIMEOUT_MS: "connectTimeoutMs",
    MORGAN_REDIS_MAX_RECONNECT_DELAY_MS: "maxReconnectDelayMs",
  },
  legacyYamlKeys: {
    redis_host: "host",
    redis_port: "port",
    redis_db: "db",
    redis_password: "password",
  },
  secrets: ["password", "url"],
});
