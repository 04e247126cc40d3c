/** Every kind of bad WebSocket input gets a clear error, and the session goes on where that is safe. */
import { beforeAll, describe, expect, test } from "bun:test";
import { CLOSE_CODES, type ErrorCode, LIMITS } from "../../src/protocol/messages";
import { TestClient } from "./support/client";
import { useServer } from "./support/server";

const server = useServer();

async function expectError(client: TestClient, send: () => void, code: ErrorCode, text: RegExp) {
  const from = client.received.length;
  send();
  const error = await client.next("error", { from, timeoutMs: 5000 });
  expect(error.data.code).toBe(code);
  expect(error.data.message).toMatch(text);
  return error;
}

describe("before start", () => {
  test("audio, text and binary frames before start are refused, and start still works", async () => {
    const client = await TestClient.connect(`${server.wsUrl}/ws/stream`);
    const e = await expectError(client, () => client.send({ type: "text", data: { text: "hi" } }), "not_started", /before start/);
    expect(e.seq).toBe(0);
    await expectError(client, () => client.sendRaw(new Uint8Array(640)), "not_started", /binary audio before start/);
    client.send({ type: "start" });
    await client.next("session_started");
    client.close();
  });
});

describe("within a session", () => {
  let client: TestClient;
  beforeAll(async () => {
    client = await TestClient.connect(`${server.wsUrl}/ws/stream`);
    client.send({ type: "start", data: {} });
    await client.next("session_started");
  }, 30_000);

  test("invalid JSON", () => expectError(client, () => client.sendRaw("{not json"), "invalid_json", /not valid JSON/));
  test("unknown type", () => expectError(client, () => client.send({ type: "shout", data: {} }), "unknown_type", /unknown message type "shout"/));
  test("missing field", () => expectError(client, () => client.send({ type: "text", data: {} }), "invalid_message", /text: data\.text: .*expected string/));
  test("wrong field type", () =>
    expectError(client, () => client.send({ type: "playback", data: { played_ms: "soon" } }), "invalid_message", /played_ms/));
  test("unexpected field", () =>
    expectError(client, () => client.send({ type: "text", data: { text: "x", admin: true } }), "invalid_message", /admin/));
  test("bad base64", () =>
    expectError(client, () => client.send({ type: "audio", data: { audio_data: "@@not base64@@" } }), "invalid_message", /audio_data/));
  test("audio of an odd byte length", () =>
    expectError(client, () => client.send({ type: "audio", data: { audio_data: Buffer.from([1, 2, 3]).toString("base64") } }), "invalid_audio", /even number of bytes/));
  test("an audio chunk over the limit", () =>
    expectError(client, () => client.sendRaw(new Uint8Array(LIMITS.maxAudioChunkBytes + 2)), "invalid_audio", /over the .*-byte limit/));
  test("oversized text", () =>
    expectError(client, () => client.send({ type: "text", data: { text: "a".repeat(LIMITS.maxTextChars + 1) } }), "invalid_message", /text/));
  test("a bad config value", () =>
    expectError(client, () => client.send({ type: "config", data: { vad: { threshold: 3 } } }), "invalid_message", /vad.threshold/));
  test("an unsupported sample rate", () =>
    expectError(client, () => client.send({ type: "config", data: { input_sample_rate: 12345 } }), "invalid_message", /sample rate must be one of/));
  test("a second start", () => expectError(client, () => client.send({ type: "start" }), "already_started", /already has a session/));
  test("the session still works after all that", async () => {
    const from = client.received.length;
    client.send({ type: "ping", data: { timestamp: 42 } });
    const pong = await client.next("pong", { from });
    expect(pong.data.timestamp).toBe(42);
    client.send({ type: "text", data: { text: "Are you still there?" } });
    await client.next("response_complete", { from, timeoutMs: 30_000 });
  });
});

describe("abuse", () => {
  test("a frame over the size limit closes the socket with 1009", async () => {
    const client = await TestClient.connect(`${server.wsUrl}/ws/stream`);
    client.sendRaw("x".repeat(LIMITS.maxFrameBytes + 1));
    expect((await client.closed()).code).toBe(CLOSE_CODES.messageTooBig);
  });

  test("a stream of invalid messages closes the socket with 1008", async () => {
    const client = await TestClient.connect(`${server.wsUrl}/ws/stream`);
    for (let i = 0; i <= LIMITS.maxConsecutiveErrors; i++) client.sendRaw("nope");
    expect((await client.closed()).code).toBe(CLOSE_CODES.policyViolation);
  });

  test("a conversation_id of another user is refused", async () => {
    const owner = await TestClient.connect(`${server.wsUrl}/ws/stream/frank`);
    owner.send({ type: "start" });
    const started = await owner.next("session_started");
    const intruder = await TestClient.connect(`${server.wsUrl}/ws/stream/mallory`);
    await expectError(
      intruder,
      () => intruder.send({ type: "start", data: { conversation_id: started.data.conversation_id } }),
      "invalid_message",
      /does not exist for user mallory/,
    );
    owner.close();
    intruder.close();
  });

  test("the server survives all of it", async () => {
    const health = await fetch(`${server.url}/live`);
    expect(health.status).toBe(200);
  });
});
