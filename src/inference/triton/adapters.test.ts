/**
 * Morgan's stage adapters against the real Triton CPU models (TRITON_URL, started by scripts/test.sh).
 * Cancellation is checked where it matters: in the Triton model's own log (TRITON_LOG_FILE).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { pcmChunks, silence, speak, wordErrorRate } from "../../../tests/pipeline/support/speech";
import { SPEECH_SET } from "../../../tests/pipeline/support/speech-set";
import { pcm16ToFloat32 } from "../../audio/pcm";
import { chatTemplate } from "../../pipeline/text/chat-template";
import { modelServers, tritonModels } from "./index";

const url = process.env.TRITON_URL ?? "127.0.0.1:8101";
// One endpoint, not probed: the pool then sends every request to it, as a single client would.
const servers = modelServers([url], { healthIntervalMs: 1000, healthTimeoutMs: 1000 });
const client = servers.primary;
const models = tritonModels(servers, { vad: "vad", stt: "stt", turn: "turn", llm: "llm", tts: "tts" }, 30_000);
afterAll(() => servers.close());

function tritonLog(): Promise<string> {
  const path = process.env.TRITON_LOG_FILE;
  if (!path) throw new Error("TRITON_LOG_FILE must name the running Triton's log (scripts/test.sh sets it)");
  return Bun.file(path).text();
}

const countOf = (text: string, needle: string) => text.split(needle).length - 1;
const VOICE = "en_US-joe-medium";

/** Waits up to 5 s for a condition the model's log reports a little after the call returns. */
async function eventually(condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("the condition did not hold within 5 s");
    await Bun.sleep(100);
  }
}

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

describe("STT accuracy", () => {
  test("word error rate over the two-voice speech set (Piper and espeak-ng) stays within 8%", async () => {
    let errors = 0;
    let words = 0;
    for (const { text, voice } of SPEECH_SET) {
      const stream = models.stt.open({ language: "en", onPartial: () => {} });
      for (const chunk of pcmChunks(new Float32Array([...silence(200), ...speak(text, voice), ...silence(300)]), 200)) stream.push(pcm16ToFloat32(chunk));
      const { text: heard } = await stream.finish();
      const count = text.split(" ").length;
      errors += wordErrorRate(text, heard) * count;
      words += count;
    }
    console.info(`STT word error rate over ${SPEECH_SET.length} utterances: ${((100 * errors) / words).toFixed(1)}%`);
    expect(errors / words).toBeLessThanOrEqual(0.08);
  }, 120_000);
});

describe("turn model", () => {
  test("a finished question scores higher than the same words cut off mid-phrase", async () => {
    const finished = await models.turn.predict(new Float32Array([...speak("What is the capital of France?"), ...silence(200)]));
    const cutOff = await models.turn.predict(new Float32Array([...speak("What is the capital of"), ...silence(200)]));
    expect(finished).toBeGreaterThan(0.5);
    expect(finished).toBeGreaterThan(cutOff);
  });

  test("the text check scores a sentence cut at a pause far below the whole sentence", async () => {
    const half = await models.turn.predictText("Set a timer for");
    const whole = await models.turn.predictText("Set a timer for ten minutes.");
    expect(half).not.toBeNull();
    expect(half!).toBeLessThan(0.05);
    expect(whole!).toBeGreaterThanOrEqual(0.05);
  });
});

describe("LLM", () => {
  const chatml = chatTemplate("chatml");
  const ask = (question: string) => chatml.format([{ role: "user", content: question }]);

  test("streams several deltas, repeats a confident greedy answer, and stops at the template's end of turn", async () => {
    const run = async () => {
      const deltas: string[] = [];
      const request = { prompt: ask("What is the capital of France?"), maxTokens: 40, temperature: 0, stop: [...chatml.stop] };
      for await (const d of models.llm.stream(request)) deltas.push(d);
      return deltas;
    };
    const [a, b] = [await run(), await run()];
    expect(a.length).toBeGreaterThan(3);
    expect(b).toEqual(a);
    expect(a.join("")).not.toContain("<|im_");
  });

  test("answers a factual question", async () => {
    let text = "";
    for await (const d of models.llm.stream({ prompt: ask("What is the capital of France?"), maxTokens: 40, temperature: 0, stop: [...chatml.stop] })) text += d;
    expect(text).toMatch(/Paris/);
  });

  test("aborting a generation stops it at the model, and no delta arrives after the abort", async () => {
    const before = countOf(await tritonLog(), "llm: request cancelled by the client");
    const controller = new AbortController();
    const afterAbort: string[] = [];
    const consume = async () => {
      const request = { prompt: ask("Tell me a very long story about everything."), maxTokens: 1000, temperature: 1, repetitionPenalty: 1.2 };
      for await (const delta of models.llm.stream(request, controller.signal)) {
        if (controller.signal.aborted) afterAbort.push(delta);
        controller.abort();
      }
    };
    await expect(consume()).rejects.toThrow(/closed by the caller|aborted/);
    expect(afterAbort).toEqual([]);
    await eventually(async () => countOf(await tritonLog(), "llm: request cancelled by the client") > before);
  });
});

describe("TTS", () => {
  test("streams a chunk per sentence", async () => {
    const chunks = [];
    for await (const chunk of models.tts.synthesize({ text: "One. Two sentences here. And three.", voice: VOICE, speed: 1 })) chunks.push(chunk);
    expect(chunks.length).toBe(3);
    for (const chunk of chunks) expect(chunk.sampleRate).toBe(22050);
  });

  test("lists the installed Piper voices from the model's configuration", async () => {
    expect(await models.tts.voices()).toEqual([VOICE]);
  });

  test("an unknown voice fails with the installed voices named", async () => {
    const consume = async () => {
      for await (const _ of models.tts.synthesize({ text: "Hello.", voice: "kal", speed: 1 })) {
        // nothing arrives
      }
    };
    await expect(consume()).rejects.toThrow(/unknown voice 'kal'; installed voices: en_US-joe-medium/);
  });

  test("aborting a synthesis cancels it at Triton", async () => {
    const before = countOf(await tritonLog(), "tts: request cancelled by the client");
    const controller = new AbortController();
    const text = Array.from({ length: 40 }, (_, i) => `This is sentence number ${i} of a long text.`).join(" ");
    const consume = async () => {
      for await (const _ of models.tts.synthesize({ text, voice: VOICE, speed: 1 }, controller.signal)) controller.abort();
    };
    await expect(consume()).rejects.toThrow(/closed by the caller|aborted/);
    await eventually(async () => countOf(await tritonLog(), "tts: request cancelled by the client") > before);
  });
});
