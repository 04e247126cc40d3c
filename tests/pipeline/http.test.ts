/** The LLM, TTS and STT HTTP and SSE endpoints, against the real models. */
import { describe, expect, test } from "bun:test";
import { decodeWav, encodeWav } from "../../src/audio/pcm";
import { useServer } from "./support/server";
import { silence, speak, wordErrorRate } from "./support/speech";

const server = useServer();

interface SseEvent {
  event: string;
  data: unknown;
}

async function readSse(response: Response, stopAfter?: number): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  const reader = response.body!.getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += new TextDecoder().decode(value);
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event && data) events.push({ event, data: JSON.parse(data) });
    }
    if (stopAfter !== undefined && events.length >= stopAfter) {
      await reader.cancel();
      break;
    }
  }
  return events;
}

const post = (path: string, body: unknown, init: RequestInit = {}) =>
  fetch(`${server.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body), ...init });

describe("LLM", () => {
  // Not a bit-exact repeat: a reused prompt prefix is evaluated in a smaller batch, whose last-bit
  // differences in the logits may change a later token of a long reply. A confident answer holds.
  test("POST /v1/llm/generate (and the seed's /generate) return the whole text with usage", async () => {
    const body = { messages: [{ role: "user", content: "What is 2+2?" }], max_tokens: 30, temperature: 0 };
    const [a, b] = await Promise.all([post("/v1/llm/generate", body), post("/generate", body)]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const replies = (await Promise.all([a.json(), b.json()])) as { text: string; usage: { completion_tokens: number } }[];
    for (const reply of replies) {
      expect(reply.text).toMatch(/\b(4|four)\b/i);
      expect(reply.usage.completion_tokens).toBeGreaterThan(1);
    }
  });

  test("POST /v1/llm/stream sends deltas then a final event with usage", async () => {
    for (const path of ["/v1/llm/stream", "/stream"]) {
      const response = await post(path, { prompt: "Tell me about cats.", max_tokens: 40, seed: 1 });
      expect(response.headers.get("content-type")).toContain("text/event-stream");
      const events = await readSse(response);
      const deltas = events.filter((e) => e.event === "delta").map((e) => (e.data as { text: string }).text);
      expect(deltas.length).toBeGreaterThan(1);
      const done = events.at(-1)!;
      expect(done.event).toBe("done");
      expect((done.data as { text: string }).text).toBe(deltas.join(""));
    }
  });

  test("bad bodies get 400 naming the field", async () => {
    const missing = await post("/v1/llm/generate", { max_tokens: 3 });
    expect(missing.status).toBe(400);
    const problem = (await missing.json()) as { error: string; problems: { field: string }[] };
    expect(problem.error).toBe("invalid_request");
    expect(problem.problems[0]!.field).toBe("prompt");
    const notJson = await fetch(`${server.url}/v1/llm/stream`, { method: "POST", body: "{" });
    expect(notJson.status).toBe(400);
    const tooMany = await post("/v1/llm/generate", { prompt: "x", max_tokens: 999_999 });
    expect(tooMany.status).toBe(400);
  });

  test("a client that disconnects mid-stream leaves the server healthy", async () => {
    const controller = new AbortController();
    const response = await post("/v1/llm/stream", { prompt: "Tell me a long story.", max_tokens: 400 }, { signal: controller.signal });
    const events = await readSse(response, 2);
    expect(events.length).toBeGreaterThanOrEqual(2);
    controller.abort();
    const again = await post("/v1/llm/generate", { prompt: "Hi!", max_tokens: 5 });
    expect(again.status).toBe(200);
  });

  test("a prompt is answered as a user message in the chat template; messages carry a conversation; raw skips the template", async () => {
    const asked = (await (await post("/v1/llm/generate", { prompt: "What is the capital of France?", temperature: 0, max_tokens: 40 })).json()) as { text: string };
    expect(asked.text).toMatch(/Paris/);
    const conversation = [
      { role: "system", content: "You are Morgan, a friendly voice assistant. Give short, correct answers." },
      { role: "user", content: "What is 2+2?" },
    ];
    const chatted = (await (await post("/v1/llm/generate", { messages: conversation, temperature: 0, max_tokens: 40 })).json()) as { text: string };
    expect(chatted.text).toMatch(/\b(4|four)\b/i);
    // Without the template the model merely continues the text.
    const raw = (await (await post("/v1/llm/generate", { prompt: "One, two, three,", raw: true, temperature: 0, max_tokens: 6 })).json()) as { text: string };
    expect(raw.text).toMatch(/four|4/i);
    const both = await post("/v1/llm/generate", { prompt: "x", messages: conversation });
    expect(both.status).toBe(400);
  });
});

describe("TTS", () => {
  test("POST /v1/tts/generate returns a WAV whose length grows with the text", async () => {
    const short = await post("/v1/tts/generate", { text: "Hello." });
    const long = await post("/v1/tts/generate", { text: "Hello. This is a much longer sentence for the synthesiser to speak aloud." });
    expect(short.headers.get("content-type")).toBe("audio/wav");
    const a = decodeWav(new Uint8Array(await short.arrayBuffer()));
    const b = decodeWav(new Uint8Array(await long.arrayBuffer()));
    expect(a.samples.length).toBeGreaterThan(a.sampleRate * 0.2);
    expect(b.samples.length).toBeGreaterThan(a.samples.length * 2);
  });

  test("POST /v1/tts/generate/stream sends a chunk per sentence, then done", async () => {
    for (const path of ["/v1/tts/generate/stream", "/generate/stream"]) {
      const events = await readSse(await post(path, { text: "First sentence here. And a second one. And a third." }));
      const audio = events.filter((e) => e.event === "audio");
      expect(audio.length).toBeGreaterThanOrEqual(3);
      expect(events.at(-1)!.event).toBe("done");
    }
  });

  test("empty text is refused", async () => {
    expect((await post("/v1/tts/generate", { text: "   " })).status).toBe(400);
  });

  test("an unknown voice is refused with the installed voices named", async () => {
    const response = await post("/v1/tts/generate", { text: "Hello.", voice: "kal" });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { problems: { field: string; problem: string }[] };
    expect(body.problems[0]!.field).toBe("voice");
    expect(body.problems[0]!.problem).toMatch(/unknown voice "kal"; installed voices: en_US-joe-medium/);
  });

  test("Piper's 22,050 Hz speech is resampled to the asked rate", async () => {
    const wav = decodeWav(new Uint8Array(await (await post("/v1/tts/generate", { text: "Hello there.", sample_rate: 16000 })).arrayBuffer()));
    expect(wav.sampleRate).toBe(16000);
    const native = decodeWav(new Uint8Array(await (await post("/v1/tts/generate", { text: "Hello there." })).arrayBuffer()));
    expect(native.sampleRate).toBe(22050);
    // Two syntheses of one sentence differ a little in length (Piper samples phoneme durations).
    expect(wav.samples.length / 16000).toBeCloseTo(native.samples.length / 22050, 0);
  });
});

describe("STT", () => {
  test("POST /v1/stt/transcribe transcribes an uploaded WAV (raw body and multipart)", async () => {
    const said = "the quick brown fox jumps over the lazy dog";
    const wav = encodeWav(new Float32Array([...silence(200), ...speak(said, "espeak", 22050), ...silence(200)]), 22050);
    const raw = await fetch(`${server.url}/v1/stt/transcribe`, { method: "POST", headers: { "content-type": "audio/wav" }, body: wav });
    expect(raw.status).toBe(200);
    const json = (await raw.json()) as { text: string; duration_ms: number };
    expect(wordErrorRate(said, json.text)).toBeLessThanOrEqual(0.34);
    expect(json.duration_ms).toBeGreaterThan(1000);
    const form = new FormData();
    form.set("file", new Blob([wav], { type: "audio/wav" }), "speech.wav");
    const multipart = await fetch(`${server.url}/v1/stt/transcribe`, { method: "POST", body: form });
    expect(((await multipart.json()) as { text: string }).text).toBe(json.text);
  });

  test("a file that is not a WAV gets 400", async () => {
    const response = await fetch(`${server.url}/v1/stt/transcribe`, { method: "POST", body: "hello" });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toMatch(/audio: not a RIFF\/WAVE file/);
  });
});
