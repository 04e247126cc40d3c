import { describe, expect, setSystemTime, test } from "bun:test";
import { MemoryCache } from "./memory-cache.ts";

describe("MemoryCache", () => {
  test("values expire after their TTL", async () => {
    const cache = new MemoryCache();
    const now = Date.now();
    setSystemTime(new Date(now));
    try {
      await cache.set("k", "v", 2);
      expect(await cache.get("k")).toBe("v");
      setSystemTime(new Date(now + 1999));
      expect(await cache.get("k")).toBe("v");
      setSystemTime(new Date(now + 2000));
      expect(await cache.get("k")).toBeNull();
    } finally {
      setSystemTime();
    }
  });

  test("lists append, trim the oldest, refresh TTL and keep bytes intact", async () => {
    const cache = new MemoryCache();
    for (let i = 0; i < 5; i++) await cache.listAppend("audio", [new Uint8Array([i, 255 - i])], { maxLength: 3, ttlS: 10 });
    const chunks = await cache.listRangeBytes("audio", 0, -1);
    expect(chunks.map((chunk) => [...chunk])).toEqual([[2, 253], [3, 252], [4, 251]]);
    expect(await cache.listAppend("events", ["a", "b"], { maxLength: 10, ttlS: 10 })).toBe(2);
    expect(await cache.listRange("events", -1, -1)).toEqual(["b"]);
  });

  test("stored bytes are copies, not views of the caller's buffer", async () => {
    const cache = new MemoryCache();
    const chunk = new Uint8Array([1, 2, 3]);
    await cache.listAppend("a", [chunk], { maxLength: 10, ttlS: 10 });
    chunk[0] = 99;
    expect([...(await cache.listRangeBytes("a", 0, -1))[0]!]).toEqual([1, 2, 3]);
  });

  test("delete counts live keys", async () => {
    const cache = new MemoryCache();
    await cache.set("m", "5", 10);
    expect(await cache.delete("m", "missing")).toBe(1);
    expect(await cache.ttlMs("m")).toBeNull();
  });

  test("holds at most maxKeys, evicting the least recently written", async () => {
    const cache = new MemoryCache(2);
    await cache.set("a", "1", 10);
    await cache.set("b", "2", 10);
    await cache.set("c", "3", 10);
    expect(await cache.get("a")).toBeNull();
    expect(await cache.get("c")).toBe("3");
    expect(cache.size).toBe(2);
  });
});

describe("MemoryCache compare-and-set operations (the same semantics as the Redis scripts)", () => {
  test("counterAdvance raises to the floor, adds, and counts a missing key as 0", async () => {
    const cache = new MemoryCache();
    expect(await cache.counterAdvance("c", 0, 10, 60)).toBe(10);
    expect(await cache.counterAdvance("c", 5, 10, 60)).toBe(20);
    expect(await cache.counterAdvance("c", 100, 10, 60)).toBe(110);
  });

  test("take returns the value once; deleteIfEquals and expireIfEquals act only on the expected value", async () => {
    const cache = new MemoryCache();
    await cache.set("k", "mine", 60);
    expect(await cache.expireIfEquals("k", "theirs", 60)).toBe(false);
    expect(await cache.expireIfEquals("k", "mine", 600)).toBe(true);
    expect(await cache.ttlMs("k")).toBeGreaterThan(500_000);
    expect(await cache.deleteIfEquals("k", "theirs")).toBe(false);
    expect(await cache.deleteIfEquals("k", "mine")).toBe(true);
    await cache.set("k", "v", 60);
    expect(await cache.take("k")).toBe("v");
    expect(await cache.take("k")).toBeNull();
  });
});
