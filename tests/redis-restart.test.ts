/**
 * Redis stopped and started again mid-run (a private redis-server, so the shared one is untouched):
 * Morgan keeps serving from the in-process cache, reports it, and returns to Redis by itself,
 * carrying over what changed meanwhile.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Redis } from "ioredis";
import { openStorage, type Storage } from "../src/storage/index.ts";
import { type Observation, Observers } from "../src/telemetry/events.ts";
import { redisKeys } from "../src/storage/keys.ts";
import { capturingLogger, testConfig } from "./helpers/config.ts";
import { PrivateRedis } from "./helpers/private-redis.ts";
import { waitFor } from "./helpers/services.ts";

describe("Redis goes away and comes back", () => {
  const redis = new PrivateRedis();
  let storage: Storage;
  const { logger, lines } = capturingLogger("info");
  const seen: Observation[] = [];
  const observers = new Observers();
  observers.add({ types: ["storage_tier", "storage_error"], observe: (o) => seen.push(o) });

  beforeAll(async () => {
    await redis.start();
    const config = testConfig({
      MORGAN_PGLITE_DIR: "memory://",
      REDIS_URL: redis.url,
      MORGAN_REDIS_MAX_RECONNECT_DELAY_MS: "100",
      MORGAN_REDIS_CONNECT_TIMEOUT_MS: "300",
    });
    storage = await openStorage(config, logger, observers);
  });
  afterAll(async () => {
    await storage?.close();
    await redis.stop();
  });

  test("serves throughout, reports the mode, reconnects without a restart", async () => {
    expect(storage.cache.mode).toBe("redis");
    const sessions = storage.sessionCache;
    await sessions.setState("kept", { v: "before" });
    await sessions.setState("changed", { v: "before" });
    await sessions.setState("removed", { v: "before" });

    await redis.stop();
    // The first command after the loss notices it; every call still answers.
    await sessions.setState("changed", { v: "during" });
    await waitFor(() => storage.cache.mode === "memory", 5_000, "switch to the in-process cache");
    await sessions.setState("changed", { v: "during" });
    await sessions.clearSession("removed");
    await sessions.setState("new", { v: "during" });
    expect(await sessions.getState("changed")).toEqual({ v: "during" });
    const duringOutage = await storage.health();
    expect(duringOutage.redis).toMatchObject({ status: "down", mode: "memory" });
    const conversation = await storage.conversations.createConversation({ userId: "redis-outage" });
    await storage.conversations.appendMessage(conversation.id, { role: "user", content: "still working" });
    expect((await storage.conversations.getContext(conversation.id)).map((m) => m.content)).toEqual(["still working"]);

    await redis.start();
    await storage.cache.waitForMode("redis", 10_000);
    const healthAfter = await storage.health();
    expect(healthAfter.redis).toMatchObject({ status: "up", mode: "redis" });

    // What changed during the outage reached Redis; nothing older than the outage is served.
    const direct = new Redis(redis.url);
    try {
      expect(JSON.parse((await direct.get(redisKeys.session("changed")))!)).toEqual({ v: "during" });
      expect(JSON.parse((await direct.get(redisKeys.session("new")))!)).toEqual({ v: "during" });
      expect(await direct.exists(redisKeys.session("removed"))).toBe(0);
      expect(await direct.ttl(redisKeys.session("new"))).toBeGreaterThan(0);
    } finally {
      direct.disconnect();
    }
    expect(await sessions.getState("changed")).toEqual({ v: "during" });
    expect(lines.some((line) => line.msg === "redis unavailable; serving from the in-process cache")).toBe(true);
    expect(lines.some((line) => line.msg === "redis available; serving from redis")).toBe(true);
    // The observer seam heard the same story: the tiers in turn, and the failed command.
    const tiers = seen.flatMap((o) => (o.type === "storage_tier" && o.component === "cache" ? [o.tier] : []));
    expect(tiers).toEqual(["memory", "redis", "memory", "redis"]);
    expect(seen.some((o) => o.type === "storage_error" && o.backend === "redis" && o.kind === "unavailable")).toBe(true);
  }, 30_000);
});

describe("Redis unreachable at start", () => {
  test("serves from memory, then switches to Redis when it appears, without a restart", async () => {
    const late = new PrivateRedis();
    const config = testConfig({
      MORGAN_PGLITE_DIR: "memory://",
      REDIS_URL: late.url,
      MORGAN_REDIS_MAX_RECONNECT_DELAY_MS: "100",
      MORGAN_REDIS_CONNECT_TIMEOUT_MS: "300",
    });
    const storage = await openStorage(config, capturingLogger().logger);
    try {
      expect(storage.cache.mode).toBe("memory");
      await storage.sessionCache.setState("early", { v: 1 });
      expect((await storage.health()).redis.status).toBe("down");
      await late.start();
      await storage.cache.waitForMode("redis", 10_000);
      expect(await storage.sessionCache.getState("early")).toEqual({ v: 1 });
      const direct = new Redis(late.url);
      try {
        expect(await direct.exists(redisKeys.session("early"))).toBe(1);
      } finally {
        direct.disconnect();
      }
    } finally {
      await storage.close();
      await late.stop();
    }
  }, 30_000);
});

describe("Redis hangs without dropping the connection", () => {
  test("a command timeout falls back to memory, and Redis serves again once it answers", async () => {
    const slow = new PrivateRedis(["--enable-debug-command", "yes"]);
    await slow.start();
    const config = testConfig({
      MORGAN_PGLITE_DIR: "memory://",
      REDIS_URL: slow.url,
      MORGAN_REDIS_CONNECT_TIMEOUT_MS: "200",
      MORGAN_REDIS_MAX_RECONNECT_DELAY_MS: "100",
    });
    const storage = await openStorage(config, capturingLogger().logger);
    const blocker = new Redis(slow.url);
    try {
      expect(storage.cache.mode).toBe("redis");
      // Connected first: on a busy machine the connect alone could outlast the 50 ms below.
      await blocker.ping();
      void blocker.call("DEBUG", "SLEEP", "1").catch(() => {});
      await Bun.sleep(50);
      await storage.sessionCache.setState("during-hang", { v: 1 }); // times out at 200 ms, then memory serves
      expect(storage.cache.mode).toBe("memory");
      expect(await storage.sessionCache.getState("during-hang")).toEqual({ v: 1 });
      await storage.cache.waitForMode("redis", 10_000);
      expect(await blocker.exists(redisKeys.session("during-hang"))).toBe(1);
    } finally {
      blocker.disconnect();
      await storage.close();
      await slow.stop();
    }
  }, 30_000);

  test("an error Redis replies with (a bug) is raised, not mistaken for an outage", async () => {
    const healthy = new PrivateRedis();
    await healthy.start();
    const storage = await openStorage(testConfig({ MORGAN_PGLITE_DIR: "memory://", REDIS_URL: healthy.url }), capturingLogger().logger);
    try {
      await storage.sessionCache.appendReplay("typed", { seq: 1 });
      // session:typed:replay is a list; reading it as a string is WRONGTYPE.
      await expect(storage.cache.get(redisKeys.sessionReplay("typed"))).rejects.toThrow(/WRONGTYPE/);
      expect(storage.cache.mode).toBe("redis");
    } finally {
      await storage.close();
      await healthy.stop();
    }
  }, 30_000);
});
