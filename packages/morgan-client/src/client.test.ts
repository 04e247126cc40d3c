import { describe, expect, test } from "bun:test";
import { backoffDelay } from "./backoff";
import { type ConnectionState, MorganClient, SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX } from "./client";
import { FakeNetwork, SESSION_ID, sessionStarted, textDelta, TURN_ID, until } from "./testing/fake-socket";

const fastReconnect = { initialDelayMs: 5, maxDelayMs: 20, random: () => 0.5 };

async function startedClient(network = new FakeNetwork(), options: Partial<ConstructorParameters<typeof MorganClient>[0]> = {}) {
  const client = new MorganClient({ url: "ws://morgan.test/ws/stream", socket: network.factory, reconnect: fastReconnect, ...options });
  const states: ConnectionState[] = [];
  client.on("state", (s) => states.push(s.state));
  const starting = client.start({ language: "en" });
  await until(() => network.sockets[0]?.messages().length === 1);
  expect(network.last.messages()[0]).toEqual({ type: "start", data: { language: "en" } });
  network.last.deliver(sessionStarted(1));
  await starting;
  return { client, network, states };
}

describe("MorganClient", () => {
  test("starts a session and emits each server message as a typed event", async () => {
    const { client, network, states } = await startedClient();
    expect(client.state).toBe("connected");
    expect(states).toEqual(["connecting", "open", "starting", "connected"]);
    expect(client.session?.session_id).toBe(SESSION_ID);
    const texts: string[] = [];
    client.on("response_text", (m) => texts.push(m.data.text));
    network.last.deliver(textDelta(2, "Hello"));
    network.last.deliver(textDelta(3, " there"));
    expect(texts).toEqual(["Hello", " there"]);
    expect(client.lastSeq).toBe(3);
  });

  test("a frame outside the protocol is reported, not delivered", async () => {
    const { client, network } = await startedClient();
    const invalid: string[] = [];
    const delivered: string[] = [];
    client.on("invalid", (e) => invalid.push(e.problem));
    client.on("message", (m) => delivered.push(m.type));
    network.last.deliver("{nope");
    network.last.deliver(JSON.stringify({ type: "response_text", seq: 2, data: { text: 3 } }));
    expect(invalid[0]).toBe("not valid JSON");
    expect(invalid[1]).toMatch(/data\.turn_id|data\.text/);
    expect(delivered).toEqual([]);
    expect(client.lastSeq).toBe(1);
  });

  test("checks what it sends against the protocol and names the problem", async () => {
    const { client, network } = await startedClient();
    expect(() => client.text("")).toThrow(/text: data\.text/);
    expect(() => client.config({ vad: { threshold: 3 } })).toThrow(/data\.vad\.threshold/);
    client.text("What is the time?");
    expect(network.last.messages().at(-1)).toEqual({ type: "text", data: { text: "What is the time?" } });
  });

  test("audio goes out as binary frames", async () => {
    const { client, network } = await startedClient();
    const pcm = new Uint8Array([1, 0, 255, 255]);
    client.sendAudio(pcm);
    expect(network.last.sent.at(-1)).toBe(pcm);
  });

  test("a dropped connection resumes with the last seq; replayed duplicates are dropped; nothing is lost", async () => {
    const { client, network, states } = await startedClient();
    const seen: number[] = [];
    client.on("message", (m) => seen.push(m.seq));
    network.last.deliver(textDelta(2, "One"));
    network.last.deliver(textDelta(3, " two"));
    network.last.drop(1006);
    expect(client.state).toBe("reconnecting");
    // Sent while reconnecting: control messages wait for the resume, microphone audio is dropped.
    client.text("Are you there?");
    client.sendAudio(new Uint8Array(640));
    await until(() => network.sockets.length === 2 && network.last.messages().length === 1);
    const resume = network.last.messages()[0]!;
    expect(resume).toEqual({ type: "resume", data: { session_id: SESSION_ID, resume_token: "r".repeat(32), last_seq: 3 } });
    // The server replays from its log (overlapping what was already seen), then confirms.
    network.last.deliver(textDelta(3, " two"));
    network.last.deliver(textDelta(4, " three"));
    network.last.deliver(sessionStarted(5, true));
    await until(() => client.state === "connected");
    expect(seen).toEqual([2, 3, 4, 5]);
    expect(client.stats).toEqual({ duplicatesDropped: 1, gaps: 0, resumes: 1, audioDropped: 1 });
    expect(network.last.messages().at(-1)).toEqual({ type: "text", data: { text: "Are you there?" } });
    expect(states.slice(-2)).toEqual(["reconnecting", "connected"]);
  });

  test("going_away then 1001: resumes at once, without the back-off delay; a jump in seq at the resumed notice is no gap", async () => {
    const { client, network } = await startedClient(new FakeNetwork(), { reconnect: { initialDelayMs: 10_000, maxDelayMs: 10_000, random: () => 0.5 } });
    network.last.deliver(JSON.stringify({ type: "going_away", seq: 2, data: { session_id: SESSION_ID, resume_token: "r".repeat(32), deadline_ms: 5000 } }));
    network.last.drop(1001);
    expect(client.state).toBe("reconnecting");
    await until(() => network.sockets.length === 2 && network.last.messages().length === 1, 1000);
    expect(network.last.messages()[0]).toMatchObject({ type: "resume", data: { last_seq: 2 } });
    // Another instance took the session over: its numbers continue above the old owner's block.
    network.last.deliver(sessionStarted(1003, true));
    await until(() => client.state === "connected");
    expect(client.stats).toMatchObject({ gaps: 0, resumes: 1, duplicatesDropped: 0 });
    expect(client.lastSeq).toBe(1003);
  });

  test("keeps trying with back-off while the server cannot be reached", async () => {
    const { client, network } = await startedClient();
    let refusals = 2;
    network.onConnect = (socket) =>
      queueMicrotask(() => {
        if (refusals-- > 0) socket.fail();
        else socket.open();
      });
    network.last.drop(1006);
    await until(() => network.sockets.length === 4 && network.last.messages().length === 1);
    network.last.deliver(sessionStarted(2, true));
    await until(() => client.state === "connected");
    expect(client.stats.resumes).toBe(1);
  });

  test("a refused resume (4002) ends the client instead of retrying", async () => {
    const { client, network } = await startedClient();
    const reasons: string[] = [];
    client.on("state", (s) => reasons.push(`${s.state}: ${s.reason ?? ""}`));
    network.last.drop(1006);
    await until(() => network.sockets.length === 2 && network.last.messages().length === 1);
    network.last.deliver({ type: "error", seq: 0, data: { code: "resume_failed", message: "session expired", recoverable: false } });
    network.last.drop(4002, "resume failed");
    await until(() => client.state === "closed");
    expect(reasons.at(-1)).toMatch(/resume refused/);
    await Bun.sleep(50);
    expect(network.sockets.length).toBe(2);
  });

  test("gives up after giveUpAfterMs", async () => {
    const network = new FakeNetwork();
    const { client } = await startedClient(network, { reconnect: { ...fastReconnect, giveUpAfterMs: 40 } });
    network.onConnect = (socket) => queueMicrotask(() => socket.fail());
    network.last.drop(1006);
    await until(() => client.state === "closed");
  });

  test("stop ends the session without reconnecting", async () => {
    const { client, network } = await startedClient();
    const stopping = client.stop();
    expect(network.last.messages().at(-1)).toEqual({ type: "stop" });
    network.last.deliver({ type: "session_ended", seq: 2, data: { session_id: SESSION_ID, duration: 1 } });
    network.last.drop(1000, "session ended");
    await stopping;
    expect(client.state).toBe("closed");
    expect(network.sockets.length).toBe(1);
  });

  test("a start the server refuses rejects with its reason", async () => {
    const network = new FakeNetwork();
    const client = new MorganClient({ url: "ws://morgan.test/ws/stream", socket: network.factory });
    const starting = client.start();
    await until(() => network.sockets[0]?.messages().length === 1);
    network.last.deliver({ type: "error", seq: 0, data: { code: "invalid_message", message: "start: nope", recoverable: true } });
    await expect(starting).rejects.toThrow(/invalid_message: start: nope/);
  });

  test("a token travels as a subprotocol and is fetched again for each connection", async () => {
    let issued = 0;
    const network = new FakeNetwork();
    const { client } = await startedClient(network, { token: async () => `tok${++issued}` });
    expect(network.sockets[0]!.protocols).toEqual([SUBPROTOCOL, `${TOKEN_SUBPROTOCOL_PREFIX}tok1`]);
    network.last.drop(1006);
    await until(() => network.sockets.length === 2);
    expect(network.sockets[1]!.protocols).toEqual([SUBPROTOCOL, `${TOKEN_SUBPROTOCOL_PREFIX}tok2`]);
    client.close();
  });

  test("without a token no subprotocol is offered", async () => {
    const { network } = await startedClient();
    expect(network.sockets[0]!.protocols).toEqual([]);
  });

  test("turn ids stay typed through the events", async () => {
    const { client, network } = await startedClient();
    const ids: string[] = [];
    client.on("response_complete", (m) => ids.push(m.data.turn_id));
    network.last.deliver({
      type: "response_complete",
      seq: 2,
      data: {
        turn_id: TURN_ID,
        text: "Hi.",
        cached_audio: false,
        latency: { endpointing_ms: 500, stt_final_ms: 501, llm_first_token_ms: 502, first_sentence_ms: 503, tts_first_chunk_ms: 504, last_chunk_ms: 505 },
      },
    });
    expect(ids).toEqual([TURN_ID]);
  });
});

test("backoffDelay doubles to its ceiling, with jitter between half and all of it", () => {
  const options = { initialMs: 100, maxMs: 1000 };
  expect([0, 1, 2, 3, 4, 5].map((a) => backoffDelay(a, { ...options, random: () => 0.999999 }))).toEqual([100, 200, 400, 800, 1000, 1000]);
  expect(backoffDelay(2, { ...options, random: () => 0 })).toBe(200);
});
