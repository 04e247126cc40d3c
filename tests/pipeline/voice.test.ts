/**
 * End to end through a real WebSocket client, the real Morgan server, the real Triton CPU models,
 * PostgreSQL and Redis: a spoken question in, a spoken answer out.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { pcm16ToFloat32 } from "../../src/audio/pcm";
import { TestClient, streamAudio } from "./support/client";
import { useServer } from "./support/server";
import { pcmChunks, silence, speak, wordErrorRate } from "./support/speech";

const server = useServer();

async function startSession(path = "/ws/stream", data: Record<string, unknown> = {}) {
  const client = await TestClient.connect(`${server.wsUrl}${path}`);
  client.send({ type: "start", data: { language: "en", ...data } });
  const started = await client.next("session_started");
  return { client, started };
}

describe("a voice turn", () => {
  const question = "what is the weather like today";
  let client: TestClient;
  let sessionId: string;
  let conversationId: string;

  beforeAll(async () => {
    const session = await startSession("/ws/stream/alice");
    client = session.client;
    sessionId = session.started.data.session_id;
    conversationId = session.started.data.conversation_id;
    const audio = [silence(300), speak(question), silence(1200)];
    for (const part of audio) await streamAudio(client, pcmChunks(part));
    await client.next("response_complete", { timeoutMs: 30_000 });
  }, 60_000);

  test("reports speech starting and stopping", () => {
    const vad = client.all("vad_status").map((m) => m.data.speaking);
    expect(vad.slice(0, 2)).toEqual([true, false]);
  });

  test("sends partial transcripts, then a final one close to what was said", () => {
    const transcripts = client.all("transcription");
    const finals = transcripts.filter((t) => t.data.is_final);
    expect(transcripts.filter((t) => !t.data.is_final).length).toBeGreaterThan(0);
    expect(finals.length).toBe(1);
    expect(wordErrorRate(question, finals[0]!.data.text)).toBeLessThanOrEqual(0.25);
    expect(transcripts.indexOf(finals[0]!)).toBe(transcripts.length - 1);
  });

  test("streams the reply as text deltas and as audio that decodes to PCM", () => {
    const deltas = client.all("response_text").filter((m) => !m.data.is_final);
    expect(deltas.length).toBeGreaterThan(1);
    const audio = client.all("response_audio").filter((m) => !m.data.is_final);
    expect(audio.length).toBeGreaterThan(0);
    let samples = 0;
    for (const chunk of audio) {
      const pcm = Buffer.from(chunk.data.audio_data, "base64");
      expect(pcm.byteLength % 2).toBe(0);
      const floats = pcm16ToFloat32(new Uint8Array(pcm));
      samples += floats.length;
      expect(chunk.data.sample_rate).toBe(16000);
    }
    expect(samples / 16000).toBeGreaterThan(0.3);
    // Real speech, not silence.
    const loud = audio.some((c) => pcm16ToFloat32(new Uint8Array(Buffer.from(c.data.audio_data, "base64"))).some((s) => Math.abs(s) > 0.05));
    expect(loud).toBe(true);
  });

  test("completes with the full text and a latency report in stage order", () => {
    const complete = client.all("response_complete")[0]!;
    const deltas = client.all("response_text").map((m) => m.data.text).join("");
    expect(complete.data.text).toBe(deltas.trim());
    const l = complete.data.latency;
    for (const value of [l.stt_final_ms, l.llm_first_token_ms, l.first_sentence_ms, l.tts_first_chunk_ms, l.last_chunk_ms]) {
      expect(value).not.toBeNull();
      expect(value!).toBeGreaterThanOrEqual(0);
    }
    expect(l.llm_first_token_ms!).toBeGreaterThanOrEqual(l.stt_final_ms!);
    expect(l.tts_first_chunk_ms!).toBeGreaterThanOrEqual(l.first_sentence_ms!);
    expect(l.last_chunk_ms!).toBeGreaterThanOrEqual(l.tts_first_chunk_ms!);
    // Measured from the last voiced audio: the endpointing wait comes first (at least the first pause
    // of 200 ms, streamed in real time; at most the 2 s maximum wait), and everything else after it.
    expect(l.endpointing_ms!).toBeGreaterThan(150);
    expect(l.endpointing_ms!).toBeLessThan(2600);
    expect(l.stt_final_ms!).toBeGreaterThanOrEqual(l.endpointing_ms!);
  });

  test("numbers every server message without gaps", () => {
    const seqs = client.received.map((m) => m.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  });

  test("stores rows in all five tables", async () => {
    const { sql } = server;
    const [conversation] = await sql`SELECT user_id, message_count FROM conversations WHERE id = ${conversationId}`;
    expect(conversation?.user_id).toBe("alice");
    const messages = await sql`SELECT role, content, sequence_number, tokens_used, processing_time_ms FROM messages WHERE conversation_id = ${conversationId} ORDER BY sequence_number`;
    expect(messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(messages.map((m) => m.sequence_number)).toEqual([1, 2]);
    expect(messages[1]!.tokens_used).toBeGreaterThan(0);
    expect(messages[1]!.processing_time_ms).toBeGreaterThan(0);
    const [session] = await sql`SELECT status, session_type FROM streaming_sessions WHERE session_id = ${sessionId}`;
    expect(session?.session_type).toBe("voice");
    const [transcription] = await sql`SELECT transcription, language, confidence, duration_ms FROM audio_transcriptions`;
    expect(transcription?.language).toBe("en");
    expect(transcription?.duration_ms).toBeGreaterThan(500);
    expect(transcription?.transcription).toBe(messages[0]!.content);
    const tts = await sql`SELECT voice, speed, audio_format, sample_rate, duration_ms FROM tts_generations`;
    expect(tts.length).toBeGreaterThan(0);
    expect(tts[0]!.audio_format).toBe("pcm_s16le");
  });

  test("stop ends the session with its duration and records it", async () => {
    const from = client.received.length;
    client.send({ type: "stop" });
    const ended = await client.next("session_ended", { from });
    expect(ended.data.duration).toBeGreaterThan(1);
    expect((await client.closed()).code).toBe(1000);
    const [row] = await server.sql`SELECT status, ended_at FROM streaming_sessions WHERE session_id = ${sessionId}`;
    expect(row?.ended_at).not.toBeNull();
  });
});

describe("text turns", () => {
  test("a text turn runs LLM → TTS, and the same reply in another session is served from the TTS cache", async () => {
    const ask = async () => {
      const { client } = await startSession("/ws/audio", { temperature: 0, max_response_tokens: 30 });
      // A confident greedy answer, the same in both sessions (see http.test.ts on prefix reuse).
      client.send({ type: "text", data: { text: "What is 2+2?" } });
      const done = await client.next("response_complete", { timeoutMs: 30_000 });
      client.close();
      return done;
    };
    const first = await ask();
    expect(first.data.text.length).toBeGreaterThan(0);
    expect(first.data.latency.stt_final_ms).toBeNull();
    expect(first.data.latency.llm_first_token_ms).not.toBeNull();
    expect(first.data.cached_audio).toBe(false);
    const second = await ask();
    expect(second.data.text).toBe(first.data.text);
    expect(second.data.cached_audio).toBe(true);
  });

  test("answers factual questions with the fact (the default neural model and prompt)", async () => {
    const { client } = await startSession("/ws/stream", { temperature: 0 });
    const answer = async (text: string) => {
      const from = client.received.length;
      client.send({ type: "text", data: { text } });
      return (await client.next("response_complete", { from, timeoutMs: 30_000 })).data.text;
    };
    expect(await answer("What is 2+2?")).toMatch(/\b(4|four)\b/i);
    expect(await answer("What's the capital of France?")).toMatch(/Paris/);
    client.close();
  });

  test("an unknown voice is refused at start and at config, naming the installed voices", async () => {
    const client = await TestClient.connect(`${server.wsUrl}/ws/stream`);
    client.send({ type: "start", data: { voice: "kal" } });
    const refused = await client.next("error");
    expect(refused.data.message).toMatch(/start: voice: unknown voice "kal"; installed voices: en_US-joe-medium/);
    client.send({ type: "start", data: { voice: "en_US-joe-medium" } });
    await client.next("session_started");
    client.send({ type: "config", data: { voice: "nobody" } });
    expect((await client.next("error", { where: (m) => /config: voice/.test(m.data.message) })).data.code).toBe("invalid_message");
    client.close();
  });

  test("the conversation continues across sessions with conversation_id", async () => {
    const one = await startSession("/ws/stream", { user_id: "bob" });
    one.client.send({ type: "text", data: { text: "Hello there." } });
    await one.client.next("response_complete", { timeoutMs: 30_000 });
    one.client.close();
    const conversationId = one.started.data.conversation_id;
    const two = await startSession("/ws/stream", { user_id: "bob", conversation_id: conversationId });
    expect(two.started.data.conversation_id).toBe(conversationId);
    two.client.send({ type: "text", data: { text: "And again." } });
    await two.client.next("response_complete", { timeoutMs: 30_000 });
    const rows = await server.sql`SELECT sequence_number FROM messages WHERE conversation_id = ${conversationId} ORDER BY sequence_number`;
    expect(rows.map((r) => r.sequence_number)).toEqual([1, 2, 3, 4]);
    two.client.close();
  });

  test("two sessions at once each get only their own replies", async () => {
    const a = await startSession("/ws/stream", { user_id: "carol", max_response_tokens: 30 });
    const b = await startSession("/ws/stream", { user_id: "dave", max_response_tokens: 30 });
    a.client.send({ type: "text", data: { text: "Tell me a story about ships." } });
    b.client.send({ type: "text", data: { text: "What time is it in Paris?" } });
    const [doneA, doneB] = await Promise.all([
      a.client.next("response_complete", { timeoutMs: 30_000 }),
      b.client.next("response_complete", { timeoutMs: 30_000 }),
    ]);
    const turnsA = new Set(a.client.all("response_text").map((m) => m.data.turn_id));
    const turnsB = new Set(b.client.all("response_text").map((m) => m.data.turn_id));
    expect([...turnsA]).toEqual([doneA.data.turn_id]);
    expect([...turnsB]).toEqual([doneB.data.turn_id]);
    expect(a.started.data.session_id).not.toBe(b.started.data.session_id);
    const users = await server.sql`SELECT user_id FROM conversations WHERE id IN (${a.started.data.conversation_id}, ${b.started.data.conversation_id}) ORDER BY user_id`;
    expect(users.map((u) => u.user_id)).toEqual(["carol", "dave"]);
    a.client.close();
    b.client.close();
  });

  test("binary audio frames work like base64 audio", async () => {
    const { client } = await startSession();
    for (const part of [silence(200), speak("hello how are you"), silence(1200)]) await streamAudio(client, pcmChunks(part), 20, true);
    const final = await client.next("transcription", { where: (m) => m.data.is_final, timeoutMs: 20_000 });
    expect(wordErrorRate("hello how are you", final.data.text)).toBeLessThanOrEqual(0.5);
    await client.next("response_complete", { timeoutMs: 30_000 });
    client.close();
  });
});

describe("barge-in", () => {
  // A long reply, so that there is time to speak over it (the default prompt asks for one sentence).
  const LONG_REPLY = { max_response_tokens: 400, system_prompt: "You are a storyteller. You tell long, detailed stories with many sentences." };

  test("a client interrupt stops the reply, reports what was heard and stores it truncated", async () => {
    const { client, started } = await startSession("/ws/stream", { ...LONG_REPLY, user_id: "erin" });
    client.send({ type: "text", data: { text: "Please tell me a very long story about the sea and the ships on it." } });
    const firstAudio = await client.next("response_audio", { timeoutMs: 30_000 });
    client.send({ type: "playback", data: { played_ms: 150 } });
    client.send({ type: "interrupt" });
    const interrupted = await client.next("interrupted", { timeoutMs: 10_000 });
    expect(interrupted.data.turn_id).toBe(firstAudio.data.turn_id);
    expect(interrupted.data.reason).toBe("client");
    expect(interrupted.data.heard_ms).toBeLessThanOrEqual(150);
    // Nothing more of that turn arrives once the interruption is acknowledged.
    const at = client.received.indexOf(interrupted);
    await Bun.sleep(500);
    const after = client.received.slice(at + 1).filter((m) => "turn_id" in m.data && m.data.turn_id === interrupted.data.turn_id);
    expect(after).toEqual([]);
    expect(client.all("response_complete")).toEqual([]);
    await Bun.sleep(200);
    const [reply] = await server.sql`SELECT content, interrupted, metadata FROM messages WHERE conversation_id = ${started.data.conversation_id} AND role = 'assistant'`;
    expect(reply?.interrupted).toBe(true);
    expect(reply?.content).toBe(interrupted.data.heard_text);
    expect(String(reply?.metadata?.full_text ?? "").length).toBeGreaterThan(reply!.content.length);
    client.close();
  });

  test("speaking over the reply interrupts it (barge-in by voice)", async () => {
    const { client } = await startSession("/ws/stream", { ...LONG_REPLY, echo_cancellation: true, vad: { barge_in_min_speech_ms: 200 } });
    client.send({ type: "text", data: { text: "Tell me a long story about mountains and rivers." } });
    await client.next("response_audio", { timeoutMs: 30_000 });
    await streamAudio(client, pcmChunks(speak("stop please stop")));
    const interrupted = await client.next("interrupted", { timeoutMs: 10_000 });
    expect(interrupted.data.reason).toBe("barge_in");
    client.close();
  });

  test("without echo cancellation, short speech during the reply neither interrupts nor starts a turn; with it, the same speech barges in", async () => {
    const short = new Float32Array([...speak("okay"), ...silence(800)]);
    const speakOver = async (echoCancellation: boolean) => {
      const { client } = await startSession("/ws/stream", {
        ...LONG_REPLY,
        // Long enough to speak over, short enough to finish within the wait below.
        max_response_tokens: 60,
        echo_cancellation: echoCancellation,
        vad: { barge_in_min_speech_ms: 200 },
      });
      client.send({ type: "text", data: { text: "Tell me a long story about mountains and rivers." } });
      await client.next("response_audio", { timeoutMs: 30_000 });
      await streamAudio(client, pcmChunks(short));
      return client;
    };
    const withoutAec = await speakOver(false);
    const complete = await withoutAec.next("response_complete", { timeoutMs: 30_000 });
    expect(withoutAec.all("interrupted")).toEqual([]);
    expect(withoutAec.all("response_complete").length).toBe(1);
    expect(new Set(withoutAec.all("response_text").map((m) => m.data.turn_id))).toEqual(new Set([complete.data.turn_id]));
    withoutAec.close();

    const withAec = await speakOver(true);
    expect((await withAec.next("interrupted", { timeoutMs: 10_000 })).data.reason).toBe("barge_in");
    withAec.close();
  });
});

describe("semantic end of turn (issue 11)", () => {
  test("a sentence paused mid-way is one turn: the words of the first half do not end it", async () => {
    // "set a timer for" sounds finished to Smart Turn on synthetic speech, but its words do not end a
    // sentence (the text check scores it 0.0004); the 900 ms pause is well under the 2 s maximum wait.
    // It needs a Triton serving this repository's turn model (with TRANSCRIPT): reload `turn` after updating.
    const { client } = await startSession("/ws/stream", { turn_detection: { mode: "semantic" } });
    const audio = [silence(300), speak("set a timer for"), silence(900), speak("ten minutes"), silence(2500)];
    for (const part of audio) await streamAudio(client, pcmChunks(part));
    await client.next("response_complete", { timeoutMs: 30_000 });
    const finals = client.all("transcription").filter((t) => t.data.is_final);
    expect(finals.length).toBe(1);
    expect(wordErrorRate("set a timer for ten minutes", finals[0]!.data.text)).toBeLessThanOrEqual(0.34);
    expect(client.all("vad_status").filter((m) => !m.data.speaking).length).toBe(1);
    client.close();
  }, 60_000);
});
