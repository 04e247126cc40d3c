/**
 * The seed's streaming switches, end to end on real servers: MORGAN_STREAMING_ENABLED=false turns
 * the streaming endpoints off (WebSocket and SSE) while the one-shot routes keep serving;
 * MORGAN_REAL_TIME_PROCESSING=false transcribes an utterance when it ends (no partials). And
 * `start` with conversation_id "latest" continues the conversation the user used last.
 */
import { describe, expect, test } from "bun:test";
import { randomUUID } from "node:crypto";
import { TestClient, streamAudio } from "./support/client";
import { useServer } from "./support/server";
import { pcmChunks, silence, speak, wordErrorRate } from "./support/speech";

describe("streaming switched off", () => {
  const server = useServer({ env: { MORGAN_STREAMING_ENABLED: "false" } });

  test("WebSocket and streamed routes answer 503 streaming_disabled, naming the setting", async () => {
    for (const path of ["/ws/stream", "/ws/stream/alice", "/ws/audio"]) {
      const response = await fetch(`${server.url}${path}`, { headers: { upgrade: "websocket", connection: "upgrade", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==" } });
      expect(response.status).toBe(503);
      const body = (await response.json()) as { error: string; message: string };
      expect(body.error).toBe("streaming_disabled");
      expect(body.message).toContain("MORGAN_STREAMING_ENABLED");
    }
    const sse = await fetch(`${server.url}/v1/llm/stream`, { method: "POST", body: JSON.stringify({ prompt: "User: hi\nAssistant:" }), headers: { "content-type": "application/json" } });
    expect(sse.status).toBe(503);
  });

  test("the one-shot routes still serve", async () => {
    const response = await fetch(`${server.url}/v1/llm/generate`, {
      method: "POST",
      body: JSON.stringify({ prompt: "User: hi\nAssistant:", max_tokens: 8, seed: 1 }),
      headers: { "content-type": "application/json" },
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { text: string }).text.length).toBeGreaterThan(0);
  });
});

describe("real-time processing off", () => {
  const server = useServer({ env: { MORGAN_REAL_TIME_PROCESSING: "false" } });

  test("a spoken turn gets one final transcript and no partials, then its reply", async () => {
    const client = await TestClient.connect(`${server.wsUrl}/ws/stream/batch-user`);
    client.send({ type: "start", data: { language: "en" } });
    await client.next("session_started");
    const said = "what is the weather like today";
    for (const part of [silence(300), speak(said), silence(1200)]) await streamAudio(client, pcmChunks(part));
    await client.next("response_complete", { timeoutMs: 30_000 });
    const transcripts = client.all("transcription");
    expect(transcripts.map((t) => t.data.is_final)).toEqual([true]);
    expect(wordErrorRate(said, transcripts[0]!.data.text)).toBeLessThanOrEqual(0.25);
    client.close();
  }, 60_000);

  test('start with conversation_id "latest" continues the conversation the user used last', async () => {
    // Fresh users: the servers of earlier runs shared this Redis, and their pointers would name conversations gone with their databases.
    const [returning, stranger] = [`returning-${randomUUID()}`, `stranger-${randomUUID()}`];
    const first = await TestClient.connect(`${server.wsUrl}/ws/stream/${returning}`);
    first.send({ type: "start", data: { conversation_id: "latest" } });
    const opened = (await first.next("session_started")).data.conversation_id;
    first.send({ type: "text", data: { text: "remember the lighthouse" } });
    await first.next("response_complete", { timeoutMs: 20_000 });
    first.send({ type: "stop" });
    await first.closed();

    const again = await TestClient.connect(`${server.wsUrl}/ws/stream/${returning}`);
    again.send({ type: "start", data: { conversation_id: "latest" } });
    expect((await again.next("session_started")).data.conversation_id).toBe(opened);
    again.close();

    const other = await TestClient.connect(`${server.wsUrl}/ws/stream/${stranger}`);
    other.send({ type: "start", data: { conversation_id: "latest" } });
    expect((await other.next("session_started")).data.conversation_id).not.toBe(opened);
    other.close();
  }, 60_000);
});
