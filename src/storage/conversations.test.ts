import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomUUID } from "node:crypto";
import { type Backend, openTestStorage, type TestStorage } from "../../tests/helpers/storage.ts";
import { fitBudget } from "./conversations.ts";
import { InvalidCursorError } from "./errors.ts";
import { ConflictError, NotFoundError } from "./errors.ts";
import type { Message } from "./records.ts";

const message = (sequenceNumber: number, content: string): Message => ({
  id: randomUUID(),
  conversationId: "c",
  role: "user",
  content,
  sequenceNumber,
  tokensUsed: null,
  processingTimeMs: null,
  interrupted: false,
  metadata: {},
  createdAt: new Date().toISOString(),
});

describe("fitBudget", () => {
  test("keeps the newest messages within the character budget, oldest first", () => {
    const all = [message(1, "aaaa"), message(2, "bbbb"), message(3, "cc")];
    expect(fitBudget(all, 6).map((m) => m.sequenceNumber)).toEqual([2, 3]);
    expect(fitBudget(all, 10).map((m) => m.sequenceNumber)).toEqual([1, 2, 3]);
  });

  test("an over-long newest message is cut to its tail rather than dropped", () => {
    const result = fitBudget([message(1, "x"), message(2, "0123456789")], 4);
    expect(result.map((m) => m.content)).toEqual(["6789"]);
  });
});

for (const backend of ["pglite", "postgres"] satisfies Backend[]) {
  describe(`ConversationManager on ${backend}`, () => {
    let context: TestStorage;
    beforeAll(async () => {
      context = await openTestStorage({ backend, redis: backend === "postgres" });
    });
    afterAll(async () => {
      await context?.close();
    });
    const manager = () => context.storage.conversations;

    test("appends get consecutive sequence numbers and the count follows", async () => {
      const conversation = await manager().createConversation({ userId: "u-seq" });
      const appended = await Promise.all(
        Array.from({ length: 12 }, (_, i) => manager().appendMessage(conversation.id, { role: i % 2 ? "assistant" : "user", content: `m${i}` })),
      );
      expect(appended.map((m) => m.sequenceNumber).sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
      expect((await manager().getConversation(conversation.id))?.messageCount).toBe(12);
    });

    test("an append retried with the same id is stored once", async () => {
      const conversation = await manager().createConversation({ userId: "u-idem" });
      const id = randomUUID();
      const first = await manager().appendMessage(conversation.id, { id, role: "user", content: "hi" });
      const retry = await manager().appendMessage(conversation.id, { id, role: "user", content: "hi" });
      expect(retry.sequenceNumber).toBe(first.sequenceNumber);
      const page = await manager().listMessages(conversation.id);
      expect(page.items).toHaveLength(1);
    });

    test("getContext returns the last N turns within the size budget", async () => {
      const conversation = await manager().createConversation({ userId: "u-ctx" });
      for (let i = 1; i <= 30; i++) await manager().appendMessage(conversation.id, { role: i % 2 ? "user" : "assistant", content: `turn-${String(i).padStart(2, "0")}` });
      const lastFive = await manager().getContext(conversation.id, { maxTurns: 5 });
      expect(lastFive.map((m) => m.content)).toEqual(["turn-26", "turn-27", "turn-28", "turn-29", "turn-30"]);
      const budgeted = await manager().getContext(conversation.id, { maxTurns: 20, maxChars: 21 });
      expect(budgeted.map((m) => m.sequenceNumber)).toEqual([28, 29, 30]);
      // More turns than the cache window (50 by default, 30 messages exist): answered from the database.
      manager().clearMemoryTier();
      const all = await manager().getContext(conversation.id, { maxTurns: 100, maxChars: 100_000 });
      expect(all.map((m) => m.sequenceNumber)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    });

    test("interrupted flag, metadata and counters round-trip", async () => {
      const conversation = await manager().createConversation({ userId: "u-meta" });
      await manager().appendMessage(conversation.id, {
        role: "assistant", content: "I was say", interrupted: true, metadata: { voice: "a" }, tokensUsed: 7, processingTimeMs: 120,
      });
      manager().clearMemoryTier();
      const [stored] = (await manager().listMessages(conversation.id)).items;
      expect(stored).toMatchObject({ interrupted: true, metadata: { voice: "a" }, tokensUsed: 7, processingTimeMs: 120, role: "assistant" });
    });

    test("messages page by sequence number", async () => {
      const conversation = await manager().createConversation({ userId: "u-page" });
      for (let i = 1; i <= 7; i++) await manager().appendMessage(conversation.id, { role: "user", content: String(i) });
      const first = await manager().listMessages(conversation.id, { limit: 3 });
      expect(first.items.map((m) => m.sequenceNumber)).toEqual([1, 2, 3]);
      const second = await manager().listMessages(conversation.id, { limit: 3, cursor: first.nextCursor });
      const third = await manager().listMessages(conversation.id, { limit: 3, cursor: second.nextCursor });
      expect(second.items.map((m) => m.sequenceNumber)).toEqual([4, 5, 6]);
      expect(third.items.map((m) => m.sequenceNumber)).toEqual([7]);
      expect(third.nextCursor).toBeNull();
      await expect(manager().listMessages(conversation.id, { cursor: "abc" })).rejects.toBeInstanceOf(InvalidCursorError);
    });

    test("a user's conversations page by recency without skipping or repeating", async () => {
      const userId = `u-list-${randomUUID()}`;
      const created = [];
      for (let i = 0; i < 5; i++) created.push(await manager().createConversation({ userId }));
      await manager().appendMessage(created[1]!.id, { role: "user", content: "bump" });
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: Awaited<ReturnType<ReturnType<typeof manager>["listConversations"]>> = await manager().listConversations(userId, { limit: 2, cursor });
        seen.push(...page.items.map((c) => c.id));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).toHaveLength(5);
      expect(new Set(seen).size).toBe(5);
      expect(seen[0]).toBe(created[1]!.id);
      expect((await manager().getLatestConversation(userId))?.id).toBe(created[1]!.id);
    });

    test("unknown and deleted conversations are NotFound; names are unique", async () => {
      await expect(manager().appendMessage(randomUUID(), { role: "user", content: "x" })).rejects.toBeInstanceOf(NotFoundError);
      const conversation = await manager().createConversation({ userId: "u-del", conversationId: `named-${randomUUID()}` });
      await expect(manager().createConversation({ userId: "u-other", conversationId: conversation.conversationId })).rejects.toBeInstanceOf(ConflictError);
      await manager().appendMessage(conversation.id, { role: "user", content: "x" });
      await manager().deleteConversation(conversation.id);
      expect(await manager().getConversation(conversation.id)).toBeNull();
      await expect(manager().deleteConversation(conversation.id)).rejects.toBeInstanceOf(NotFoundError);
      expect((await manager().listMessages(conversation.id)).items).toEqual([]);
    });

    test("invalid input is refused before anything is written", async () => {
      const conversation = await manager().createConversation({ userId: "u-bad" });
      // @ts-expect-error role is checked at run time too
      await expect(manager().appendMessage(conversation.id, { role: "robot", content: "x" })).rejects.toThrow();
      await expect(manager().createConversation({ userId: "" })).rejects.toThrow();
      expect((await manager().getConversation(conversation.id))?.messageCount).toBe(0);
    });
  });
}
