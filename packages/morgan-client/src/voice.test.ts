import { describe, expect, test } from "bun:test";
import { MorganClient } from "./client";
import { FakeNetwork, sessionStarted, TURN_ID, until } from "./testing/fake-socket";
import { FakeOutput } from "./testing/fake-output";
import { ReplyPlayer } from "./voice";

const OTHER_TURN = "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d";

function audio(seq: number, ms: number, turnId = TURN_ID, rate = 24000) {
  const bytes = new Uint8Array(((rate * ms) / 1000) * 2);
  return {
    type: "response_audio" as const,
    seq,
    data: { turn_id: turnId, audio_data: Buffer.from(bytes).toString("base64"), is_final: false, sample_rate: rate, format: "pcm_s16le" as const, duration_ms: ms },
  };
}

async function setUp() {
  const network = new FakeNetwork();
  const client = new MorganClient({ url: "ws://morgan.test/ws/stream", socket: network.factory });
  const starting = client.start();
  await until(() => network.sockets[0]?.messages().length === 1);
  network.last.deliver(sessionStarted(1));
  await starting;
  const output = new FakeOutput();
  const player = new ReplyPlayer(client, output, { jitterBufferMs: 0, reportEveryMs: 10 });
  return { network, client, output, player, socket: network.last };
}

describe("ReplyPlayer", () => {
  test("schedules response_audio at its sample rate and skips the empty final marker", async () => {
    const { socket, output, player } = await setUp();
    const scheduled: number[] = [];
    player.on("scheduled", (e) => scheduled.push(e.samples));
    socket.deliver(audio(2, 100));
    socket.deliver(audio(3, 100));
    socket.deliver({ ...audio(4, 0), data: { ...audio(4, 0).data, audio_data: "", is_final: true } });
    expect(scheduled).toEqual([2400, 2400]);
    expect(output.sounds.map((s) => s.sampleRate)).toEqual([24000, 24000]);
    player.dispose();
  });

  test("reports the played position while a reply plays, and stops after response_complete", async () => {
    const { socket, output, player } = await setUp();
    socket.deliver(audio(2, 500));
    output.advance(120);
    await until(() => socket.messages().some((m) => m.type === "playback"));
    expect(socket.messages().filter((m) => m.type === "playback").at(-1)).toEqual({ type: "playback", data: { played_ms: 120 } });
    socket.deliver({
      type: "response_complete",
      seq: 3,
      data: { turn_id: TURN_ID, text: "x", cached_audio: false, latency: { endpointing_ms: null, stt_final_ms: null, llm_first_token_ms: null, first_sentence_ms: null, tts_first_chunk_ms: null, last_chunk_ms: null } },
    });
    const reports = socket.messages().filter((m) => m.type === "playback").length;
    output.advance(100);
    await Bun.sleep(40);
    expect(socket.messages().filter((m) => m.type === "playback").length).toBe(reports);
    player.dispose();
  });

  test("interrupted silences the reply at once and drops its late audio", async () => {
    const { socket, output, player } = await setUp();
    const stopped: unknown[] = [];
    player.on("stopped", (e) => stopped.push(e));
    socket.deliver(audio(2, 400));
    socket.deliver(audio(3, 400));
    output.advance(300);
    socket.deliver({ type: "interrupted", seq: 4, data: { turn_id: TURN_ID, heard_text: "Hel", heard_ms: 300, reason: "barge_in" } });
    expect(output.sounds.every((s) => s.stoppedAt === 0.3)).toBe(true);
    expect(player.queue.playing).toBe(false);
    expect(stopped).toEqual([{ turnId: TURN_ID, playedMs: 300, by: "server" }]);
    socket.deliver(audio(5, 400));
    expect(output.sounds.length).toBe(2);
    // The next reply plays normally.
    socket.deliver(audio(6, 100, OTHER_TURN));
    expect(output.sounds.length).toBe(3);
    player.dispose();
  });

  test("interrupt() stops locally, reports what was heard, then asks the server to interrupt", async () => {
    const { socket, output, player } = await setUp();
    socket.deliver(audio(2, 1000));
    output.advance(420);
    player.interrupt();
    const sent = socket.messages().slice(-2);
    expect(sent).toEqual([{ type: "playback", data: { played_ms: 420 } }, { type: "interrupt" }]);
    expect(output.sounds[0]!.stoppedAt).toBe(0.42);
    player.dispose();
  });

  test("response_paused holds the reply, response_resumed plays it on, and positions count only what played", async () => {
    const { socket, output, player } = await setUp();
    socket.deliver(audio(2, 400));
    output.advance(100);
    socket.deliver({ type: "response_paused", seq: 3, data: { turn_id: TURN_ID } });
    expect(player.queue.paused).toBe(true);
    expect(output.sounds[0]!.stoppedAt).toBe(0.1);
    output.advance(800);
    expect(player.queue.playedMs(TURN_ID)).toBe(100);
    socket.deliver({ type: "response_resumed", seq: 4, data: { turn_id: TURN_ID } });
    expect(output.sounds.length).toBe(2);
    expect(output.sounds[1]!.samples).toBe(7200);
    output.advance(300);
    expect(player.queue.playedMs(TURN_ID)).toBe(400);
    player.dispose();
  });

  test("interrupted after a pause drops the held audio", async () => {
    const { socket, output, player } = await setUp();
    socket.deliver(audio(2, 400));
    output.advance(100);
    socket.deliver({ type: "response_paused", seq: 3, data: { turn_id: TURN_ID } });
    socket.deliver({ type: "interrupted", seq: 4, data: { turn_id: TURN_ID, heard_text: "", heard_ms: 100, reason: "barge_in" } });
    expect(player.queue.paused).toBe(false);
    expect(output.sounds.length).toBe(1);
    player.dispose();
  });
});
