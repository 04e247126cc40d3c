/**
 * The defects a hostile probe found (issue 12), each against the real server (PostgreSQL, Redis,
 * Triton): a test per defect that failed before its fix.
 */
import { describe, expect, test } from "bun:test";
import { CLOSE_CODES } from "../../src/protocol/messages";
import { TestClient } from "../pipeline/support/client";
import { useServer } from "../pipeline/support/server";

const server = useServer();
const SHORT = { max_response_tokens: 8 };

async function startSession(data: Record<string, unknown> = SHORT) {
  const client = await TestClient.connect(`${server.wsUrl}/ws/stream`);
  client.send({ type: "start", data });
  const started = await client.next("session_started", { timeoutMs: 30_000 });
  return { client, started };
}

describe("defect 1: a socket closed while start is awaited", () => {
  test("leaves no session behind: every such session is ended at once, none stays active", async () => {
    const sessions = 20;
    const clients = await Promise.all(Array.from({ length: sessions }, () => TestClient.connect(`${server.wsUrl}/ws/stream`)));
    for (const client of clients) {
      client.send({ type: "start", data: { user_id: "leaky" } });
      client.close();
    }
    // Each start created its row; none may stay active (before the fix all stayed active until shutdown).
    const deadline = Date.now() + 15_000;
    let rows: { status: string }[] = [];
    for (;;) {
      rows = await server.sql<{ status: string }[]>`SELECT status FROM streaming_sessions WHERE user_id = 'leaky'`;
      if (rows.length > 0 && rows.every((r) => r.status !== "active")) break;
      if (Date.now() > deadline) break;
      await Bun.sleep(200);
    }
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.filter((r) => r.status === "active")).toEqual([]);
    // Nor in memory: the server's gauge of live sessions has none of them.
    const metrics = await fetch(`${server.url}/metrics`).then((r) => r.text());
    const live = Number(/^morgan_active_sessions (\d+)/m.exec(metrics)?.[1] ?? Number.NaN);
    expect(live).toBe(0);
  }, 60_000);
});

describe("defect 3: stop behind queued audio", () => {
  test("stop drops the queued audio and answers within a second; a ping meanwhile is answered", async () => {
    const { client } = await startSession();
    // Two seconds of audio sent at once, far faster than real time.
    const chunk = new Uint8Array(640);
    for (let i = 0; i < chunk.length; i += 2) chunk[i + 1] = (i * 37) % 200;
    for (let i = 0; i < 100; i++) client.sendRaw(chunk);
    const from = client.received.length;
    client.send({ type: "ping", data: { timestamp: 7 } });
    const sent = performance.now();
    client.send({ type: "stop" });
    await client.next("pong", { from, timeoutMs: 1000 });
    await client.next("session_ended", { from, timeoutMs: 1500 });
    expect(performance.now() - sent).toBeLessThan(1000);
    expect((await client.closed()).code).toBe(CLOSE_CODES.normal);
  }, 30_000);
});

describe("defect 4: a NUL character", () => {
  test("is refused at the protocol boundary, and the session goes on", async () => {
    const { client } = await startSession();
    const from = client.received.length;
    client.sendRaw('{"type":"text","data":{"text":"en\\u0000"}}');
    const error = await client.next("error", { from });
    expect(error.data).toMatchObject({ code: "invalid_message", recoverable: true });
    expect(error.data.message).toMatch(/NUL/);
    expect(client.all("response_complete")).toEqual([]);
    client.send({ type: "ping", data: { timestamp: 1 } });
    await client.next("pong", { from });
    client.close();
  });

  test("in a language is refused at start", async () => {
    const client = await TestClient.connect(`${server.wsUrl}/ws/stream`);
    client.sendRaw('{"type":"start","data":{"language":"en\\u0000"}}');
    const error = await client.next("error");
    expect(error.data.code).toBe("invalid_message");
    expect(error.data.message).toMatch(/language/);
    client.close();
  });
});

describe("defect 7: the smaller ones", () => {
  test("ping before start is answered with pong (keep-alive belongs to the connection)", async () => {
    const client = await TestClient.connect(`${server.wsUrl}/ws/stream`);
    client.send({ type: "ping", data: { timestamp: 99 } });
    const pong = await client.next("pong");
    expect(pong).toMatchObject({ seq: 0, data: { timestamp: 99 } });
    expect(client.all("error")).toEqual([]);
    client.close();
  });

  test("an unknown type is named but not echoed in full", async () => {
    const client = await TestClient.connect(`${server.wsUrl}/ws/stream`);
    const type = "y".repeat(200_000);
    client.send({ type });
    const error = await client.next("error");
    expect(error.data.code).toBe("unknown_type");
    expect(error.data.message.length).toBeLessThan(400);
    client.close();
  });

  test("after its conversation is deleted, the session gets one clear error and ends", async () => {
    const { client, started } = await startSession({ ...SHORT, user_id: "deleter" });
    client.send({ type: "text", data: { text: "Hi" } });
    await client.next("response_complete", { timeoutMs: 60_000 });
    const deleted = await fetch(`${server.url}/v1/conversations/${started.data.conversation_id}?user_id=deleter`, { method: "DELETE" });
    expect(deleted.status).toBe(204);
    const from = client.received.length;
    client.send({ type: "text", data: { text: "Are you there?" } });
    const error = await client.next("error", { from, timeoutMs: 30_000 });
    expect(error.data).toMatchObject({ code: "conversation_deleted", recoverable: false });
    await client.next("session_ended", { from, timeoutMs: 5000 });
    expect((await client.closed()).code).toBe(CLOSE_CODES.normal);
    expect(client.received.slice(from).filter((m) => m.type === "error" && m.data.code === "inference_failed")).toEqual([]);
  }, 90_000);
});
