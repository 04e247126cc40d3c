import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomUUID } from "node:crypto";
import { openTestApp, type TestApp } from "../../../tests/helpers/app.ts";
import type { Backend } from "../../../tests/helpers/storage.ts";

interface Problem {
  field: string;
  problem: string;
}

async function expectBadRequest(response: Response, field: string): Promise<void> {
  expect(response.status).toBe(400);
  const body = (await response.json()) as { error: string; message: string; problems: Problem[] };
  expect(body.error).toBe("invalid_request");
  expect(body.problems.map((p) => p.field)).toContain(field);
  expect(body.message).toContain(field);
}

for (const backend of ["postgres", "pglite"] satisfies Backend[]) {
  describe(`/v1/conversations on ${backend}`, () => {
    let app: TestApp;
    const userId = `rest-user-${randomUUID()}`;
    let conversationIds: string[] = [];

    beforeAll(async () => {
      app = await openTestApp({ backend, redis: backend === "postgres" });
      const manager = app.storage.conversations;
      conversationIds = [];
      for (let i = 0; i < 3; i++) {
        const conversation = await manager.createConversation({ userId });
        conversationIds.push(conversation.id);
        for (let m = 1; m <= 5; m++) await manager.appendMessage(conversation.id, { role: m % 2 ? "user" : "assistant", content: `c${i} m${m}` });
      }
    });
    afterAll(async () => {
      await app?.close();
    });

    test("GET list pages through a user's conversations, newest first", async () => {
      const first = await app.request(`/v1/conversations?user_id=${userId}&limit=2`);
      expect(first.status).toBe(200);
      expect(first.headers.get("x-request-id")).toBeTruthy();
      const page1 = (await first.json()) as { items: { id: string; userId: string }[]; nextCursor: string };
      expect(page1.items.map((c) => c.id)).toEqual([conversationIds[2]!, conversationIds[1]!]);
      const page2 = (await (await app.request(`/v1/conversations?user_id=${userId}&limit=2&cursor=${page1.nextCursor}`)).json()) as {
        items: { id: string }[];
        nextCursor: string | null;
      };
      expect(page2.items.map((c) => c.id)).toEqual([conversationIds[0]!]);
      expect(page2.nextCursor).toBeNull();
    });

    test("GET list rejects an empty user_id, bad limit, unknown fields and forged cursors", async () => {
      await expectBadRequest(await app.request("/v1/conversations?user_id="), "user_id");
      await expectBadRequest(await app.request(`/v1/conversations?user_id=${userId}&limit=0`), "limit");
      await expectBadRequest(await app.request(`/v1/conversations?user_id=${userId}&limit=abc`), "limit");
      await expectBadRequest(await app.request(`/v1/conversations?user_id=${userId}&limit=101`), "limit");
      await expectBadRequest(await app.request(`/v1/conversations?user_id=${userId}&sort=asc`), "sort");
      await expectBadRequest(await app.request(`/v1/conversations?user_id=${userId}&cursor=bm9wZQ`), "cursor");
      const forged = Buffer.from(JSON.stringify(["'; drop table x; --", randomUUID()])).toString("base64url");
      await expectBadRequest(await app.request(`/v1/conversations?user_id=${userId}&cursor=${forged}`), "cursor");
    });

    test("GET one returns the conversation; unknown → 404; malformed id → 400", async () => {
      const ok = await app.request(`/v1/conversations/${conversationIds[0]}`);
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({ id: conversationIds[0], userId, messageCount: 5 });
      const missing = await app.request(`/v1/conversations/${randomUUID()}`);
      expect(missing.status).toBe(404);
      expect(((await missing.json()) as { error: string }).error).toBe("not_found");
      await expectBadRequest(await app.request("/v1/conversations/not-a-uuid"), "id");
    });

    test("GET messages pages by sequence number", async () => {
      const id = conversationIds[1]!;
      const first = (await (await app.request(`/v1/conversations/${id}/messages?limit=2`)).json()) as {
        items: { sequenceNumber: number; content: string }[];
        nextCursor: string;
      };
      expect(first.items.map((m) => m.sequenceNumber)).toEqual([1, 2]);
      expect(first.items[0]!.content).toBe("c1 m1");
      const rest = (await (await app.request(`/v1/conversations/${id}/messages?limit=10&cursor=${first.nextCursor}`)).json()) as {
        items: { sequenceNumber: number }[];
        nextCursor: string | null;
      };
      expect(rest.items.map((m) => m.sequenceNumber)).toEqual([3, 4, 5]);
      expect(rest.nextCursor).toBeNull();
    });

    test("GET messages: unknown conversation → 404, bad cursor or limit → 400", async () => {
      expect((await app.request(`/v1/conversations/${randomUUID()}/messages`)).status).toBe(404);
      await expectBadRequest(await app.request(`/v1/conversations/${conversationIds[0]}/messages?cursor=-1`), "cursor");
      await expectBadRequest(await app.request(`/v1/conversations/${conversationIds[0]}/messages?limit=1.5`), "limit");
      await expectBadRequest(await app.request("/v1/conversations/123/messages"), "id");
    });

    test("DELETE removes the conversation and its messages; a second DELETE is 404", async () => {
      const id = conversationIds[0]!;
      const deleted = await app.request(`/v1/conversations/${id}`, { method: "DELETE" });
      expect(deleted.status).toBe(204);
      expect((await app.request(`/v1/conversations/${id}`)).status).toBe(404);
      expect((await app.request(`/v1/conversations/${id}/messages`)).status).toBe(404);
      expect((await app.request(`/v1/conversations/${id}`, { method: "DELETE" })).status).toBe(404);
      await expectBadRequest(await app.request("/v1/conversations/xyz", { method: "DELETE" }), "id");
      const list = (await (await app.request(`/v1/conversations?user_id=${userId}`)).json()) as { items: { id: string }[] };
      expect(list.items.map((c) => c.id)).not.toContain(id);
    });

    test("unknown routes are a JSON 404 and oversized bodies a 413, never a 500", async () => {
      const unknown = await app.request("/v1/nothing");
      expect(unknown.status).toBe(404);
      expect(((await unknown.json()) as { error: string }).error).toBe("not_found");
      const big = await app.request(`/v1/conversations/${conversationIds[1]}`, {
        method: "DELETE",
        body: "x".repeat(app.config.server.bodyLimitBytes + 1),
        headers: { "content-type": "text/plain" },
      });
      expect(big.status).toBe(413);
    });

    test("a caller's sane X-Request-Id is echoed; an unsafe one is replaced", async () => {
      const echoed = await app.request("/live", { headers: { "X-Request-Id": "abc-123" } });
      expect(echoed.headers.get("x-request-id")).toBe("abc-123");
      const replaced = await app.request("/live", { headers: { "X-Request-Id": "bad id\twith spaces" } });
      expect(replaced.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    });
  });
}
