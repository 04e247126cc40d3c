/**
 * Morgan's stage adapters against the real Triton CPU models (TRITON_URL, started by scripts/test.sh).
 * Cancellation is checked where it matters: in the Triton model's own log (TRITON_LOG_FILE).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { TritonClient } from "@triton-client";
import { pcmChunks, silence, speak, wordErrorRate } from "../../../tests/pipeline/support/speech";
import { pcm16ToFloat32 } from "../../audio/pcm";
import { tritonModels } from "./index";

const url = process.env.TRITON_URL ?? "127.0.0.1:8101";
const client = new TritonClient({ url });
const models = tritonModels(client, { vad: "vad", stt: "stt", llm: "llm", tts: "tts" }, 30_000);
afterAll(() => client.close());

function tritonLog(): Promise<string> {
  const path = process.env.TRITON_LOG_FILE;
  if (!path) throw new Error("TRITON_LOG_FILE must name the running Triton's log (scripts/test.sh sets it)");
  return Bun.file(path).text();
}

const countOf = (text: string, needle: string) => text.split(needle).length - 1;

test("Triton is reachable at TRITON_URL", async () => {
  expect(await client.serverReady({ deadlineMs: 5000 })).toBe(true);
});

describe("VAD", () => {
  test("speech scores high and silence low, frame by frame across chunks", async () => {
    const stream = models.vad.open();
    const speech = speak("hello there this is a test of speech");
    const probabilities: number[] = [];
    for (const chunk of pcmChunks(new Float32Array([...silence(500), ...speech]))) {
      for (const frame of await stream.push(pcm16ToFloat32(chunk))) probabilities.push(frame.probability);
    }
    await stream.close();
    const silenceFrames = probabilities.slice(0, 12);
    expect(Math.max(...silenceFrames)).toBeLessThan(0.3);
    expect(Math.max(...probabilities.slice(15))).toBeGreaterThan(0.8);
    // 20 ms chunks, 32 ms frames: the leftover samples carry over, so frames = total / 512.
    expect(probabilities.length).toBe(Math.floor((8000 + speech.length) / 512));
  });
});

describe("STT", () => {
  test("partials while audio arrives, then a final transcript", async () => {
    const partials: string[] = [];
    const stream = models.stt.open({ language: "en", onPartial: (t) => partials.push(t.text) });
    const said = "what is the weather like today";
    // Paced as a microphone sends, so partial hypotheses have time to come back.
    for (const chunk of pcmChunks(new Float32Array([...speak(said), ...silence(300)]))) {
      stream.push(pcm16ToFloat32(chunk));
      await Bun.sleep(20);
    }
    const final = await stream.finish();
    expect(final.isFinal).toBe(true);
    expect(wordErrorRate(said, final.text)).toBeLessThanOrEqual(0.2);
    expect(final.confidence).toBeGreaterThan(0);
    expect(partials.filter((p) => p !== "").length).toBeGreaterThan(0);
  });
});

describe("LLM", () => {
  test("streams several deltas, deterministic for a seed", async () => {
    const run = async () => {
      const deltas: string[] = [];
      for await (const d of models.llm.stream({ prompt: "User: hi\nAssistant:", maxTokens: 40, temperature: 0.9, seed: 3 })) deltas.push(d);
      return deltas;
    };
    const [a, b] = [await run(), await run()];
    expect(a.length).toBeGreaterThan(3);
    expect(b).toEqual(a);
  });

  // The CPU n-gram model writes a whole reply in a few milliseconds, too fast to catch mid-stream
  // reliably, so this checks the client side; the TTS test below proves the same mechanism (the
  // request's own gRPC stream closed → Triton cancels → the model stops) at the model.
  test("aborting a generation ends the stream at once, with no delta after the abort", async () => {
    const controller = new AbortController();
    const afterAbort: string[] = [];
    const consume = async () => {
      for await (const delta of models.llm.stream({ prompt: "User: tell me everything\nAssistant:", maxTokens: 4096, temperature: 1 }, controller.signal)) {
        if (controller.signal.aborted) afterAbort.push(delta);
        controller.abort();
      }
    };
    await expect(consume()).rejects.toThrow(/closed by the caller|aborted/);
    expect(afterAbort).toEqual([]);
  });
});

describe("TTS", () => {
  test("streams a chunk per sentence", async () => {
    const chunks = [];
    for await (const chunk of models.tts.synthesize({ text: "One. Two sentences here. And three.", voice: "kal", speed: 1 })) chunks.push(chunk);
    expect(chunks.length).toBe(3);
    for (const chunk of chunks) expect(chunk.sampleRate).toBeGreaterThan(7999);
  });

  test("aborting a synthesis cancels it at Triton", async () => {
    const before = countOf(await tritonLog(), "tts: request cancelled by the client");
    const controller = new AbortController();
    const text = Array.from({ length: 40 }, (_, i) => `This is sentence number ${i} of a long text.`).join(" ");
    const consume = async () => {
      for await (const _ of models.tts.synthesize({ text, voice: "slt", speed: 1 }, controller.signal)) controller.abort();
    };
    await expect(consume()).rejects.toThrow(/closed by the caller|aborted/);
    await Bun.sleep(500);
    expect(countOf(await tritonLog(), "tts: request cancelled by the client")).toBeGreaterThan(before);
  });
});
