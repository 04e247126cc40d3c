import { z } from "zod";
import { hostPortListField, intField, optionalText, optionalUrl, textField } from "../fields.ts";
import { defineSection } from "../section.ts";

/**
 * Redis is used when `url`, `host` or `sentinels` is set; otherwise an in-process cache with the same
 * interface serves. With `sentinels`, the primary is whichever the Sentinels name for `sentinelName`,
 * and a failover moves Morgan to the new primary (docs/storage.md).
 */
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
      /** Redis Sentinel addresses; when set they win over `url` and `host`/`port`. */
      sentinels: hostPortListField(),
      /** The primary's name in the Sentinels' configuration (`sentinel monitor NAME ...`). */
      sentinelName: textField("mymaster"),
      /** The Sentinels' own password (`requirepass` in sentinel.conf), if they have one; `password` stays the data nodes'. */
      sentinelPassword: optionalText(),
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
    REDIS_SENTINELS: "sentinels",
    REDIS_SENTINEL_NAME: "sentinelName",
    REDIS_SENTINEL_PASSWORD: "sentinelPassword",
    MORGAN_REDIS_CONNECT_TIMEOUT_MS: "connectTimeoutMs",
    MORGAN_REDIS_MAX_RECONNECT_DELAY_MS: "maxReconnectDelayMs",
  },
  legacyYamlKeys: {
    redis_host: "host",
    redis_port: "port",
    redis_db: "db",
    redis_password: "password",
  },
  secrets: ["password", "url", "sentinelPassword"],
});
