/**
 * morgan-client in Bun against a real Morgan (real WebSocket, Triton models, PostgreSQL, Redis):
 * resume across a real network cut, and `playback` reports that make `interrupted.heard_ms` exact.
 * Playback runs on a stand-in output clock (no sound card in Bun); the browser tests use Web Audio.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { MorganClient, type ServerMessage } from "../../packages/morgan-client/src/index";
import { FakeOutput } from "../../packages/morgan-client/src/testing/fake-output";
import { ReplyPlayer } from "../../packages/morgan-client/src/voice";
import { TcpProxy } from "../helpers/tcp-proxy";
import { type RunningServer, startServer } from "../pipeline/support/server";

let server: RunningServer;
beforeAll(async () => {
  server = await startServer({ env: { MORGAN_SYSTEM_PROMPT: "You are Morgan. Answer in at least four full sentences.", MORGAN_MAX_RESPONSE_TOKENS: "160" } });
}, 120_000);
afterAll(async () => {
  await server?.stop();
}, 60_000);

function collect(client: MorganClient): ServerMessage[] {
  const received: ServerMessage[] = [];
  client.on("message", (m) => received.push(m));
  return received;
}

test("a cut connection resumes with back-off: every message once, in order, the reply whole", async () => {
  const proxy = new TcpProxy("127.0.0.1", server.port).start();
  const client = new MorganClient({ url: `ws://127.0.0.1:${proxy.port}/ws/stream`, reconnect: { initialDelayMs: 100, maxDelayMs: 400 } });
  const received = collect(client);
  try {
    await client.start({ max_response_tokens: 160 });
    client.text("Tell me about rivers and the sea.");
    await client.once("response_text");
    proxy.cut();
    await client.once("state", (s) => s.state === "reconnecting");
    await Bun.sleep(800);
    proxy.restore();
    const complete = await Promise.race([client.once("response_complete"), Bun.sleep(60_000).then(() => undefined)]);
    expect(complete).toBeDefined();
    expect(client.stats.resumes).toBe(1);
    expect(client.stats.gaps).toBe(0);
    expect(received.map((m) => m.seq)).toEqual(received.map((_, i) => i + 1));
    const text = received.flatMap((m) => (m.type === "response_text" ? [m.data.text] : [])).join("");
    expect(text.trim()).toBe(complete!.data.text);
    await client.stop();
    expect(client.state).toBe("closed");
  } finally {
    client.close();
    proxy.stop();
  }
}, 120_000);

test("interrupt() reports the played position first, so the server stores exactly what was heard", async () => {
  const client = new MorganClient({ url: `${server.wsUrl}/ws/stream` });
  const output = new FakeOutput();
  const player = new ReplyPlayer(client, output, { jitterBufferMs: 0, reportEveryMs: 60_000 });
  try {
    await client.start({ max_response_tokens: 160 });
    client.text("Tell me a long story about a lighthouse keeper.");
    await client.once("response_audio", (m) => m.data.audio_data !== "");
    await Bun.sleep(1200);
    output.advance(730);
    const interrupted = client.once("interrupted");
    player.interrupt();
    const { data } = await interrupted;
    expect(data.reason).toBe("client");
    expect(data.heard_ms).toBe(730);
    expect(player.queue.playing).toBe(false);
    // The stored reply is what was heard, marked interrupted (stored just after the message is sent).
    let stored: { content: string; interrupted: boolean } | undefined;
    for (let i = 0; i < 50 && !stored; i++, await Bun.sleep(100)) {
      [stored] = await server.sql<{ content: string; interrupted: boolean }[]>`
        select content, interrupted from messages where conversation_id = ${client.session!.conversation_id} and role = 'assistant'`;
    }
    expect(stored).toEqual({ content: data.heard_text, interrupted: true });
    expect(data.heard_text.length).toBeGreaterThan(0);
  } finally {
    player.dispose();
    await client.stop();
  }
}, 120_000);
