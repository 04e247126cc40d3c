import { expect, setSystemTime, test } from "bun:test";
import { type ConversationSnapshot, MemoryTier } from "./memory-tier.ts";

const snapshot = (id: string): ConversationSnapshot => ({
  conversation: { id, conversationId: id, userId: "u", createdAt: "", updatedAt: "", lastMessageAt: null, messageCount: 0, isActive: true },
  recent: [],
});

test("reads do not extend an entry's life, so staleness stays bounded by the TTL", () => {
  const tier = new MemoryTier(10, 1000);
  const start = Date.now();
  try {
    setSystemTime(new Date(start));
    tier.set(snapshot("a"));
    setSystemTime(new Date(start + 900));
    expect(tier.get("a")).toBeDefined();
    setSystemTime(new Date(start + 1001));
    expect(tier.get("a")).toBeUndefined();
  } finally {
    setSystemTime();
  }
});

test("pinned entries (writes not yet in PostgreSQL) neither expire nor get evicted", () => {
  const tier = new MemoryTier(1, 1000);
  const start = Date.now();
  try {
    setSystemTime(new Date(start));
    tier.set(snapshot("pinned"), true);
    tier.set(snapshot("b"));
    setSystemTime(new Date(start + 5000));
    expect(tier.get("pinned")).toBeDefined();
    expect(tier.get("b")).toBeUndefined();
  } finally {
    setSystemTime();
  }
});
