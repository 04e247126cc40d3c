/** Per-session limits: idle clients and clients that do not read are closed with clear codes. */
import { expect, test } from "bun:test";
import { CLOSE_CODES } from "../../src/protocol/messages";
import { TestClient } from "./support/client";
import { join } from "node:path";
import { useServer } from "./support/server";

const server = useServer({
    env: {
      MORGAN_STREAM_TIMEOUT: "2",
      MORGAN_RESUME_WINDOW_S: "1",
      MORGAN_WS_MAX_BUFFERED_BYTES: String(64 * 1024),
      // No pacing, so replies arrive as fast as they are made and the backlog builds quickly.
      MORGAN_AUDIO_LEAD_MS: "60000",
    },
  });

test("a client that sends nothing for stream_timeout is closed with 4000 and its session ended", async () => {
  const client = await TestClient.connect(`${server.wsUrl}/ws/stream`);
  client.send({ type: "start" });
  const started = await client.next("session_started");
  const closed = await client.closed(10_000);
  expect(closed.code).toBe(CLOSE_CODES.idleTimeout);
  expect(closed.reason).toMatch(/no message for 2 s/);
  // After the resume window the session is ended and recorded as expired.
  await Bun.sleep(2000);
  const [row] = await server.sql`SELECT status, ended_at FROM streaming_sessions WHERE session_id = ${started.data.session_id}`;
  expect(row?.status).toBe("expired");
  expect(row?.ended_at).not.toBeNull();
});

test("a client that does not read is closed with 4001 once its backlog passes the limit", async () => {
  // A raw socket with a tiny receive window that stops reading: a real slow consumer.
  const script = join(import.meta.dir, "support/slow_reader.py");
  const python = join(import.meta.dir, "../../.venv/bin/python");
  const start = JSON.stringify({
    type: "start",
    data: { output_sample_rate: 48000, max_response_tokens: 200, system_prompt: "You are a storyteller. You tell long stories." },
  });
  const turn = JSON.stringify({ type: "text", data: { text: "Tell me a long story." } });
  // Pings keep the client from looking idle while it does not read a single byte of the reply.
  const ping = JSON.stringify({ type: "ping" });
  const child = Bun.spawn([python, script, String(server.port), "/ws/stream", start, turn, ping, "80"], { stdout: "pipe" });
  const outcome = JSON.parse(await new Response(child.stdout).text()) as { closed: boolean; close_code: number | null };
  expect(outcome.closed).toBe(true);
  // The close frame queues behind the very backlog that caused it, so the client may see a reset
  // instead; the server's own record of the close is the evidence.
  if (outcome.close_code !== null) expect(outcome.close_code).toBe(CLOSE_CODES.slowConsumer);
  expect(server.logs()).toMatch(/"code":4001,"reason":"client is not reading: send buffer over its limit"/);
}, 60_000);

test("the server still serves other clients afterwards", async () => {
  const client = await TestClient.connect(`${server.wsUrl}/ws/stream`);
  client.send({ type: "start" });
  await client.next("session_started");
  client.send({ type: "ping", data: { timestamp: 5 } });
  expect((await client.next("pong")).data.timestamp).toBe(5);
  client.close();
});
