/**
 * The cache Morgan uses: Redis when configured and reachable, otherwise the in-process cache with
 * the same interface. ioredis reconnects by itself; when Redis answers again, keys written or
 * deleted meanwhile are copied to it (so it does not serve values older than the outage) and
 * Redis takes over again. No restart needed.
 */
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { Config } from "../config/schema.ts";
import type { Observers } from "../telemetry/events.ts";
import type { CacheBackend, CacheValue, ListAppendOptions } from "./cache-backend.ts";
import { MemoryCache } from "./memory-cache.ts";
import { connectRedis, RedisCache, usesRedisServer } from "./redis-cache.ts";

export type { CacheBackend, CacheValue, ListAppendOptions } from "./cache-backend.ts";
export type CacheMode = "redis" | "memory";

export class FailoverCache implements CacheBackend {
  readonly #memory: MemoryCache;
  readonly #redis: RedisCache | null;
  /** Keys changed in memory while Redis was away, to copy over when it returns. */
  readonly #changedWhileAway = new Set<string>();
  #redisReady = false;
  #closed = false;
  #recheckTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    redisClient: Redis | null,
    private readonly logger: Logger,
    maxMemoryKeys: number,
    private readonly recheckIntervalMs: number,
    private readonly observers: Observers,
  ) {
    this.#memory = new MemoryCache(maxMemoryKeys);
    this.#redis = redisClient ? new RedisCache(redisClient) : null;
    if (redisClient) this.#watch(redisClient);
    this.observers.observe({ type: "storage_tier", component: "cache", tier: "memory" });
  }

  /** Which tier serves right now. */
  get mode(): CacheMode {
    return this.#redisReady ? "redis" : "memory";
  }

  /** Whether a Redis server is configured at all. */
  get redisConfigured(): boolean {
    return this.#redis !== null;
  }

  get redisClient(): Redis | null {
    return this.#redis?.client ?? null;
  }

  /** Starts connecting; resolves once Redis answered or the first attempt failed (then memory serves). */
  async connect(): Promise<void> {
    const client = this.#redis?.client;
    if (!client) return;
    try {
      await client.connect();
    } catch (error) {
      this.logger.warn({ err: error }, "redis unreachable at start; serving from the in-process cache, reconnecting");
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#recheckTimer) clearTimeout(this.#recheckTimer);
    const client = this.#redis?.client;
    if (client && client.status !== "end") {
      await client.quit().catch(() => client.disconnect());
    }
  }

  get(key: string): Promise<string | null> {
    return this.#read((tier) => tier.get(key));
  }

  set(key: string, value: string, ttlS: number): Promise<void> {
    return this.#write([key], (tier) => tier.set(key, value, ttlS));
  }

  delete(...keys: string[]): Promise<number> {
    return this.#write(keys, (tier) => tier.delete(...keys));
  }

  listAppend(key: string, values: CacheValue[], options: ListAppendOptions): Promise<number> {
    return this.#write([key], (tier) => tier.listAppend(key, values, options));
  }

  listRange(key: string, start: number, stop: number): Promise<string[]> {
    return this.#read((tier) => tier.listRange(key, start, stop));
  }

  listRangeBytes(key: string, start: number, stop: number): Promise<Uint8Array[]> {
    return this.#read((tier) => tier.listRangeBytes(key, start, stop));
  }

  ttlMs(key: string): Promise<number | null> {
    return this.#read((tier) => tier.ttlMs(key));
  }

  counterAdvance(key: string, floor: number, by: number, ttlS: number): Promise<number> {
    return this.#write([key], (tier) => tier.counterAdvance(key, floor, by, ttlS));
  }

  take(key: string): Promise<string | null> {
    return this.#write([key], (tier) => tier.take(key));
  }

  deleteIfEquals(key: string, value: string): Promise<boolean> {
    return this.#write([key], (tier) => tier.deleteIfEquals(key, value));
  }

  expireIfEquals(key: string, value: string, ttlS: number): Promise<boolean> {
    return this.#write([key], (tier) => tier.expireIfEquals(key, value, ttlS));
  }

  fieldReplaceIfEquals(key: string, field: string, expected: string | null, value: string, ttlS: number): Promise<boolean> {
    return this.#write([key], (tier) => tier.fieldReplaceIfEquals(key, field, expected, value, ttlS));
  }

  fieldDeleteIfEquals(key: string, field: string, value: string): Promise<boolean> {
    return this.#write([key], (tier) => tier.fieldDeleteIfEquals(key, field, value));
  }

  /** Round-trips to Redis; rejects when Redis is configured but not answering. */
  async ping(): Promise<void> {
    if (!this.#redis) return;
    await this.#redis.ping();
  }

  async #read<T>(operation: (tier: CacheBackend) => Promise<T>): Promise<T> {
    if (this.#redis && this.#redisReady) {
      try {
        return await operation(this.#redis);
      } catch (error) {
        this.#failed(error);
      }
    }
    return operation(this.#memory);
  }

  async #write<T>(keys: string[], operation: (tier: CacheBackend) => Promise<T>): Promise<T> {
    if (this.#redis && this.#redisReady) {
      try {
        return await operation(this.#redis);
      } catch (error) {
        this.#failed(error);
      }
    }
    if (this.#redis) for (const key of keys) this.#changedWhileAway.add(key);
    return operation(this.#memory);
  }

  /** A Redis command failed: a reply error is a bug to surface; anything else means Redis is away. */
  #failed(error: unknown): void {
    const rejected = isReplyError(error);
    this.observers.observe({ type: "storage_error", backend: "redis", kind: rejected ? "rejected" : "unavailable" });
    if (rejected) throw error;
    this.#markAway(error);
  }

  #markAway(error: unknown): void {
    if (!this.#redisReady) return;
    this.#redisReady = false;
    this.observers.observe({ type: "storage_tier", component: "cache", tier: "memory" });
    if (this.#closed) return;
    this.logger.warn({ err: error }, "redis unavailable; serving from the in-process cache");
    this.#scheduleRecheck();
  }

  /**
   * A command timeout leaves ioredis connected, so no "ready" event will bring Redis back: while the
   * connection looks fine but we are on memory, ping it now and then and return when it answers.
   */
  #scheduleRecheck(): void {
    if (this.#recheckTimer || this.#closed) return;
    this.#recheckTimer = setTimeout(async () => {
      this.#recheckTimer = null;
      const client = this.#redis?.client;
      if (this.#redisReady || this.#closed || !client) return;
      if (client.status === "ready") {
        try {
          await client.ping();
          await this.#returnToRedis();
        } catch {
          // still unhealthy
        }
      }
      if (!this.#redisReady) this.#scheduleRecheck();
    }, this.recheckIntervalMs);
    this.#recheckTimer.unref?.();
  }

  #watch(client: Redis): void {
    client.on("ready", () => void this.#returnToRedis());
    client.on("close", () => {
      // A lost connection is a failure too, even when no command was in flight to notice it.
      if (this.#redisReady) this.observers.observe({ type: "storage_error", backend: "redis", kind: "unavailable" });
      this.#markAway(new Error("redis connection closed"));
    });
    // ioredis emits "error" on every failed reconnect; the state change is logged once by #markAway.
    client.on("error", () => {});
  }

  /** Copies what changed while Redis was away, then lets Redis serve again. */
  async #returnToRedis(): Promise<void> {
    const redis = this.#redis;
    if (!redis || this.#closed) return;
    try {
      while (this.#changedWhileAway.size > 0) {
        const batch = [...this.#changedWhileAway];
        this.#changedWhileAway.clear();
        for (const key of batch) await this.#copyToRedis(redis, key);
      }
      this.#memory.clear();
      // The "ready" event and the recheck timer may both bring Redis back: report the change once.
      if (this.#redisReady) return;
      this.#redisReady = true;
      this.observers.observe({ type: "storage_tier", component: "cache", tier: "redis" });
      this.logger.info("redis available; serving from redis");
    } catch (error) {
      this.logger.warn({ err: error }, "redis came back but copying changed keys failed; staying on memory");
    }
  }

  async #copyToRedis(redis: RedisCache, key: string): Promise<void> {
    const entry = this.#memory.peek(key);
    await redis.client.del(key);
    if (!entry) return;
    const px = Number.isFinite(entry.ttlMs) ? Math.ceil(entry.ttlMs) : undefined;
    if (typeof entry.value === "string") {
      if (px) await redis.client.set(key, entry.value, "PX", px);
      else await redis.client.set(key, entry.value);
      return;
    }
    if (entry.value.length === 0) return;
    const items = entry.value.map((item) => (typeof item === "string" ? item : Buffer.from(item)));
    await redis.client.rpush(key, ...items);
    if (px) await redis.client.pexpire(key, px);
  }

  /** Called by #watch's "ready" event; exposed for tests that need to wait for the switch. */
  async waitForMode(mode: CacheMode, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.mode !== mode) {
      if (Date.now() > deadline) throw new Error(`cache did not switch to ${mode} within ${timeoutMs} ms`);
      await Bun.sleep(20);
    }
  }
}

/** Builds the cache for `config`: Redis-backed with in-process fallback, or in-process only. */
export function createCache(config: Config, logger: Logger, observers: Observers): FailoverCache {
  const client = usesRedisServer(config.redis) ? connectRedis(config.redis) : null;
  const log = logger.child({ component: "cache" });
  return new FailoverCache(client, log, config.cache.fallbackMaxKeys, config.redis.maxReconnectDelayMs, observers);
}

/** An error Redis itself replied with (e.g. WRONGTYPE): a bug to surface, not an outage. */
function isReplyError(error: unknown): boolean {
  return error instanceof Error && error.name === "ReplyError";
}
