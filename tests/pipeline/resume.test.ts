/** A dropped client resumes its session and gets every message it missed, once, in order. */
import { expect, test } from "bun:test";
import { CLOSE_CODES } from "../../src/protocol/messages";
import { TestClient } from "./support/client";
import { startServer, useServer } from "./support/server";

const server = useServer();

test("resume after a dropped socket replays what was missed, with no loss or duplicate", async () => {
  const first = await TestClient.connect(`${server.wsUrl}/ws/stream`);
  first.send({ type: "start", data: { max_response_tokens: 40 } });
  const started = await first.next("session_started");
  first.send({ type: "text", data: { text: "Tell me something about rivers." } });
  await first.next("response_text");
  first.close(4999);
  await first.closed();
  const lastSeq = first.received.at(-1)!.seq;

  const second = await TestClient.connect(`${server.wsUrl}/ws/stream`);
  second.send({
    type: "resume",
    data: { session_id: started.data.session_id, resume_token: started.data.resume_token, last_seq: lastSeq },
  });
  await second.next("response_complete", { timeoutMs: 30_000 });
  const resumed = await second.next("session_started", { where: (m) => m.data.resumed });
  expect(resumed.data.session_id).toBe(started.data.session_id);

  // The resumed notice takes the next number after the replay, like any other message.
  const all = [...first.received, ...second.received];
  const seqs = all.map((m) => m.seq);
  expect(new Set(seqs).size).toBe(seqs.length);
  const ordered = [...seqs].sort((a, b) => a - b);
  expect(ordered).toEqual(ordered.map((_, i) => i + 1));
  const text = all.filter((m) => m.type === "response_text").map((m) => (m.type === "response_text" ? m.data.text : "")).join("");
  const complete = second.all("response_complete")[0]!;
  expect(text.trim()).toBe(complete.data.text);
  second.close();
});

test("resume with a wrong token is refused and closes with 4002", async () => {
  const first = await TestClient.connect(`${server.wsUrl}/ws/stream`);
  first.send({ type: "start" });
  const started = await first.next("session_started");
  first.close();
  const second = await TestClient.connect(`${server.wsUrl}/ws/stream`);
  second.send({ type: "resume", data: { session_id: started.data.session_id, resume_token: "x".repeat(32), last_seq: 1 } });
  const error = await second.next("error");
  expect(error.data.code).toBe("resume_failed");
  expect(error.data.message).toMatch(/token does not match/);
  expect((await second.closed()).code).toBe(CLOSE_CODES.resumeFailed);
});

test("a session resumes on another server instance from the state in Redis", async () => {
  const other = await startServer({ databaseUrl: server.databaseUrl });
  try {
    const first = await TestClient.connect(`${server.wsUrl}/ws/stream`);
    first.send({ type: "start", data: { voice: "en_US-joe-medium", speed: 1.2 } });
    const started = await first.next("session_started");
    first.send({ type: "ping", data: { timestamp: 1 } });
    await first.next("pong");
    first.send({ type: "ping", data: { timestamp: 2 } });
    await first.next("pong", { where: (m) => m.data.timestamp === 2 });
    first.close();
    await first.closed();
    await Bun.sleep(200);
    const second = await TestClient.connect(`${other.wsUrl}/ws/stream`);
    second.send({ type: "resume", data: { session_id: started.data.session_id, resume_token: started.data.resume_token, last_seq: 2 } });
    const replayed = await second.next("pong");
    expect(replayed.data.timestamp).toBe(2);
    expect(replayed.seq).toBe(3);
    expect(second.received[0]).toBe(replayed);
    const resumed = await second.next("session_started");
    expect(resumed.data.resumed).toBe(true);
    second.send({ type: "text", data: { text: "Still with me?" } });
    await second.next("response_complete", { timeoutMs: 30_000 });
    expect(second.all("response_complete")[0]!.seq).toBeGreaterThan(4);
    second.close();
  } finally {
    await other.stop();
  }
});
