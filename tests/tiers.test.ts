/** The three tiers (memory → Redis → PostgreSQL) against the real servers. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { redisKeys } from "../src/storage/keys.ts";
import { openTestStorage, type TestStorage } from "./helpers/storage.ts";

describe("conversation tiers", () => {
  let context: TestStorage;
  beforeAll(async () => {
    context = await openTestStorage({ backend: "postgres", redis: true });
  });
  afterAll(async () => {
    await context?.close();
  });

  const prefixed = (key: string) => `${context.redis!.prefix}${key}`;

  test("a read after a Redis flush and a memory clear still finds the data in PostgreSQL, and refills Redis", async () => {
    const manager = context.storage.conversations;
    const conversation = await manager.createConversation({ userId: "tier-user" });
    await manager.appendMessage(conversation.id, { role: "user", content: "remember me" });
    await context.redis!.clear();
    manager.clearMemoryTier();
    expect(await context.redis!.client.exists(prefixed(redisKeys.conversationMessages(conversation.id)))).toBe(0);

    const context1 = await manager.getContext(conversation.id);
    expect(context1.map((m) => m.content)).toEqual(["remember me"]);
    const cached = await context.redis!.client.get(prefixed(redisKeys.conversationMessages(conversation.id)));
    expect(JSON.parse(cached!).recent.map((m: { content: string }) => m.content)).toEqual(["remember me"]);
    const ttl = await context.redis!.client.ttl(prefixed(redisKeys.conversationMessages(conversation.id)));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(context.config.cache.ttlS.conversationMessages);
  });

  test("Redis answers when this process's memory tier is empty (no PostgreSQL read needed)", async () => {
    const manager = context.storage.conversations;
    const conversation = await manager.createConversation({ userId: "tier-user-2" });
    await manager.appendMessage(conversation.id, { role: "user", content: "one" });
    manager.clearMemoryTier();
    await manager.getContext(conversation.id); // read from PostgreSQL, fills Redis and memory
    manager.clearMemoryTier();
    // Tamper with the Redis copy: if the next read returns it, Redis (not PostgreSQL) answered.
    const key = prefixed(redisKeys.conversationMessages(conversation.id));
    const snapshot = JSON.parse((await context.redis!.client.get(key))!);
    snapshot.recent[0].content = "from-redis";
    await context.redis!.client.set(key, JSON.stringify(snapshot), "EX", 60);
    expect((await manager.getContext(conversation.id)).map((m) => m.content)).toEqual(["from-redis"]);
  });

  test("a write invalidates the Redis copy, so another process's next read sees it", async () => {
    const manager = context.storage.conversations;
    const conversation = await manager.createConversation({ userId: "tier-user-3" });
    await manager.appendMessage(conversation.id, { role: "user", content: "first" });
    await manager.getContext(conversation.id);
    const key = prefixed(redisKeys.conversationMessages(conversation.id));
    manager.clearMemoryTier();
    await manager.getContext(conversation.id); // refill Redis
    expect(await context.redis!.client.exists(key)).toBe(1);
    await manager.appendMessage(conversation.id, { role: "assistant", content: "second" });
    expect(await context.redis!.client.exists(key)).toBe(0);
    // This process's memory tier was updated in place.
    expect((await manager.getContext(conversation.id)).map((m) => m.content)).toEqual(["first", "second"]);
    // A fresh process (empty memory) reads PostgreSQL and sees both.
    manager.clearMemoryTier();
    expect((await manager.getContext(conversation.id)).map((m) => m.content)).toEqual(["first", "second"]);
  });

  test("the user's context pointer names the most recently used conversation", async () => {
    const manager = context.storage.conversations;
    const older = await manager.createConversation({ userId: "tier-user-4" });
    await manager.createConversation({ userId: "tier-user-4" });
    await manager.appendMessage(older.id, { role: "user", content: "back to this one" });
    const pointer = JSON.parse((await context.redis!.client.get(prefixed(redisKeys.conversationContext("tier-user-4"))))!);
    expect(pointer.conversationId).toBe(older.id);
    expect((await manager.getLatestConversation("tier-user-4"))?.id).toBe(older.id);
  });

  test("the pointer is written when it changes, not for every message", async () => {
    const manager = context.storage.conversations;
    const key = prefixed(redisKeys.conversationContext("tier-user-5"));
    const first = await manager.createConversation({ userId: "tier-user-5" });
    // Mark the key: a rewrite would replace the mark.
    await context.redis!.client.set(key, JSON.stringify({ conversationId: first.id, mark: true }));
    await manager.appendMessage(first.id, { role: "user", content: "one" });
    await manager.appendMessage(first.id, { role: "assistant", content: "two" });
    expect(JSON.parse((await context.redis!.client.get(key))!)).toEqual({ conversationId: first.id, mark: true });
    const second = await manager.createConversation({ userId: "tier-user-5" });
    await manager.appendMessage(first.id, { role: "user", content: "back" });
    expect(JSON.parse((await context.redis!.client.get(key))!)).toEqual({ conversationId: first.id });
    expect(second.id).not.toBe(first.id);
  });

  test("session state, audio buffer and replay list live under the documented keys with TTLs", async () => {
    const sessions = context.storage.sessionCache;
    await sessions.setState("s-1", { phase: "listening" });
    expect(await sessions.getState("s-1")).toEqual({ phase: "listening" });
    const client = context.redis!.client;
    const stateTtl = await client.ttl(prefixed(redisKeys.session("s-1")));
    expect(stateTtl).toBeGreaterThan(context.config.cache.ttlS.session - 5);
    for (let i = 0; i < context.config.cache.audioBufferMaxChunks + 5; i++) await sessions.appendAudio("s-1", new Uint8Array([i % 256, 0, 255]));
    const audio = await sessions.readAudio("s-1");
    expect(audio).toHaveLength(context.config.cache.audioBufferMaxChunks);
    expect([...audio.at(-1)!]).toEqual([(context.config.cache.audioBufferMaxChunks + 4) % 256, 0, 255]);
    expect(await client.ttl(prefixed(redisKeys.audioBuffer("s-1")))).toBeGreaterThan(0);
    for (let i = 0; i < context.config.cache.replayMaxEntries + 3; i++) await sessions.appendReplay("s-1", { seq: i });
    const replay = await sessions.readReplay<{ seq: number }>("s-1");
    expect(replay[0]!.seq).toBe(3);
    expect(replay).toHaveLength(context.config.cache.replayMaxEntries);
    await sessions.clearSession("s-1");
    expect(await sessions.getState("s-1")).toBeNull();
    expect(await sessions.readAudio("s-1")).toEqual([]);
  });

  test("the compare-and-set operations behave in Redis as in memory, under the key prefix", async () => {
    const cache = context.storage.cache;
    const client = context.redis!.client;
    expect(await cache.counterAdvance("cas:counter", 0, 10, 60)).toBe(10);
    expect(await cache.counterAdvance("cas:counter", 100, 10, 60)).toBe(110);
    expect(await client.get(prefixed("cas:counter"))).toBe("110");
    expect(await client.ttl(prefixed("cas:counter"))).toBeGreaterThan(0);
    await cache.set("cas:lease", "me", 5);
    expect(await cache.expireIfEquals("cas:lease", "other", 600)).toBe(false);
    expect(await cache.expireIfEquals("cas:lease", "me", 600)).toBe(true);
    expect(await client.ttl(prefixed("cas:lease"))).toBeGreaterThan(500);
    expect(await cache.deleteIfEquals("cas:lease", "other")).toBe(false);
    expect(await cache.deleteIfEquals("cas:lease", "me")).toBe(true);
    expect(await client.exists(prefixed("cas:lease"))).toBe(0);
    await cache.set("cas:once", "v", 60);
    expect(await Promise.all([cache.take("cas:once"), cache.take("cas:once")])).toEqual(["v", null]);
    expect(await cache.fieldReplaceIfEquals("cas:fields", "a", null, "1/one", 60)).toBe(true);
    expect(await cache.fieldReplaceIfEquals("cas:fields", "a", null, "again", 60)).toBe(false);
    expect(await cache.fieldReplaceIfEquals("cas:fields", "a", "1/one", "2", 60)).toBe(true);
    expect(await cache.fieldReplaceIfEquals("cas:fields", "b", null, "3", 60)).toBe(true);
    expect(JSON.parse((await client.get(prefixed("cas:fields")))!)).toEqual({ a: "2", b: "3" });
    expect(await cache.fieldDeleteIfEquals("cas:fields", "a", "1/one")).toBe(false);
    expect(await cache.fieldDeleteIfEquals("cas:fields", "a", "2")).toBe(true);
    expect(await client.ttl(prefixed("cas:fields"))).toBeGreaterThan(0);
    expect(await cache.fieldDeleteIfEquals("cas:fields", "b", "3")).toBe(true);
    expect(await client.exists(prefixed("cas:fields"))).toBe(0);
  });
});
